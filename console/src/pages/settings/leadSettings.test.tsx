import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../../routes";
import type { Role } from "../../api/session";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import { reference } from "../segments/testReference";
import {
  assignmentBody,
  assignmentDraft,
  assignmentProblems,
  fallbackIds,
  lifecycleBody,
  lifecycleDraft,
  NO_STAGE,
  reorder,
  slaBody,
  type AssignmentRule,
  type LifecycleRule,
} from "./leadRules";
import { accountScoreSources, mappingBody, mappingErrorRow, scopeBody, scopeProblem } from "./crmForm";

const at = "2026-03-01T00:00:00Z";

const mqlRule: LifecycleRule = {
  id: 1,
  name: "MQL",
  position: 10,
  stage: "MQL",
  condition: {
    type: "all",
    conditions: [
      { type: "score", model: "engagement", operator: "gte", value: 50 },
      { type: "score", model: "fit", operator: "gte", value: 30 },
    ],
  },
  event: null,
  from_stages: [null, "lead"],
  enabled: true,
  created_at: at,
  updated_at: at,
};
const customerRule: LifecycleRule = {
  ...mqlRule,
  id: 2,
  name: "Customer",
  position: 20,
  stage: "customer",
  condition: null,
  event: { event: "Order Completed", where: [] },
  from_stages: null,
};
const roundRobin: AssignmentRule = {
  id: 5,
  name: "MQL round robin",
  position: 10,
  stage: "MQL",
  method: "round_robin",
  users: [11, 12],
  attribute: null,
  territories: null,
  reassign: false,
  created_at: at,
  updated_at: at,
};
const owners = [
  { id: 11, name: "Rep One", email: "rep1@acme.example", role: "sales" },
  { id: 12, name: "Rep Two", email: "rep2@acme.example", role: "sales" },
];

function server(role: Role, extra: Record<string, Response | (() => Response)> = {}) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/lifecycle-rules": json(200, { data: [mqlRule, customerRule] }),
    "GET /api/v1/lifecycle-slas": json(200, { slas: [{ stage: "MQL", hours: 24 }] }),
    "GET /api/v1/assignment-rules": json(200, { data: [roundRobin] }),
    "GET /api/v1/lead-owners": json(200, { data: owners }),
    "GET /api/v1/segments/reference": json(200, reference),
    "GET /api/v1/contacts/lifecycle-stages": json(200, { data: [{ stage: "lead", contacts: 3 }] }),
    ...extra,
  });
}

describe("lead rules (forms ↔ API bodies)", () => {
  it("sends a condition or an event, never both, and 'no stage yet' as null", () => {
    const draft = { ...lifecycleDraft(mqlRule) };
    expect(draft.fromStages).toEqual([NO_STAGE, "lead"]);
    const body = lifecycleBody(draft);
    expect(body.from_stages).toEqual([null, "lead"]);
    expect(body.event).toBeNull();
    expect(body.condition).toEqual(mqlRule.condition);
    const asEvent = lifecycleBody({ ...draft, trigger: "event", event: " Lead Accepted ", fromStages: [] });
    expect(asEvent).toMatchObject({ condition: null, event: { event: "Lead Accepted", where: [] }, from_stages: null });
  });

  it("sends only the fields of the assignment method", () => {
    const rr = assignmentDraft(null);
    expect(assignmentBody({ ...rr, name: "RR" })).toEqual({ name: "RR", stage: "MQL", method: "round_robin", reassign: false, users: null });
    const territory = { ...rr, name: "T", method: "territory" as const, attribute: "region", territories: [{ value: "APAC", user: 11 }, { value: "", user: 12 }] };
    expect(assignmentBody(territory)).toEqual({ name: "T", stage: "MQL", method: "territory", reassign: false, attribute: "region", territories: { APAC: 11 } });
    expect(assignmentProblems({ ...territory, territories: [] })).toEqual(["territories"]);
    expect(assignmentProblems({ ...rr, method: "account_owner" })).toEqual(["name", "attribute"]);
  });

  it("renumbers positions when a rule moves, and names the fallback", () => {
    const items = [{ id: 1, position: 0 }, { id: 2, position: 0 }, { id: 3, position: 5 }];
    expect(reorder(items, 2, -1).map(({ item, position }) => [item.id, position])).toEqual([[1, 10], [3, 20], [2, 30]]);
    expect(reorder(items, 0, -1)).toEqual([]);
    const territory: AssignmentRule = { ...roundRobin, id: 6, method: "territory" };
    expect([...fallbackIds([roundRobin, territory, { ...roundRobin, id: 7 }])]).toEqual([7]);
  });

  it("checks SLA rows and CRM mappings and scopes", () => {
    const { slas, problems } = slaBody([
      { key: 1, stage: "MQL", hours: 24 },
      { key: 2, stage: " MQL ", hours: 4 },
      { key: 3, stage: "", hours: 4 },
      { key: 4, stage: "SQL", hours: null },
    ]);
    expect(slas).toEqual([{ stage: "MQL", hours: 24 }]);
    expect([...problems.entries()]).toEqual([[2, "duplicate"], [3, "stage"], [4, "hours"]]);
    expect(mappingBody([{ source: "email", target: "email" }, { source: "", target: "" }, { source: "phone", target: " " }])).toEqual({
      mapping: [{ source: "email", target: "email" }],
      problems: [2],
      rows: [0],
    });
    expect(scopeProblem({ scope: "segment", segmentId: null, stages: [] })).toBe("segment");
    expect(scopeBody({ scope: "lifecycle", segmentId: 3, stages: ["MQL"] })).toEqual({ sync_scope: "lifecycle", segment_id: null, lifecycle_stages: ["MQL"] });
  });
});

