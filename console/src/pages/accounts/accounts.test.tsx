import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ConfigProvider } from "antd";
import { Route, Routes } from "react-router";
import type { Role } from "../../api/session";
import { RequireSession } from "../../auth/SessionProvider";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import AccountPage from "./AccountPage";
import AccountsPage from "./AccountsPage";
import type { Account, AccountMember } from "./queries";

const at = "2026-03-01T10:00:00Z";
const engagement = { model: "engagement", model_name: "Engagement", sum: 35, max: 20, engaged: 2, engaged_threshold: 10 };

const acme: Account = {
  id: 4,
  external_id: "acme-1",
  name: "Acme Corp",
  domain: "acme.com",
  traits: { industry: "Education", employees: 420 },
  owner_user_id: 5,
  owner_email: "sam@example.com",
  member_count: 2,
  scores: [engagement],
  rolled_up_at: at,
  created_at: at,
  updated_at: at,
};
const globex: Account = { ...acme, id: 5, external_id: null, name: null, domain: "globex.com", owner_user_id: null, owner_email: null, member_count: 0, scores: [{ ...engagement, sum: 0, max: 0, engaged: 0 }] };

const ada: AccountMember = {
  id: 11,
  external_id: "ada",
  email: "ada@acme.com",
  first_name: "Ada",
  last_name: "Lovelace",
  lifecycle_stage: "MQL",
  score: 20,
  role: "CTO",
  source: "group",
  joined_at: at,
};
const bob: AccountMember = { ...ada, id: 12, external_id: null, email: "bob@acme.com", first_name: null, last_name: null, role: null, source: "api" };

function server(role: Role, extra: Parameters<typeof mockFetch>[0] = {}) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/accounts/4/contacts": json(200, { data: [ada, bob], next: null }),
    "GET /api/v1/accounts/4": json(200, acme),
    "GET /api/v1/accounts": (r) =>
      json(200, { data: r.url.searchParams.get("q") === "glo" ? [globex] : [acme, globex], next: null }),
    "GET /api/v1/lead-owners": json(200, { data: [{ id: 5, name: "Sam", email: "sam@example.com", role: "sales" }] }),
    ...extra,
  });
}

function renderAt(path: string, language: "en" | "zh-CN" = "en") {
  return renderWithProviders(
    <ConfigProvider virtual={false}>
      <RequireSession>
        <Routes>
          <Route path="/accounts" element={<AccountsPage />} />
          <Route path="/accounts/:id" element={<AccountPage />} />
        </Routes>
      </RequireSession>
    </ConfigProvider>,
    { path, language },
  );
}

