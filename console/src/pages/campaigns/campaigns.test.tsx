import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../../routes";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import { draftOf, planBody, planChanges } from "./planModel";
import type { Campaign } from "./queries";

const shanghai = (role: "admin" | "marketer" | "analyst", approver = false) =>
  sessionFor(role, {
    workspaces: [{ id: 7, name: "Acme", role, approver, sandbox: false, time_zone: "Asia/Shanghai" }],
  });

const campaign: Campaign = {
  id: 12,
  name: "Spring sale",
  status: "pending_approval",
  description: "Ten days of offers",
  goal: { event: "Order Completed", window_days: 7, where: [] },
  budget: 500,
  currency: "CNY",
  costs: { sms: 0.05 },
  segment_id: 3,
  offer_id: null,
  template_ids: [],
  channels: ["sms"],
  owner: "Ana",
  starts_at: "2026-03-01T01:00:00Z",
  ends_at: "2026-03-11T01:00:00Z",
  requires_approval: true,
  requested_by: null,
  requested_by_user: 2,
  approved_by: null,
  approved_by_user: null,
  approved_at: null,
  created_at: "2026-02-20T00:00:00Z",
  updated_at: "2026-02-20T00:00:00Z",
};

const reference = {
  operators: [],
  definition_schema: { $defs: {} },
  fields: [],
  events: ["Order Completed", "Signed Up"],
  tags: [],
  segments: [],
};

