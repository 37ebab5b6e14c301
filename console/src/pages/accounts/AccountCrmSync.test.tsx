import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import type { Role } from "../../api/session";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import AccountCrmSync from "./AccountCrmSync";

const at = "2026-03-01T10:00:00Z";
const hubspot = {
  connection_id: 3,
  connection_name: "HubSpot",
  provider: "hubspot",
  crm_id: "9001",
  status: "synced",
  attempts: 0,
  next_attempt_at: at,
  last_synced_at: at,
  last_error: null,
};
const salesforce = {
  ...hubspot,
  connection_id: 4,
  connection_name: "Salesforce",
  provider: "salesforce",
  crm_id: null,
  status: "queued",
  attempts: 2,
  last_synced_at: null,
  last_error: "Salesforce 503: unavailable",
};
const log = [
  { id: 21, connection_id: 4, outcome: "retry", crm_id: null, detail: "Salesforce 503: unavailable", created_at: at },
  { id: 20, connection_id: 3, outcome: "synced", crm_id: "9001", detail: null, created_at: at },
];

function server(role: Role, sync: unknown) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/accounts/4/crm-sync": json(200, sync),
  });
}

describe("the account's CRM sync panel", () => {
  it("shows the account's record id, status and last error per connection, and its push log", async () => {
    server("marketer", { connections: [hubspot, salesforce], log });
    renderWithProviders(<AccountCrmSync accountId={4} />);
    const panel = await screen.findByRole("region", { name: "CRM sync" });
    // the record id in the connection's row and in the log
    expect(await within(panel).findAllByText("9001", { selector: "td code" })).toHaveLength(2);
    const rows = within(panel).getAllByRole("row");
    const hub = rows.find((r) => r.textContent?.includes("HubSpot") && r.textContent.includes("Synced"));
    expect(hub?.textContent).toContain("· HubSpot");
    const sf = rows.find((r) => r.textContent?.startsWith("Salesforce"));
    expect(sf?.textContent).toContain("Queued");
    expect(sf?.textContent).toContain("Salesforce 503: unavailable");
    expect(sf?.textContent).toContain("Attempt 2 failed; next try");
    expect(sf?.textContent).toContain("Not in the CRM yet");
    // the log names the connection and the outcome, latest first
    expect(within(panel).getByRole("heading", { name: "Sync log" })).toBeTruthy();
    expect(within(panel).getByText("Will retry")).toBeTruthy();
    // read-only: accounts go with their contacts
    expect(within(panel).queryByRole("button", { name: /Sync now/ })).toBeNull();
  });

  it("says when the account is in no CRM yet, with the way to connect one for admins", async () => {
    server("admin", { connections: [], log: [] });
    renderWithProviders(<AccountCrmSync accountId={4} />);
    expect(await screen.findByText(/This account has not been sent to a CRM yet/)).toBeTruthy();
    expect((await screen.findByRole("link", { name: "Connect a CRM" })).getAttribute("href")).toBe("/settings/crm");
    expect(screen.getByText("Nothing synced yet")).toBeTruthy();
  });

  it("is in Chinese for Chinese users", async () => {
    server("analyst", { connections: [hubspot], log });
    renderWithProviders(<AccountCrmSync accountId={4} />, { language: "zh-CN" });
    expect(await screen.findByRole("region", { name: "CRM 同步" })).toBeTruthy();
    expect(screen.queryByRole("link")).toBeNull();
  });
});
