import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Role } from "../../../api/session";
import { json, mockFetch } from "../../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../../test/render";
import CrmSyncPanel from "./CrmSyncPanel";

const at = "2026-03-01T09:30:00Z";
const sync = {
  connections: [
    {
      connection_id: 3,
      connection_name: "HubSpot",
      provider: "hubspot",
      crm_id: "1001",
      status: "synced",
      attempts: 0,
      next_attempt_at: at,
      last_synced_at: at,
      last_error: null,
    },
    {
      connection_id: 4,
      connection_name: "Salesforce",
      provider: "salesforce",
      crm_id: null,
      status: "failed",
      attempts: 8,
      next_attempt_at: at,
      last_synced_at: null,
      last_error: "HTTP 400 Bad Request REQUIRED_FIELD_MISSING",
    },
  ],
  log: [
    { id: 9, connection_id: 3, direction: "pull", outcome: "deal", crm_id: "d-7", detail: "Demo deal: closedwon", created_at: at },
    { id: 8, connection_id: 3, direction: "push", outcome: "synced", crm_id: "1001", detail: null, created_at: at },
  ],
};

function server(role: Role) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/contacts/42/crm-sync": json(200, sync),
    "POST /api/v1/contacts/42/crm-sync": json(202, { queued: 1 }),
  });
}

describe("the contact's CRM panel", () => {
  it("shows each connection's record, status and error, the log, and syncs one connection now", async () => {
    const { calls } = server("marketer");
    renderWithProviders(<CrmSyncPanel contactId={42} />);
    expect((await screen.findAllByText("1001", {}, { timeout: 15_000 })).length).toBe(2);
    expect(screen.getAllByText("Synced").length).toBeGreaterThan(0);
    expect(screen.getByText("HTTP 400 Bad Request REQUIRED_FIELD_MISSING")).toBeTruthy();
    expect(screen.getByText("Not in the CRM yet")).toBeTruthy();
    expect(screen.getByText("Deal changed")).toBeTruthy();
    expect(screen.getByText("Demo deal: closedwon")).toBeTruthy();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Sync now to Salesforce" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(JSON.parse(calls.find((c) => c.method === "POST")?.body ?? "{}")).toEqual({ connection_id: 4 });
    expect(await screen.findByText(/Queued for 1 connections/)).toBeTruthy();
  }, 60_000);

  it("offers no sync action to analysts and sales users", async () => {
    server("analyst");
    renderWithProviders(<CrmSyncPanel contactId={42} />);
    expect((await screen.findAllByText("1001", {}, { timeout: 15_000 })).length).toBe(2);
    expect(screen.queryByRole("button", { name: /Sync now/ })).toBeNull();
  }, 60_000);
});