const common = {
  "GET /api/v1/notifications": json(200, { data: [], next: null, unread: 0 }),
  "GET /api/v1/workspace": json(200, { id: 7, name: "Acme", time_zone: "Asia/Shanghai", default_country: null, currency: "CNY" }),
  "GET /api/v1/segments": json(200, {
    data: [{ id: 3, name: "Students", description: null, kind: "dynamic", definition: null, time_dependent: false, member_count: 1234, refreshed_at: null, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" }],
    next: null,
  }),
  "GET /api/v1/templates": json(200, { data: [], next: null }),
  "GET /api/v1/offers": json(200, { data: [], next: null }),
  "GET /api/v1/topics": json(200, { data: [], next: null }),
  "GET /api/v1/segments/reference": json(200, reference),
};

describe("the plan model", () => {
  it("sends dates as instants of the workspace's zone and only what changed", () => {
    const draft = draftOf(campaign, "Asia/Shanghai");
    expect(draft.starts).toBe("2026-03-01 09:00");
    expect(planBody(draft, "Asia/Shanghai").starts_at).toBe("2026-03-01T01:00:00.000Z");
    expect(planChanges(campaign, draft, "Asia/Shanghai")).toEqual({});
    const changed = { ...draft, budget: 400, ends: "2026-03-12 18:00", channels: ["sms", "email"], costs: { sms: 0.05, email: 0.001 } };
    expect(planChanges(campaign, changed, "Asia/Shanghai")).toEqual({
      budget: 400,
      ends_at: "2026-03-12T10:00:00.000Z",
      channels: ["sms", "email"],
      costs: { sms: 0.05, email: 0.001 },
    });
    // a cost of a channel no longer chosen is not sent; no goal event: no goal
    const fewer = { ...draft, channels: [], goalEvent: " " };
    expect(planBody(fewer, "UTC")).toMatchObject({ costs: null, channels: null, goal: null });
  });
});

describe("the plan form", () => {
  it("creates a plan in the workspace's currency with its audience's live count, and shows the API's refusal on its field", async () => {
    let attempt = 0;
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, shanghai("marketer")),
      ...common,
      "POST /api/v1/campaigns": () =>
        ++attempt === 1
          ? json(409, { code: "campaign_exists", message: "a campaign named 'Spring sale' exists" })
          : json(201, { ...campaign, status: "draft", requested_by_user: null }),
      "GET /api/v1/campaigns/12": json(200, { ...campaign, status: "draft" }),
      "GET /api/v1/campaigns/12/comments": json(200, { data: [], next: null }),
      "GET /api/v1/broadcasts": json(200, { data: [], next: null }),
      "GET /api/v1/journeys": json(200, { data: [], next: null }),
      "GET /api/v1/reports/campaigns/12": json(404, { code: "x", message: "x" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/campaigns/new" });
    expect(await screen.findByRole("heading", { level: 1, name: "New campaign" })).toBeTruthy();
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Create campaign" }));
    expect(await screen.findByText("Give the campaign a name.")).toBeTruthy();

    await user.type(screen.getByLabelText("Name"), "Spring sale");
    await user.type(screen.getByLabelText("Budget"), "500");
    await user.click(screen.getByLabelText("Audience"));
    await user.click(await screen.findByTitle("Students"));
    expect(await screen.findByText("1,234 contacts now")).toBeTruthy();
    await user.click(screen.getByRole("checkbox", { name: "SMS" }));
    await user.type(screen.getByLabelText("Cost per message: SMS"), "0.05");
    expect(screen.getByText("The workspace's currency (CNY) unless you pick another.")).toBeTruthy();
    expect(screen.getByText(/Asia\/Shanghai/)).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Create campaign" }));
    expect(await screen.findByText("a campaign named 'Spring sale' exists")).toBeTruthy();
    const body = JSON.parse(calls.find((c) => c.method === "POST")!.body!);
    expect(body).toMatchObject({
      name: "Spring sale",
      budget: 500,
      currency: "CNY",
      segment_id: 3,
      channels: ["sms"],
      costs: { sms: 0.05 },
      owner: "Ana",
      requires_approval: true,
      goal: null,
    });

    await user.click(screen.getByRole("button", { name: "Create campaign" }));
    expect(await screen.findByRole("heading", { level: 1, name: /Spring sale/ })).toBeTruthy();
  });

  it("lets an approver who did not ask approve or reject with a comment, never as HTML", async () => {
    const rejected = { ...campaign, status: "draft" };
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, shanghai("analyst", true)),
      ...common,
      "GET /api/v1/campaigns/12": json(200, campaign),
      "GET /api/v1/campaigns/12/comments": json(200, {
        data: [
          { id: 1, campaign_id: 12, kind: "approval_requested", body: "<img src=x onerror=alert(1)> please", author_type: "user", author_id: 2, author_name: "Mia", created_at: "2026-02-21T00:00:00Z" },
        ],
        next: null,
      }),
      "GET /api/v1/broadcasts": json(200, { data: [], next: null }),
      "GET /api/v1/journeys": json(200, { data: [{ id: 4, name: "Welcome", campaign_id: 12, status: "active" }, { id: 5, name: "Other", campaign_id: null, status: "active" }], next: null }),
      "GET /api/v1/reports/campaigns/12": json(200, {
        model: "last", goal: { event: "Order Completed", window_days: 7 }, currency: "CNY", revenue_complete: true,
        totals: { targeted: 10, sent: 8, delivered: 8, opened: 4, clicked: 1, unsubscribed: 0, bounced: 0, failed: 0, skipped: 2, converted: 2, revenue: 300, cost: 0.4, roi: 749, open_rate: 0.5, click_rate: 0.125, conversion_rate: 0.25, revenue_unconverted: {} },
        campaign: { id: 12, name: "Spring sale", status: "pending_approval" }, by_channel: [],
        budget: { budget: 500, currency: "CNY", used: 0.4, remaining: 499.6 },
      }),
      "POST /api/v1/campaigns/12/reject": json(200, rejected),
    });
    renderWithProviders(<AppRoutes />, { path: "/campaigns/12" });
    expect(await screen.findByRole("heading", { level: 1, name: /Spring sale/ })).toBeTruthy();
    // the thread's text is text
    expect(await screen.findByText("<img src=x onerror=alert(1)> please")).toBeTruthy();
    expect(document.querySelector("img[src='x']")).toBeNull();
    // an analyst: no edit or launch controls; as an approver: approve and reject
    expect(screen.queryByRole("button", { name: "Edit plan" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Cancel campaign" })).toBeNull();
    expect(await screen.findByText("You can approve this plan, or reject it with a comment.")).toBeTruthy();
    // results and linked journeys
    expect(screen.getByRole("link", { name: "Full report" }).getAttribute("href")).toBe("/reports/campaigns/12");
    expect(await screen.findByText("50%")).toBeTruthy();
    expect(await screen.findByRole("link", { name: "Welcome" })).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Other" })).toBeNull();

    const user = userEvent.setup();
    const thread = screen.getByRole("region", { name: "Approval and discussion" });
    await user.click(within(thread).getByRole("button", { name: "Reject" }));
    expect(await within(thread).findByText("Write in the comment box why the plan is rejected.")).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    await user.type(within(thread).getByLabelText("Comment"), "Halve the SMS budget");
    await user.click(within(thread).getByRole("button", { name: "Reject" }));
    await waitFor(() => expect(calls.some((c) => c.url.pathname.endsWith("/reject"))).toBe(true));
    const post = calls.find((c) => c.url.pathname.endsWith("/reject"))!;
    expect(JSON.parse(post.body!)).toEqual({ comment: "Halve the SMS budget" });
  });

  it("does not offer the requester to approve their own request", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, { ...shanghai("admin"), user: { id: 2, email: "mia@example.com", name: "Mia" } }),
      ...common,
      "GET /api/v1/campaigns/12": json(200, campaign),
      "GET /api/v1/campaigns/12/comments": json(200, { data: [], next: null }),
      "GET /api/v1/broadcasts": json(200, { data: [], next: null }),
      "GET /api/v1/journeys": json(200, { data: [], next: null }),
    });
    renderWithProviders(<AppRoutes />, { path: "/campaigns/12" });
    expect(await screen.findByText("You asked for this approval: another approver decides.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
    expect(screen.getByRole("button", { name: "Edit plan" })).toBeTruthy();
  });
});
