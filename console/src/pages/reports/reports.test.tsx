import { describe, expect, it, vi } from "vitest";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../../routes";
import { formatsFor } from "../../components/charts/format";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import { funnelChart, lifecycleChart, signedPoints, variantChart } from "./reportData";
import type {
  AttributionModel,
  CampaignReport,
  FunnelReport,
  LifecycleReport,
  ReportFigures,
  TimeseriesReport,
  VariantRow,
} from "./types";

const en = formatsFor("en");

function figures(extra: Partial<ReportFigures> = {}): ReportFigures {
  return {
    targeted: 10, sent: 10, delivered: 0, opened: 6, clicked: 3, unsubscribed: 0, bounced: 0, failed: 0,
    skipped: 0, converted: 2, revenue: 42.5, cost: 0.1, roi: 424, open_rate: 0.6, click_rate: 0.3,
    conversion_rate: 0.2, revenue_unconverted: {}, ...extra,
  }; // prettier-ignore
}

function campaignReport(model: AttributionModel): CampaignReport {
  const totals = figures(model === "linear" ? { converted: 1.5, revenue: 30 } : {});
  return {
    campaign: { id: 3, name: "Spring sale", status: "active" },
    model,
    goal: { event: "Order Completed", window_days: 7 },
    currency: "EUR",
    revenue_complete: true,
    totals,
    by_channel: [{ channel: "email", ...totals }],
    budget: { budget: 5, currency: "EUR", used: 0.1, remaining: 4.9 },
  };
}

describe("report data", () => {
  it("sets variants side by side, the holdout compared per contact", () => {
    const rows: VariantRow[] = [
      { variant: "A", ...figures({ targeted: 100, converted: 10 }) },
      { variant: "holdout", ...figures({ targeted: 50, sent: 0, converted: 2, open_rate: null, click_rate: null }) },
    ];
    const chart = variantChart(rows, (v) => (v === "holdout" ? "Holdout" : v), {
      variant: "Variant", open: "Open rate", click: "Click rate", perContact: "Per contact",
    }); // prettier-ignore
    expect(chart.categories).toEqual(["A", "Holdout"]);
    expect(chart.series.map((s) => s.values)).toEqual([
      [0.6, null],
      [0.3, null],
      [0.1, 0.04],
    ]);
    expect(signedPoints(0.023, en)).toBe("+2.3");
    expect(signedPoints(-0.0051, en)).toBe("−0.5");
    expect(signedPoints(null, en)).toBe("—");
  });

  it("stacks lifecycle entries by stage per period, and draws funnels in step order", () => {
    const lifecycle: LifecycleReport = {
      start: "2026-03-02T00:00:00Z", end: "2026-03-16T00:00:00Z", interval: "week", as_of: "2026-03-16T09:00:00Z",
      stages: ["customer", "lead"],
      periods: [
        { period: "2026-03-02", entered: { lead: 3 } },
        { period: "2026-03-09", entered: { lead: 1, customer: 2 } },
      ],
      transitions: [], current: [],
    }; // prettier-ignore
    const chart = lifecycleChart(lifecycle, (p) => p, { period: "Period" });
    expect(chart.series.map((s) => [s.name, s.stack, s.values])).toEqual([
      ["customer", "entered", [0, 2]],
      ["lead", "entered", [3, 1]],
    ]);
    const funnel = funnelChart(
      {
        start: "2026-03-01T00:00:00Z", end: "2026-03-08T00:00:00Z", within_days: 7,
        steps: [{ event: "Viewed", contacts: 9, from_previous: null, from_first: 1 }, { event: "Bought", contacts: 3, from_previous: 0.3333, from_first: 0.3333 }],
      }, // prettier-ignore
      { step: "Step", contacts: "Contacts" },
      (n, e) => `${n}. ${e}`,
    );
    expect([funnel.layout, funnel.categories, funnel.series[0]?.values]).toEqual(["funnel", ["1. Viewed", "2. Bought"], [9, 3]]);
  });
});