describe("accounts pages", () => {
  it("lists accounts with members, owner and the score roll-up, and searches by name or domain", async () => {
    const { calls } = server("marketer");
    const user = userEvent.setup();
    renderAt("/accounts");
    const row = (await screen.findByRole("link", { name: "Acme Corp" }, { timeout: 30_000 })).closest("tr") as HTMLElement;
    expect(within(row).getByText("acme.com")).toBeTruthy();
    expect(within(row).getByText("sam@example.com")).toBeTruthy();
    expect(within(row).getByText("35")).toBeTruthy();
    expect(screen.getByRole("columnheader", { name: "Engagement (sum)" })).toBeTruthy();
    // an account without a name reads as its domain; without an owner, says so
    const other = screen.getByRole("link", { name: "globex.com" }).closest("tr") as HTMLElement;
    expect(within(other).getByText("No owner")).toBeTruthy();
    expect(screen.getByRole("heading", { level: 1, name: "Accounts" })).toBeTruthy();
    expect(screen.getByRole("button", { name: /New account/ })).toBeTruthy();
    await user.type(screen.getByRole("searchbox", { name: "Search accounts" }), "glo{Enter}");
    await waitFor(() => expect(screen.queryByRole("link", { name: "Acme Corp" })).toBeNull());
    expect(calls.some((c) => c.url.pathname === "/api/v1/accounts" && c.url.searchParams.get("q") === "glo")).toBe(true);
  });

  it("creates an account from the dialog", async () => {
    const created = { ...globex, id: 9, name: "Initech", domain: "initech.io" };
    const { calls } = server("marketer", {
      "POST /api/v1/accounts": json(201, created),
      "GET /api/v1/accounts/9/contacts": json(200, { data: [], next: null }),
      "GET /api/v1/accounts/9": json(200, created),
    });
    const user = userEvent.setup();
    renderAt("/accounts");
    await user.click(await screen.findByRole("button", { name: /New account/ }, { timeout: 30_000 }));
    await user.type(screen.getByLabelText("Name"), "Initech");
    await user.type(screen.getByLabelText("Domain"), "https://initech.io");
    await user.type(screen.getByLabelText("Traits (JSON)"), '{{"plan": "pro"}');
    await user.click(screen.getByRole("button", { name: "Create" }));
    await screen.findByRole("heading", { level: 1, name: "Initech" });
    const post = calls.find((c) => c.method === "POST");
    expect(JSON.parse(post?.body ?? "{}")).toEqual({ name: "Initech", domain: "https://initech.io", owner_user_id: null, traits: { plan: "pro" } });
  });

  it("shows an account's details, score roll-up and members, and removes a member", async () => {
    const { calls } = server("marketer", { "DELETE /api/v1/accounts/4/contacts/12": json(204, null) });
    const user = userEvent.setup();
    renderAt("/accounts/4");
    expect(await screen.findByRole("heading", { level: 1, name: "Acme Corp" }, { timeout: 30_000 })).toBeTruthy();
    expect(screen.getByText("Education")).toBeTruthy();
    const scores = screen.getByRole("heading", { name: "Scores" }).closest("section") as HTMLElement;
    const model = within(scores).getByText("Engagement").closest("tr") as HTMLElement;
    expect(within(model).getByText("35")).toBeTruthy();
    expect(within(model).getByText("≥ 10")).toBeTruthy();
    const members = screen.getByRole("heading", { name: "Members" }).closest("section") as HTMLElement;
    const adaRow = (await within(members).findByRole("link", { name: "Ada Lovelace" })).closest("tr") as HTMLElement;
    expect(within(adaRow).getByText("CTO")).toBeTruthy();
    expect(within(adaRow).getByText("Segment group call")).toBeTruthy();
    await user.click(within(members).getByRole("button", { name: "Remove bob@acme.com from the account" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.url.pathname === "/api/v1/accounts/4/contacts/12")).toBe(true));
  });

  it("adds a member by contact id with a role", async () => {
    const { calls } = server("admin", { "POST /api/v1/accounts/4/contacts": json(200, acme) });
    const user = userEvent.setup();
    renderAt("/accounts/4");
    await user.click(await screen.findByRole("button", { name: /Add contact/ }, { timeout: 30_000 }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText("Contact id"), "42");
    await user.type(within(dialog).getByLabelText("Role"), "Buyer");
    await user.click(within(dialog).getByRole("button", { name: /Add contact/ }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    const post = calls.find((c) => c.method === "POST");
    expect(JSON.parse(post?.body ?? "{}")).toEqual({ contacts: [{ contact_id: 42, role: "Buyer" }] });
  });

  it("hides edit controls from analysts, and speaks Chinese", async () => {
    server("analyst");
    renderAt("/accounts/4", "zh-CN");
    expect(await screen.findByRole("heading", { level: 1, name: "Acme Corp" }, { timeout: 30_000 })).toBeTruthy();
    expect(screen.getByRole("heading", { name: "成员" })).toBeTruthy();
    expect(await screen.findByText("Segment group 调用")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /编\s*辑/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /添加联系人/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /移出客户公司/ })).toBeNull();
  });

  it("says when an account does not exist", async () => {
    server("marketer", { "GET /api/v1/accounts/77": json(404, { code: "account_not_found", message: "account 77 not found" }) });
    renderAt("/accounts/77");
    expect(await screen.findByText("This account does not exist (it may have been deleted).", {}, { timeout: 30_000 })).toBeTruthy();
  });
});