describe("Settings → Lead management", () => {
  it("lists the rules in order with what triggers them", async () => {
    server("admin");
    renderWithProviders(<AppRoutes />, { path: "/settings/leads" });
    // the first render loads the page's modules: give it time on a busy machine
    expect(await screen.findByRole("heading", { level: 1, name: "Lead management" }, { timeout: 15_000 })).toBeTruthy();
    expect(await screen.findByText("engagement score ≥ 50 and fit score ≥ 30")).toBeTruthy();
    expect(screen.getByText("performs Order Completed (First order)")).toBeTruthy();
    expect(screen.getByText("No stage yet, lead")).toBeTruthy();
    expect(await screen.findByText("Rep One <rep1@acme.example>, Rep Two <rep2@acme.example>")).toBeTruthy();
    expect(screen.getByText("Fallback")).toBeTruthy();
  }, 60_000);

  it("saves the SLAs as one list", async () => {
    const { calls } = server("admin", {
      "PUT /api/v1/lifecycle-slas": json(200, { slas: [{ stage: "MQL", hours: 24 }, { stage: "SQL", hours: 8 }] }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/leads" });
    await screen.findByText("engagement score ≥ 50 and fit score ≥ 30");
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: /Add SLA/ }));
    const row = screen.getByRole("group", { name: "SLA 2" });
    await user.type(within(row).getByLabelText("Stage"), "SQL");
    const hours = within(row).getByLabelText("Hours");
    await user.clear(hours);
    await user.type(hours, "8");
    await user.click(screen.getByRole("button", { name: "Save SLAs" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    const put = calls.find((c) => c.method === "PUT");
    expect(JSON.parse(put?.body ?? "{}")).toEqual({ slas: [{ stage: "MQL", hours: 24 }, { stage: "SQL", hours: 8 }] });
  }, 60_000);

  it("moves a rule up by renumbering both", async () => {
    const { calls } = server("marketer", {
      "PUT /api/v1/lifecycle-rules/1": json(200, mqlRule),
      "PUT /api/v1/lifecycle-rules/2": json(200, customerRule),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/leads" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Move Customer up" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "PUT")).toHaveLength(2));
    const bodies = calls.filter((c) => c.method === "PUT").map((c) => [c.url.pathname, JSON.parse(c.body ?? "{}").position]);
    expect(bodies).toEqual([
      ["/api/v1/lifecycle-rules/2", 10],
      ["/api/v1/lifecycle-rules/1", 20],
    ]);
  }, 60_000);

  it("creates an event rule from a preset", async () => {
    const { calls } = server("admin", {
      "POST /api/v1/lifecycle-rules": json(201, { ...customerRule, id: 3, name: "SQL on accept", event: { event: "Lead Accepted" } }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/leads" });
    const user = userEvent.setup();
    await screen.findByText("engagement score ≥ 50 and fit score ≥ 30");
    await user.click(screen.getAllByRole("button", { name: /Add rule/ })[0]!);
    const drawer = await screen.findByRole("dialog");
    await user.type(within(drawer).getByLabelText("Name"), "Opportunity on accept");
    await user.type(within(drawer).getByLabelText("Set the stage to"), "opportunity");
    await user.click(within(drawer).getByLabelText("The contact performs an event"));
    await user.click(within(drawer).getByRole("button", { name: "Sales accepted" }));
    await user.click(within(drawer).getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(JSON.parse(calls.find((c) => c.method === "POST")?.body ?? "{}")).toEqual({
      name: "Opportunity on accept",
      stage: "opportunity",
      condition: null,
      event: { event: "Lead Accepted", where: [] },
      from_stages: null,
      enabled: true,
    });
  }, 60_000);

  it("shows analysts the rules without edit controls", async () => {
    server("analyst");
    renderWithProviders(<AppRoutes />, { path: "/settings/leads" });
    expect(await screen.findByText("engagement score ≥ 50 and fit score ≥ 30")).toBeTruthy();
    expect(screen.getByText("Only admins and marketers can change these rules.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Add rule/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Add SLA/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "Edit MQL" })).toBeNull();
    expect(await screen.findByText("24 h")).toBeTruthy();
  });
});

const webhookProvider = {
  name: "webhook",
  description: "A signed JSON POST per contact",
  deals: false,
  settings_schema: {
    properties: {
      url: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Url", description: "Target" },
    },
    type: "object",
  },
  secrets_schema: {
    properties: { signing_secret: { type: "string", title: "Signing Secret", description: "generated when not given" } },
    type: "object",
  },
  default_mapping: [{ source: "email", target: "email" }],
  default_account_mapping: [
    { source: "name", target: "name" },
    { source: "domain", target: "domain" },
    { source: "score.sum", target: "score" },
  ],
};
const hubspotProvider = {
  name: "hubspot",
  description: "HubSpot contacts, companies and deals",
  deals: true,
  settings_schema: {
    properties: {
      id_property: { type: "string", default: "email", title: "Id Property", description: "Unique contact property" },
      company_id_property: {
        type: "string",
        default: "kairos_account_id",
        pattern: "^[a-z0-9_]{1,100}$",
        title: "Company Id Property",
        description: "The unique company property",
      },
    },
    type: "object",
  },
  secrets_schema: {
    properties: { access_token: { type: "string", minLength: 1, title: "Access Token", description: "Private app token" } },
    required: ["access_token"],
    type: "object",
  },
  default_mapping: [{ source: "email", target: "email" }],
  default_account_mapping: [
    { source: "name", target: "name" },
    { source: "domain", target: "domain" },
  ],
};
const connection = {
  id: 3,
  name: "Leads webhook",
  provider: "webhook",
  settings: { url: "https://crm.example/hook", headers: {}, timeout: null },
  secrets_set: ["signing_secret"],
  field_mapping: [{ source: "email", target: "email" }],
  sync_scope: "all",
  segment_id: null,
  lifecycle_stages: [],
  push_contacts: true,
  pull_deals: false,
  poll_interval: 300,
  enabled: true,
  push_accounts: true,
  account_mapping: [
    { source: "name", target: "name" },
    { source: "domain", target: "company domain" },
  ],
  paused_until: null,
  pause_reason: null,
  last_error: null,
  next_poll_at: null,
  counts: { queued: 1, sending: 0, synced: 4, failed: 0 },
  last_synced_at: at,
  created_at: at,
  updated_at: at,
};

function crmServer(role: Role, extra: Record<string, Response | (() => Response)> = {}) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/crm-connections": json(200, { data: [connection], next: null }),
    "GET /api/v1/crm-connections/providers": json(200, { data: [webhookProvider], next: null }),
    "GET /api/v1/segments": json(200, { data: [], next: null }),
    "GET /api/v1/attributes": json(200, { data: [] }),
    "GET /api/v1/contacts/lifecycle-stages": json(200, { data: [] }),
    "GET /api/v1/score-models": json(200, { data: [], next: null }),
    ...extra,
  });
}

describe("Settings → CRM", () => {
  it("lists connections with their sync state and shows verify's precise error", async () => {
    crmServer("admin", {
      "POST /api/v1/crm-connections/3/verify": json(422, { code: "crm_unreachable", message: "the webhook has no URL" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/crm" });
    expect(await screen.findByText("Leads webhook")).toBeTruthy();
    expect(screen.getByText("4 synced · 1 queued · 0 failed")).toBeTruthy();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Verify Leads webhook" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Verification failed: the webhook has no URL");
  }, 60_000);

  it("creates a webhook connection: settings, default mapping, scope; the secret is left to the server", async () => {
    const { calls } = crmServer("admin", {
      "POST /api/v1/crm-connections": json(201, { ...connection, id: 4, name: "New hook" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/crm" });
    const user = userEvent.setup();
    await screen.findByText("Leads webhook");
    await user.click(screen.getByRole("button", { name: /Connect a CRM/ }));
    const drawer = await screen.findByRole("dialog");
    await user.type(within(drawer).getByLabelText("Name"), "New hook");
    await user.type(within(drawer).getByLabelText("Receiver URL"), "https://crm.example/new");
    // the default mapping of the CRM, one labelled row per field
    expect((within(drawer).getByLabelText("Mapping 1: Kairos field") as HTMLInputElement).value).toBe("email");
    expect((within(drawer).getByLabelText("Mapping 1: CRM property") as HTMLInputElement).value).toBe("email");
    await user.click(within(drawer).getByRole("button", { name: "Connect" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    const body = JSON.parse(calls.find((c) => c.method === "POST")?.body ?? "{}") as Record<string, unknown>;
    expect(body).toMatchObject({
      name: "New hook",
      provider: "webhook",
      settings: { url: "https://crm.example/new" },
      secrets: {},
      field_mapping: [{ source: "email", target: "email" }],
      sync_scope: "all",
      push_contacts: true,
      pull_deals: false,
      enabled: true,
    });
  }, 60_000);

  it("editing never shows a stored secret and sends none unless replaced", async () => {
    const { calls } = crmServer("admin", { "PATCH /api/v1/crm-connections/3": json(200, connection) });
    renderWithProviders(<AppRoutes />, { path: "/settings/crm" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Edit Leads webhook" }));
    const drawer = await screen.findByRole("dialog");
    const secret = within(drawer).getByLabelText("Signing secret") as HTMLInputElement;
    expect(secret.value).toBe("");
    await user.click(within(drawer).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect(JSON.parse(calls.find((c) => c.method === "PATCH")?.body ?? "{}")).not.toHaveProperty("secrets");
  }, 60_000);

  it("creates a HubSpot connection pushing accounts: the unique company property (with its help) and the account mapping", async () => {
    const { calls } = crmServer("admin", {
      "GET /api/v1/crm-connections/providers": json(200, { data: [hubspotProvider, webhookProvider], next: null }),
      "POST /api/v1/crm-connections": json(201, { ...connection, id: 4, provider: "hubspot", name: "HubSpot" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/crm" });
    const user = userEvent.setup();
    await screen.findByText("Leads webhook");
    await user.click(screen.getByRole("button", { name: /Connect a CRM/ }));
    const drawer = await screen.findByRole("dialog");
    await user.type(within(drawer).getByLabelText("Name"), "HubSpot");
    await user.type(within(drawer).getByLabelText("Private app access token"), "pat-123");
    // the account settings sit with the account sync, with what to do in HubSpot first
    const accounts = within(drawer).getByRole("region", { name: "Accounts (B2B)" });
    expect((within(accounts).getByRole("switch", { name: "Push accounts" }) as HTMLButtonElement).getAttribute("aria-checked")).toBe("true");
    expect((within(accounts).getByLabelText("Company id property") as HTMLInputElement).value).toBe("kairos_account_id");
    expect(within(accounts).getByText(/Create this company property in HubSpot first/)).toBeTruthy();
    expect((within(accounts).getByLabelText("Account mapping 1: account field") as HTMLInputElement).value).toBe("name");
    expect((within(accounts).getByLabelText("Account mapping 2: CRM property") as HTMLInputElement).value).toBe("domain");
    // the connection's own settings do not repeat it
    expect(within(drawer).getAllByLabelText("Company id property")).toHaveLength(1);
    const property = within(accounts).getByLabelText("Company id property");
    await user.clear(property);
    await user.type(property, "kairos_id");
    await user.click(within(accounts).getByRole("button", { name: /Add account field/ }));
    await user.type(within(accounts).getByLabelText("Account mapping 3: account field"), "score.sum");
    await user.type(within(accounts).getByLabelText("Account mapping 3: CRM property"), "kairos_score");
    await user.click(within(drawer).getByRole("button", { name: "Connect" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    const body = JSON.parse(calls.find((c) => c.method === "POST")?.body ?? "{}") as Record<string, unknown>;
    expect(body).toMatchObject({
      provider: "hubspot",
      settings: { id_property: "email", company_id_property: "kairos_id" },
      secrets: { access_token: "pat-123" },
      push_accounts: true,
      account_mapping: [
        { source: "name", target: "name" },
        { source: "domain", target: "domain" },
        { source: "score.sum", target: "kairos_score" },
      ],
    });
  }, 60_000);

  it("shows a refused account mapping on its row, and can turn account pushes off", async () => {
    let answer = json(422, { code: "invalid_account_mapping", message: "account_mapping[1].target: 'company domain' is not a CRM property name" });
    const { calls } = crmServer("admin", { "PATCH /api/v1/crm-connections/3": () => answer });
    renderWithProviders(<AppRoutes />, { path: "/settings/crm" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Edit Leads webhook" }));
    const drawer = await screen.findByRole("dialog");
    // a blank row in between: the error names the second entry sent, the third row
    await user.click(within(drawer).getByRole("button", { name: /Add account field/ }));
    const rows = () => within(drawer).getAllByRole("textbox", { name: /^Account mapping \d: CRM property$/ });
    expect(rows()).toHaveLength(3);
    const [first, second] = [
      (within(drawer).getByLabelText("Account mapping 1: account field") as HTMLInputElement).value,
      (within(drawer).getByLabelText("Account mapping 2: CRM property") as HTMLInputElement).value,
    ];
    expect([first, second]).toEqual(["name", "company domain"]);
    await user.click(within(drawer).getByRole("button", { name: "Save" }));
    const alert = await within(drawer).findByText(/is not a CRM property name/);
    expect(alert.getAttribute("role")).toBe("alert");
    expect(within(drawer).getByLabelText("Account mapping 2: CRM property").className).toContain("status-error");
    expect(within(drawer).getByLabelText("Account mapping 1: CRM property").className).not.toContain("status-error");
    // the general "not saved" alert is not shown twice
    expect(within(drawer).queryByText("Not saved")).toBeNull();
    const sent = JSON.parse(calls.filter((c) => c.method === "PATCH")[0]?.body ?? "{}") as Record<string, unknown>;
    expect(sent.account_mapping).toEqual([
      { source: "name", target: "name" },
      { source: "domain", target: "company domain" },
    ]);
    answer = json(200, { ...connection, push_accounts: false });
    await user.click(within(drawer).getByRole("switch", { name: "Push accounts" }));
    expect(within(drawer).queryByLabelText("Account mapping 1: account field")).toBeNull();
    // (the button's spinner may still be leaving: "loading Save")
    await user.click(within(drawer).getByRole("button", { name: /Save$/ }));
    await waitFor(() => expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(2));
    expect(JSON.parse(calls.filter((c) => c.method === "PATCH")[1]?.body ?? "{}")).toMatchObject({ push_accounts: false });
  }, 60_000);

  it("maps a server error about a mapping entry back to the row it came from", () => {
    const sent = mappingBody([
      { source: "name", target: "name" },
      { source: "", target: "" },
      { source: "domain", target: "x y" },
    ]);
    expect(sent.rows).toEqual([0, 2]);
    expect(mappingErrorRow("account_mapping[1].target", "account_mapping", sent.rows)).toBe(2);
    expect(mappingErrorRow("field_mapping[1].target", "account_mapping", sent.rows)).toBeNull();
    expect(mappingErrorRow(null, "account_mapping", sent.rows)).toBeNull();
    expect(accountScoreSources(["fit"])).toEqual(["score.sum", "score.max", "score.engaged", "scores.fit.sum", "scores.fit.max", "scores.fit.engaged"]);
  });

  it("shows other roles the connections without actions", async () => {
    crmServer("marketer");
    renderWithProviders(<AppRoutes />, { path: "/settings/crm" });
    expect(await screen.findByText("Leads webhook")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Connect a CRM/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "Verify Leads webhook" })).toBeNull();
    expect(screen.getByText("Only admins can change CRM connections.")).toBeTruthy();
  });
});