describe("campaign report", () => {
  it("asks again when the attribution model changes, and downloads the CSV with format=csv", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/reports/campaigns/3": (request) => {
        if (request.url.searchParams.get("format") === "csv") {
          return new Response("channel,targeted\ntotal,10\n", { status: 200, headers: { "Content-Type": "text/csv" } });
        }
        return json(200, campaignReport((request.url.searchParams.get("model") ?? "last") as AttributionModel));
      },
      "GET /api/v1/broadcasts": json(200, { data: [], next: null }),
      "GET /api/v1/exchange-rates": json(200, { base: "EUR", rates: [] }),
      "GET /api/v1/reports/timeseries": json(200, {
        source: "campaign", id: 3, start: "2026-02-01T00:00:00Z", end: "2026-03-03T00:00:00Z", currency: "EUR",
        revenue_unconverted: {}, days: [{ date: "2026-03-02", sent: 10, opened: 6, clicked: 3, converted: 2, revenue: 42.5 }],
      } satisfies TimeseriesReport), // prettier-ignore
    });
    const created = vi.fn((_blob: Blob) => "blob:report");
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: created, revokeObjectURL: vi.fn() }));
    const clicks = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});

    renderWithProviders(<AppRoutes />, { path: "/reports/campaigns/3" });
    expect(await screen.findByRole("heading", { level: 1, name: "Campaign: Spring sale" })).toBeTruthy();
    const tiles = screen.getByRole("list", { name: "Totals" });
    expect(within(tiles).getByText("€42.50")).toBeTruthy();
    expect(screen.getByText("Budget: €0.10 used of €5.00, €4.90 left.")).toBeTruthy();
    const reportCalls = () => calls.filter((c) => c.url.pathname === "/api/v1/reports/campaigns/3");
    expect(reportCalls()[0]?.url.searchParams.get("model")).toBe("last");

    // the model switch: the report is asked again with model=linear
    const model = screen.getByLabelText("Attribution model");
    fireEvent.mouseDown(model);
    fireEvent.click(await screen.findByTitle("Linear"));
    await waitFor(() => expect(reportCalls().at(-1)?.url.searchParams.get("model")).toBe("linear"));
    await waitFor(() => expect(within(screen.getByRole("list", { name: "Totals" })).getByText("€30.00")).toBeTruthy());

    // the CSV: the same report with format=csv, the model kept, saved as a file
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: /Download CSV/ }));
    await waitFor(() => expect(clicks).toHaveBeenCalled());
    const csv = reportCalls().find((c) => c.url.searchParams.get("format") === "csv");
    expect(csv?.url.searchParams.get("model")).toBe("linear");
    expect(csv?.headers.get("Accept")).toBe("text/csv");
    expect(csv?.headers.get("X-Kairos-Workspace")).toBe("7");
    const blob = created.mock.calls[0]?.[0];
    expect(await blob?.text()).toBe("channel,targeted\ntotal,10\n");
  });
});

describe("funnel", () => {
  it("sends the steps built from event names, and shows contacts per step", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/segments/reference": json(200, {
        operators: [], definition_schema: {}, fields: [], events: ["Product Viewed", "Order Completed"], tags: [], segments: [],
      }), // prettier-ignore
      "POST /api/v1/reports/funnel": json(200, {
        start: "2026-03-01T00:00:00Z", end: "2026-03-08T00:00:00Z", within_days: 3,
        steps: [
          { event: "Product Viewed", contacts: 40, from_previous: null, from_first: 1 },
          { event: "Order Completed", contacts: 10, from_previous: 0.25, from_first: 0.25 },
        ],
      } satisfies FunnelReport), // prettier-ignore
    });
    renderWithProviders(<AppRoutes />, { path: "/reports/funnel?from=2026-03-01&to=2026-03-07" });
    expect(await screen.findByRole("heading", { level: 1, name: "Funnel" })).toBeTruthy();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Show funnel" }));
    expect(await screen.findByText("Name an event for every step.")).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await user.type(screen.getByLabelText("Step 1"), "Product Viewed");
    await user.type(screen.getByLabelText("Step 2"), "Order Completed");
    const within3 = screen.getByLabelText("All steps within");
    await user.clear(within3);
    await user.type(within3, "3");
    await user.click(screen.getByRole("button", { name: "Show funnel" }));

    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    const post = calls.find((c) => c.method === "POST");
    expect(JSON.parse(post?.body ?? "{}")).toEqual({
      steps: ["Product Viewed", "Order Completed"],
      within_days: 3,
      start: "2026-03-01T00:00:00Z",
      end: "2026-03-08T00:00:00Z",
    });
    const result = await screen.findByRole("table", { name: "Funnel" });
    expect(within(result).getByRole("row", { name: /2\. Order Completed\s*10\s*25%\s*25%/ })).toBeTruthy();
  });
});
