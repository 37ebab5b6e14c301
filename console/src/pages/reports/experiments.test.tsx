// The experiment parts of the broadcast and journey reports, from answers shaped exactly as the
// server sends them (taken from tests/analytics/test_report_answers.py's workspace; typed by the
// generated schema, so a field the server renames or drops fails the type check).
import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import { AppRoutes } from "../../routes";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import type { BroadcastReport, JourneyReport, ReportFigures } from "./types";

function figures(extra: Partial<ReportFigures> = {}): ReportFigures {
  return {
    targeted: 23, sent: 23, delivered: 0, opened: 5, clicked: 0, unsubscribed: 0, bounced: 0, failed: 0,
    skipped: 0, converted: 7, revenue: 140, cost: 0.23, roi: 607.6957, open_rate: 0.2174, click_rate: 0,
    conversion_rate: 0.3043, revenue_unconverted: {}, ...extra,
  }; // prettier-ignore
}

const broadcast: BroadcastReport = {
  model: "first",
  goal: { event: "Order Completed", window_days: 7 },
  currency: "EUR",
  revenue_complete: true,
  totals: figures({ targeted: 100, sent: 85, converted: 29, revenue: 800 }),
  broadcast: { id: 2, name: "premium", channel: "email", status: "queued", campaign_id: 1 },
  by_channel: [{ ...figures({ targeted: 85, sent: 85, converted: 29, revenue: 800 }), channel: "email" }],
  by_variant: [
    { ...figures(), variant: "A" },
    { ...figures({ targeted: 62, sent: 62, opened: 0, converted: 11, revenue: 660 }), variant: "B" },
    {
      ...figures({ targeted: 15, sent: 0, opened: 0, converted: 3, revenue: 58.18, cost: 0, roi: null }),
      open_rate: null, click_rate: null, conversion_rate: null, variant: "holdout",
    }, // prettier-ignore
  ],
  experiment: {
    metric: "revenue",
    goal_event: "Order Completed",
    window_hours: 4,
    holdout_percent: 20,
    test_percent: 50,
    state: "decided",
    test_ends_at: "2026-03-03T18:00:00Z",
    waiting: 0,
    winner: "B",
    confidence: 0.9985781209616019,
    judged_at: "2026-03-03T18:01:00+00:00",
    variants: {
      A: { sent: 23, successes: 7, rate: 6.086956521739131, revenue: 140, sum_squares: 2800, sd: 9.409439377939295 },
      B: { sent: 24, successes: 11, rate: 27.5, revenue: 660, sum_squares: 39600, sd: 30.53864266224309 },
    },
    lift: {
      treated: { converted: 18, size: 47, revenue: 800 },
      holdout: { converted: 3, size: 15, revenue: 60 },
      lift: 0.1829787234042553,
      ci95: [-0.06256519488131443, 0.428522641689825],
      revenue_lift: { per_contact: 13.02127659574468, ci95: [4.732410244130252, 21.31014294735911] },
    },
  },
};

const branches = {
  A: { entered: 24, holdout: false, converted: 7, revenue: 105, sum_squares: 1575, successes: 7, rate: 0.2917 },
  B: { entered: 41, holdout: false, converted: 22, revenue: 330, sum_squares: 4950, successes: 22, rate: 0.5366 },
  holdout: { entered: 15, holdout: true, converted: 0, revenue: 0, sum_squares: 0, successes: 0, rate: 0 },
};

const journey: JourneyReport = {
  model: "last",
  goal: { event: "Order Completed", window_days: 7 },
  currency: "EUR",
  revenue_complete: true,
  totals: figures({ targeted: 80, sent: 65, cost: 0, roi: null }),
  journey: { id: 1, name: "Welcome", status: "active" },
  by_node: [
    { ...figures({ sent: 24, cost: 0, roi: null }), node: "a" },
    { ...figures({ sent: 41, cost: 0, roi: null }), node: "b" },
  ],
  enrollments: { entered: 80, converted: 0, active: 0, completed: 80, exited: 0 },
  experiments: [
    {
      node: "split", version: 1, metric: "conversion", goal_event: "Order Completed", window_hours: 24,
      min_per_branch: null, started_at: "2026-03-03T18:01:00Z", ends_at: "2026-03-04T18:01:00Z", decided: true,
      decided_at: "2026-03-04T19:01:00Z", winner: "B", confidence: 0.9999986149190176, decided_by: "window",
      decided_on: branches, branches,
      lift: { branch: "B", on: "conversion_rate", lift: 0.5365853658536586, ci95: [0.38394534131975266, 0.6892253903875645],
              holdout: { entered: 15, converted: 0, revenue: 0 } },
    },
    {
      node: "split2", version: 2, metric: "revenue", goal_event: "Booked", window_hours: 48, min_per_branch: 20,
      started_at: "2026-03-05T09:00:00Z", ends_at: "2026-03-07T09:00:00Z", decided: false, decided_at: null,
      winner: null, confidence: null, leader: "B", leader_confidence: 0.91, branches,
      lift: { branch: "B", on: "revenue_per_enrollment", lift: 8.05, ci95: [1.5, 14.6], holdout: { entered: 15, converted: 0, revenue: 0 } },
    },
  ],
}; // prettier-ignore

