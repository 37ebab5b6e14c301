import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../../routes";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import { rejectionText, taskFiltersFrom, taskFiltersTo, topReasons } from "./model";
import { taskQuery, type Lead, type Task } from "./queries";

const zone = (role: "admin" | "marketer" | "analyst" | "sales") =>
  sessionFor(role, { workspaces: [{ id: 7, name: "Acme", role, approver: false, sandbox: false, time_zone: "Asia/Shanghai" }] });

const lead = (id: number, extra: Partial<Lead> = {}): Lead => ({
  contact_id: id,
  email: `lead${id}@x.example`,
  first_name: `Lead${id}`,
  last_name: null,
  external_id: null,
  stage: "MQL",
  stage_since: "2026-03-01T02:00:00Z",
  score: 62.5,
  traits: { company: "Acme School", region: "APAC" },
  owner: { id: 1, name: "Ana", email: "ana@example.com" },
  assigned_at: "2026-03-01T02:00:00Z",
  sla_due_at: "2026-03-02T02:00:00Z",
  overdue: false,
  escalated: false,
  ...extra,
});

const task = (id: number, extra: Partial<Task> = {}): Task => ({
  id,
  contact_id: 21,
  contact_email: "lea@x.example",
  contact_first_name: "Lea",
  contact_last_name: null,
  contact_stage: "MQL",
  journey_id: 4,
  enrollment_id: 9,
  node: "call",
  kind: "call",
  title: "Call Lea",
  script: "Hi Lea, <b>about</b> your trial…",
  assignee_user_id: null,
  assignee_name: null,
  queue: "inside_sales",
  outcomes: ["interested", "not_now"],
  status: "open",
  outcome: null,
  notes: null,
  due_at: "2026-03-02T02:00:00Z",
  timeout_at: "2026-03-04T02:00:00Z",
  created_at: "2026-03-01T02:00:00Z",
  claimed_at: null,
  completed_at: null,
  overdue: true,
  ...extra,
});

const common = {
  "GET /api/v1/notifications": json(200, { data: [], next: null, unread: 0 }),
  "GET /api/v1/contacts/lifecycle-stages": json(200, { data: [{ stage: "MQL", contacts: 2 }, { stage: "SQL", contacts: 1 }] }),
  "GET /api/v1/lead-owners": json(200, { data: [{ id: 5, name: "Sam", email: "sam@example.com", role: "sales" }] }),
};

describe("the leads model", () => {
  it("explains a score by its biggest gains, a recompute restating the rules before it", () => {
    const entry = (kind: string, delta: number, params: Record<string, unknown>) => ({
      id: 1, kind, delta, score: 0, reason: "r", params, rule_id: null, event_id: null, occurred_at: null, at: "2026-03-01T00:00:00Z",
    }) as never;
    const reasons = topReasons({
      ledger: [
        entry("event", 10, { rule: "Viewed pricing" }),
        entry("decay", -4, {}),
        entry("event", 10, { rule: "Viewed pricing" }),
        entry("recompute", 5, { rules: { "Decision maker": 20, "Viewed pricing": 10 } }),
        entry("event", 99, { rule: "Counted in the recompute" }),
      ],
    });
    expect(reasons).toEqual([
      { label: "Viewed pricing", kind: "rule", points: 30 },
      { label: "Decision maker", kind: "rule", points: 20 },
      { label: "decay", kind: "decay", points: -4 },
    ]);
  });

  it("words a rejection from the reason picked and the details", () => {
    expect(rejectionText("No budget", false, "")).toBe("No budget");
    expect(rejectionText("No budget", false, " next year ")).toBe("No budget: next year");
    expect(rejectionText(null, true, "")).toBeNull();
    expect(rejectionText(null, true, "moved abroad")).toBe("moved abroad");
    expect(rejectionText(null, false, "")).toBeNull();
  });

  it("keeps the inbox's filters in the address, defaults left out", () => {
    const f = taskFiltersFrom(new URLSearchParams("who=queue&status=overdue&kind=call&task=3"), true);
    expect(f).toEqual({ who: "queue", status: "overdue", kind: "call" });
    expect(taskQuery(f)).toEqual({ mine: undefined, unassigned: true, status: undefined, overdue: true, kind: "call" });
    expect(taskFiltersTo(f, true, new URLSearchParams("task=3")).toString()).toBe("task=3&who=queue&status=overdue&kind=call");
    expect(taskFiltersFrom(new URLSearchParams(), true)).toEqual({ who: "mine", status: "open", kind: null });
    expect(taskFiltersFrom(new URLSearchParams(), false).who).toBe("all");
    expect(taskFiltersTo({ who: "mine", status: null, kind: null }, true, new URLSearchParams()).toString()).toBe("status=any");
  });
});

