import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../../routes";
import { navItemsFor } from "../../layout/AppShell";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";

const SECRET = "kai_api_9f8e7d6c5b4a39281706f5e4d3c2b1a0";

describe("settings menu", () => {
  it("shows users and keys to admins only, the audit log to admins and analysts, the rest to all", () => {
    const paths = (role: "admin" | "marketer" | "analyst") =>
      navItemsFor(role)
        .map((i) => i.path)
        .filter((p) => p.startsWith("/settings"));
    const everyone = [
      "/settings/workspace",
      "/settings/channels",
      "/settings/topics",
      "/settings/messaging",
      "/settings/attributes",
      // lead management and CRM: not in a sales user's menu (they configure nothing)
      "/settings/leads",
      "/settings/crm",
    ];
    expect(paths("admin")).toEqual([...everyone, "/settings/users", "/settings/keys", "/settings/audit-log"]);
    expect(paths("analyst")).toEqual([...everyone, "/settings/audit-log"]);
    expect(paths("marketer")).toEqual(everyone);
    expect(navItemsFor("sales").map((i) => i.path)).not.toContain("/settings/leads");
  });
});

describe("API keys", () => {
  it("shows a new key once, in a modal with a copy button; closing it forgets the key", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      "GET /api/v1/keys": json(200, { data: [], next: null }),
      "POST /api/v1/keys": json(201, {
        id: 3,
        kind: "api",
        name: "CRM sync",
        prefix: SECRET.slice(0, 10),
        role: "marketer",
        created_at: "2026-03-01T00:00:00Z",
        last_used_at: null,
        revoked_at: null,
        key: SECRET,
      }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/keys" });
    expect(await screen.findByRole("heading", { level: 1, name: "API keys" })).toBeTruthy();
    const user = userEvent.setup();
    // After setup: user-event puts a clipboard of its own on navigator.
    const writeText = vi.spyOn(navigator.clipboard, "writeText");
    await user.type(screen.getByLabelText("Name"), "CRM sync");
    await user.click(screen.getByRole("button", { name: /Create key/ }));

    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByDisplayValue(SECRET)).toBeTruthy();
    expect(within(dialog).getByText(/cannot be shown again/)).toBeTruthy();
    await user.click(within(dialog).getByRole("button", { name: /Copy/ }));
    expect(writeText).toHaveBeenCalledWith(SECRET);
    expect(await within(dialog).findByText("Copied to the clipboard.")).toBeTruthy();

    const post = calls.find((c) => c.method === "POST");
    expect(JSON.parse(post?.body ?? "{}")).toEqual({ name: "CRM sync", kind: "api", role: "analyst" });

    await user.click(within(dialog).getByRole("button", { name: "I have copied it" }));
    await waitFor(() => expect(screen.queryByDisplayValue(SECRET)).toBeNull());
    expect(document.body.innerHTML).not.toContain(SECRET);
  });

  it("explains why the last API key cannot be revoked", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      "GET /api/v1/keys": json(200, {
        data: [
          {
            id: 1,
            kind: "api",
            name: "Ops",
            prefix: "kai_api_ab",
            role: "admin",
            created_at: "2026-03-01T00:00:00Z",
            last_used_at: null,
            revoked_at: null,
          },
        ],
        next: null,
      }),
      "DELETE /api/v1/keys/1": json(409, { code: "last_api_key", message: "last_api_key" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/keys" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Revoke Ops" }));
    await user.click(await screen.findByRole("button", { name: "Revoke" }));
    expect(await screen.findByText(/last API key/)).toBeTruthy();
  });
});

const users = {
  data: [
    {
      id: 1,
      email: "ana@example.com",
      name: "Ana",
      role: "admin",
      approver: false,
      created_at: "2026-03-01T00:00:00Z",
      disabled_at: null,
    },
    {
      id: 2,
      email: "bo@example.com",
      name: "Bo",
      role: "marketer",
      approver: true,
      created_at: "2026-03-02T00:00:00Z",
      disabled_at: null,
    },
  ],
  next: null,
};