const timeseries = {
  source: "broadcast", id: 2, start: "2026-02-01T00:00:00Z", end: "2026-03-03T00:00:00Z", currency: "EUR",
  revenue_unconverted: {}, days: [{ date: "2026-03-02", sent: 85, opened: 5, clicked: 0, converted: 29, revenue: 800 }],
}; // prettier-ignore

describe("broadcast report", () => {
  it("shows a decided revenue experiment: the winner, each variant's test result, the lift over the holdout", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/reports/broadcasts/2": json(200, broadcast),
      "GET /api/v1/reports/timeseries": json(200, timeseries),
      "GET /api/v1/exchange-rates": json(200, { base: "EUR", rates: [] }),
    });
    renderWithProviders(<AppRoutes />, { path: "/reports/broadcasts/2" });
    expect(await screen.findByRole("heading", { level: 1, name: "Broadcast: premium" })).toBeTruthy();
    const section = screen.getByRole("region", { name: "Experiment" });
    expect(within(section).getByText("Decided")).toBeTruthy();
    expect(within(section).getByText("Winner: B (confidence 99.9%)")).toBeTruthy();
    const judged = within(section).getByRole("table", { name: "Test results on revenue per recipient" });
    expect(within(judged).getByRole("row", { name: /^A\s*23\s*7\s*€6\.09$/ })).toBeTruthy();
    expect(within(judged).getByRole("row", { name: /^B\s*24\s*11\s*€27\.50$/ })).toBeTruthy();
    const variants = within(section).getByRole("table", { name: "Variants" });
    expect(within(variants).getByRole("row", { name: /^Holdout\s*15\s*0\b/ })).toBeTruthy();
    expect(within(section).getByText("+18.3 percentage points (95% interval −6.3 to +42.9)")).toBeTruthy();
    expect(within(section).getByText("18 converted of 47 (38.3%)")).toBeTruthy();
    expect(within(section).getByText("13.02 per contact (95% interval 4.73 to 21.31)")).toBeTruthy();
    expect(screen.getByRole("button", { name: /Variants CSV/ })).toBeTruthy();
  });
});

describe("journey report", () => {
  it("lists split experiments: the decided winner and the leader of a running one, each with its lift", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/reports/journeys/1": json(200, journey),
      "GET /api/v1/reports/timeseries": json(200, { ...timeseries, source: "journey", id: 1 }),
      "GET /api/v1/exchange-rates": json(200, { base: "EUR", rates: [] }),
    });
    renderWithProviders(<AppRoutes />, { path: "/reports/journeys/1" });
    expect(await screen.findByRole("heading", { level: 1, name: "Journey: Welcome" })).toBeTruthy();
    const table = screen.getByRole("table", { name: "Split experiments" });
    const decided = within(table).getByRole("row", { name: /^split\s*1\s*conversion/ });
    expect(within(decided).getByText("B (confidence 100%)")).toBeTruthy();
    expect(within(decided).getByText("+53.7 percentage points (95% interval +38.4 to +68.9)")).toBeTruthy();
    expect(within(decided).getByText(/holdout \(Holdout\): 15 entered, 0%/)).toBeTruthy();
    const running = within(table).getByRole("row", { name: /^split2\s*2\s*revenue/ });
    expect(within(running).getByText("Leading: B (confidence 91%)")).toBeTruthy();
    expect(within(running).getByText("8.05 per contact (95% interval 1.5 to 14.6)")).toBeTruthy();
  });
});