describe("My leads", () => {
  it("lands a sales user on their leads, accepts one and rejects another with a reason", async () => {
    const rejected: string[] = [];
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, zone("sales")),
      ...common,
      "GET /api/v1/leads": json(200, { data: [lead(12), lead(13, { overdue: true, escalated: true })], next: null }),
      "POST /api/v1/leads/12/accept": json(200, { contact_id: 12, stage: "SQL", from_stage: "MQL", at: "2026-03-01T03:00:00Z" }),
      "POST /api/v1/leads/13/reject": (r) => {
        rejected.push(JSON.parse(r.body ?? "{}").reason);
        return json(200, { contact_id: 13, stage: "nurture", from_stage: "MQL", at: "2026-03-01T03:00:00Z" });
      },
    });
    renderWithProviders(<AppRoutes />, { path: "/" });
    // (the first test loads the page's chunk: give it time)
    expect(await screen.findByRole("heading", { level: 1, name: "My leads" }, { timeout: 20_000 })).toBeTruthy();
    expect(calls.find((c) => c.url.pathname === "/api/v1/leads")!.url.searchParams.get("owner")).toBe("me");
    // a sales user has no owner filter; the menu has My leads and Tasks
    expect(screen.queryByLabelText("Owner")).toBeNull();
    expect(screen.getByRole("menuitem", { name: /Tasks/ })).toBeTruthy();
    expect(await screen.findByText("Overdue")).toBeTruthy();
    expect(screen.getByText("Escalated")).toBeTruthy();

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Accept Lead12" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url.pathname === "/api/v1/leads/12/accept")).toBe(true));

    await user.click(screen.getByRole("button", { name: "Reject Lead13" }));
    const dialog = await screen.findByRole("dialog", { name: "Reject Lead13" });
    await user.click(within(dialog).getByRole("button", { name: "Reject the lead" }));
    expect(await within(dialog).findByText("Choose a reason or write one.")).toBeTruthy();
    expect(rejected).toEqual([]);
    await user.click(within(dialog).getByLabelText("Reason"));
    await user.click(await screen.findByTitle("No budget"));
    await user.type(within(dialog).getByLabelText("Details"), "next fiscal year");
    await user.click(within(dialog).getByRole("button", { name: "Reject the lead" }));
    await waitFor(() => expect(rejected).toEqual(["No budget: next fiscal year"]));
  }, 60_000);

  it("opens a lead with every score and its top reasons, and the contact's tasks", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, zone("marketer")),
      ...common,
      "GET /api/v1/leads": json(200, { data: [lead(12)], next: null }),
      "GET /api/v1/contacts/12/scores": json(200, {
        data: [
          {
            model: { id: 1, key: "engagement", name: "Engagement", is_default: true },
            score: 62.5,
            changed_at: "2026-03-01T00:00:00Z",
            ledger: [{ id: 3, kind: "event", delta: 30, score: 62.5, reason: "Viewed pricing: Page Viewed +30", params: { rule: "Viewed pricing" }, rule_id: 1, event_id: 4, occurred_at: null, at: "2026-03-01T00:00:00Z" }],
          },
          { model: { id: 2, key: "fit", name: "Fit", is_default: false }, score: 0, changed_at: null, ledger: [] },
        ],
      }),
      "GET /api/v1/tasks": json(200, { data: [task(3)], next: null }),
      "GET /api/v1/accounts": json(200, { data: [{ id: 9, name: "Acme School", domain: "acme.example" }], next: null }),
    });
    renderWithProviders(<AppRoutes />, { path: "/leads?contact=12" });
    const drawer = await screen.findByRole("dialog", { name: "Lead: Lead12" });
    expect(await within(drawer).findByText("Engagement")).toBeTruthy();
    expect(within(drawer).getByText("Viewed pricing")).toBeTruthy();
    expect(within(drawer).getByText("+30")).toBeTruthy();
    expect(within(drawer).getByText("Never scored.")).toBeTruthy();
    expect(within(drawer).getByText("Acme School", { selector: "dd" })).toBeTruthy(); // the attribute
    expect((await within(drawer).findByRole("link", { name: "Acme School" })).getAttribute("href")).toBe("/accounts/9");
    expect(await within(drawer).findByRole("link", { name: "Call Lea" })).toBeTruthy();
    expect(within(drawer).getByRole("link", { name: /Open the profile/ }).getAttribute("href")).toBe("/contacts/12");
    // a marketer sees the owner filter (all owners by default) and may decide any lead
    expect(screen.getByLabelText("Owner")).toBeTruthy();
    expect(within(drawer).getByRole("button", { name: "Accept Lead12" })).toBeTruthy();
  });

  it("shows an analyst the leads without actions", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, zone("analyst")),
      ...common,
      "GET /api/v1/leads": json(200, { data: [lead(12)], next: null }),
    });
    renderWithProviders(<AppRoutes />, { path: "/leads" });
    expect(await screen.findByRole("button", { name: "Open Lead12" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Accept Lead12" })).toBeNull();
    expect(screen.queryByRole("menuitem", { name: /My leads/ })).toBeNull();
  });
});