describe("users and roles", () => {
  it("hides every edit control from a non-admin", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/users": json(200, users),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/users" });
    expect(await screen.findByText("bo@example.com")).toBeTruthy();
    expect(screen.getByRole("heading", { level: 1, name: "Users and roles" })).toBeTruthy();
    expect(screen.getByText("Marketer")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Add user/ })).toBeNull();
    expect(screen.queryByLabelText("Role of Bo")).toBeNull();
    expect(screen.queryByRole("switch")).toBeNull();
    expect(screen.queryByRole("button", { name: "Remove Bo" })).toBeNull();
  });

  it("lets an admin change a role and shows the last-admin refusal", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      "GET /api/v1/users": json(200, users),
      "DELETE /api/v1/users/1": json(409, { code: "last_admin", message: "last_admin" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/users" });
    expect(await screen.findByLabelText("Role of Bo")).toBeTruthy();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Remove Ana" }));
    await user.click(await screen.findByRole("button", { name: "Remove" }));
    expect(await screen.findByText("The workspace must keep at least one admin.")).toBeTruthy();
    expect(calls.some((c) => c.method === "DELETE" && c.url.pathname === "/api/v1/users/1")).toBe(true);
  });

  it("asks for a 12-character password and shows member_exists on the email", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      "GET /api/v1/users": json(200, users),
      "POST /api/v1/users": json(409, { code: "member_exists", message: "member_exists" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/users" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: /Add user/ }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText("Email"), "bo@example.com");
    await user.type(within(dialog).getByLabelText("Name"), "Bo");
    await user.type(within(dialog).getByLabelText("First password"), "short");
    await user.click(within(dialog).getByRole("button", { name: "Add user" }));
    expect(await within(dialog).findByText("At least 12 characters")).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    await user.clear(within(dialog).getByLabelText("First password"));
    await user.click(within(dialog).getByRole("button", { name: "Add user" }));
    expect(await within(dialog).findByText("This person is already a member of this workspace.")).toBeTruthy();
    const post = calls.find((c) => c.method === "POST");
    expect(JSON.parse(post?.body ?? "{}")).toEqual({
      email: "bo@example.com",
      name: "Bo",
      role: "marketer",
      approver: false,
      password: null,
    });
  });
});

const entry = (id: number, changes: Record<string, unknown> | null) => ({
  id,
  actor_type: "user",
  actor_id: 1,
  actor_label: "Ana <ana@example.com>",
  action: "PATCH /segments/{segment_id}",
  object_type: "segments",
  object_id: String(id),
  status_code: 200,
  changes,
  ip: "127.0.0.1",
  user_agent: null,
  created_at: "2026-03-01T00:00:00Z",
});

describe("audit log", () => {
  it("shows changes as before → after, as text, and pages to older entries with before", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/audit-log": (request) =>
        request.url.searchParams.get("before") === "41"
          ? json(200, { data: [entry(40, { description: [null, { a: 1 }] })], next: null })
          : json(200, { data: [entry(42, { name: ["Old <b>name</b>", "New"] }), entry(41, null)], next: "41" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/audit-log" });
    expect(await screen.findByRole("heading", { level: 1, name: "Audit log" })).toBeTruthy();
    const user = userEvent.setup();
    const expanders = await screen.findAllByRole("button", { name: /expand row/i });
    expect(expanders).toHaveLength(1); // the entry without changes has nothing to expand
    await user.click(expanders[0]!);
    const list = await screen.findByRole("list", { name: "Changed fields" });
    expect(list.querySelector("li")?.textContent?.replace(/\s+/g, " ")).toContain("name: Old <b>name</b> → New");
    expect(list.querySelector("b")).toBeNull();

    await user.click(screen.getByRole("button", { name: "Older entries" }));
    expect(await screen.findByText("#40")).toBeTruthy();
    const older = calls.find((c) => c.url.searchParams.get("before") === "41");
    expect(older?.url.pathname).toBe("/api/v1/audit-log");
    expect(await screen.findByText("No older entries")).toBeTruthy();
  });

  it("sends the filters", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      "GET /api/v1/audit-log": json(200, { data: [], next: null }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/audit-log" });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Object type"), "keys");
    await user.type(screen.getByLabelText("Action contains"), "DELETE");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(calls.some((c) => c.url.searchParams.get("object_type") === "keys")).toBe(true));
    const last = calls.filter((c) => c.url.pathname === "/api/v1/audit-log").at(-1);
    expect(last?.url.searchParams.get("action")).toBe("DELETE");
  });
});
