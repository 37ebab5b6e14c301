import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import { AppRoutes } from "./routes";
import { json, mockFetch } from "./test/fetchMock";
import { renderWithProviders, sessionFor } from "./test/render";

describe("app", () => {
  it("sends a signed-out visitor to the login page", async () => {
    mockFetch({
      "GET /api/v1/session": json(401, { code: "unauthorized", message: "" }),
      "GET /api/v1/setup": json(200, { needed: false }),
    });
    renderWithProviders(<AppRoutes />, { path: "/contacts" });
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in to Kairos" })).toBeTruthy();
  });

  it("goes to the login page when a request answers 401 mid-session", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      "GET /api/v1/setup": json(200, { needed: false }),
      "GET /api/v1/contacts": json(401, { code: "unauthorized", message: "Session expired" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/contacts" });
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in to Kairos" })).toBeTruthy();
  });

  it("shows the contact list with the shell, and only pages that exist in the menu", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(
        200,
        sessionFor("marketer", {
          workspaces: [
            { id: 7, name: "Acme", role: "marketer", approver: false, sandbox: false, time_zone: "UTC" },
            { id: 8, name: "Acme test", role: "admin", approver: false, sandbox: true, time_zone: "UTC" },
          ],
        }),
      ),
      "GET /api/v1/contacts": json(200, {
        data: [
          {
            id: 5,
            external_id: "crm-5",
            email: "ana@example.com",
            phone: null,
            first_name: "Ana",
            last_name: "Li",
            timezone: null,
            locale: null,
            lifecycle_stage: "lead",
            score: 0,
            traits: {},
            tags: [],
            created_at: "2025-01-02T03:04:05Z",
            updated_at: "2025-01-02T03:04:05Z",
          },
        ],
        next: "abc",
      }),
    });
    renderWithProviders(<AppRoutes />, { path: "/contacts" });
    expect(await screen.findByRole("heading", { level: 1, name: "Contacts" })).toBeTruthy();
    expect(await screen.findByText("ana@example.com")).toBeTruthy();
    expect(screen.getAllByRole("menuitem").map((m) => m.textContent)).toEqual([
      "Dashboard",
      "Reports",
      "Contacts",
      "Segments",
      "Computed traits",
      "Tag rules",
      "Scoring",
      "Predictive models",
      "Accounts",
      "My leads",
      "Tasks",
      "Campaigns",
      "Calendar",
      "Broadcasts",
      "Journeys",
      "Templates",
      "Offers",
      "Forms",
      "Landing pages",
      "Workspace",
      "Channels",
      "Consent topics",
      "Messaging policy",
      "Attributes",
      "Lead management",
      "CRM",
    ]);
    expect(screen.getByRole("button", { name: "Next page" }).hasAttribute("disabled")).toBe(false);
    expect(screen.getByRole("button", { name: "Previous page" }).hasAttribute("disabled")).toBe(true);
    const list = calls.find((c) => c.url.pathname === "/api/v1/contacts");
    expect(list?.headers.get("X-Kairos-Workspace")).toBe("7");
  });
});