describe("the task inbox", () => {
  it("filters, claims and completes a task with an outcome and notes; the script is text", async () => {
    let claimed = false;
    const completions: unknown[] = [];
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, zone("sales")),
      ...common,
      "GET /api/v1/tasks": () => json(200, { data: [task(3, claimed ? { assignee_user_id: 1, assignee_name: "Ana" } : {})], next: null }),
      "GET /api/v1/tasks/3": () => json(200, task(3, claimed ? { assignee_user_id: 1, assignee_name: "Ana" } : {})),
      "POST /api/v1/tasks/3/claim": () => {
        claimed = true;
        return json(200, task(3, { assignee_user_id: 1, assignee_name: "Ana" }));
      },
      "POST /api/v1/tasks/3/complete": (r) => {
        completions.push(JSON.parse(r.body ?? "{}"));
        return json(200, task(3, { status: "done", outcome: "interested", assignee_user_id: 1 }));
      },
    });
    renderWithProviders(<AppRoutes />, { path: "/tasks?who=queue&task=3" });
    expect(await screen.findByRole("heading", { level: 1, name: "Tasks" })).toBeTruthy();
    const listCall = calls.find((c) => c.url.pathname === "/api/v1/tasks")!;
    expect(listCall.url.searchParams.get("unassigned")).toBe("true");
    expect(listCall.url.searchParams.get("status")).toBe("open");
    const drawer = await screen.findByRole("dialog", { name: "Task: Call Lea" });
    // the script is shown as text, never as HTML
    expect(await within(drawer).findByText("Hi Lea, <b>about</b> your trial…")).toBeTruthy();
    expect(within(drawer).getByText("Queue: inside_sales")).toBeTruthy();
    expect(screen.getAllByText("Overdue").length).toBeGreaterThan(0);

    const user = userEvent.setup();
    await user.click(within(drawer).getByRole("button", { name: "Claim “Call Lea”" }));
    await waitFor(() => expect(claimed).toBe(true));
    await user.click(await within(drawer).findByRole("button", { name: "Complete “Call Lea”" }));
    // (two dialogs are open, the drawer and the modal: jsdom gives them the same title id)
    const dialog = (await screen.findByRole("radio", { name: "interested" })).closest(".ant-modal") as HTMLElement;
    expect(within(dialog).getByText("Complete “Call Lea”")).toBeTruthy();
    await user.click(within(dialog).getByRole("button", { name: "Complete the task" }));
    expect(await within(dialog).findByText("Choose an outcome.")).toBeTruthy();
    await user.click(within(dialog).getByRole("radio", { name: "interested" }));
    await user.type(within(dialog).getByLabelText("Notes"), "wants a demo");
    await user.click(within(dialog).getByRole("button", { name: "Complete the task" }));
    await waitFor(() => expect(completions).toEqual([{ outcome: "interested", notes: "wants a demo" }]));
  }, 60_000);

  it("asks for the kind chosen", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, zone("admin")),
      ...common,
      "GET /api/v1/tasks": json(200, { data: [], next: null }),
    });
    renderWithProviders(<AppRoutes />, { path: "/tasks" });
    expect(await screen.findByText("No tasks here. Journeys with a task step create them.")).toBeTruthy();
    const user = userEvent.setup();
    await user.click(screen.getByLabelText("Kind"));
    await user.click(await screen.findByTitle("Visit"));
    await waitFor(() => expect(calls.some((c) => c.url.pathname === "/api/v1/tasks" && c.url.searchParams.get("kind") === "visit")).toBe(true));
    const last = calls.filter((c) => c.url.pathname === "/api/v1/tasks").at(-1)!;
    expect(last.url.searchParams.get("mine")).toBeNull(); // admins see everyone's by default
  });
});
