import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../../routes";
import { formatsFor } from "../../components/charts/format";
import { lastDays } from "../../components/charts/range";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import type { DashboardReport } from "../reports/types";
import { dashboardCharts, dashboardRates } from "./dashboardData";

function report(days: string[]): DashboardReport {
  const figures = (i: number) => ({
    new_contacts: i + 1,
    events: 10 * (i + 1),
    sent: 100,
    delivered: 80,
    opened: 20,
    clicked: 5,
    conversions: i,
    revenue: 12.5 * i,
  });
  const all = days.map((date, i) => ({ date, ...figures(i) }));
  const sum = (k: keyof ReturnType<typeof figures>) => all.reduce((s, d) => s + d[k], 0);
  return {
    start: `${days[0]}T00:00:00Z`,
    end: `${days[days.length - 1]}T00:00:00Z`,
    as_of: "2026-03-10T12:00:00Z",
    currency: "EUR",
    revenue_complete: false,
    revenue_unconverted: { BRL: 100 },
    goal: { event: "Order Completed", window_days: 7 },
    contacts: { total: 1234 },
    days: all,
    totals: {
      new_contacts: sum("new_contacts"),
      events: sum("events"),
      sent: sum("sent"),
      delivered: sum("delivered"),
      opened: sum("opened"),
      clicked: sum("clicked"),
      conversions: sum("conversions"),
      revenue: sum("revenue"),
    },
    live_journeys: { count: 1, items: [{ id: 4, name: "Onboarding" }] },
    running_broadcasts: { count: 0, items: [] },
  };
}

describe("dashboard data", () => {
  it("maps the days to four charts and the totals to rates", () => {
    const r = report(["2026-03-01", "2026-03-02"]);
    const charts = dashboardCharts(r, formatsFor("en"), (k) => k);
    expect(charts.contacts.categories).toEqual(["Mar 1", "Mar 2"]);
    expect(charts.contacts.series[0]?.values).toEqual([1, 2]);
    expect(charts.events.series[0]?.values).toEqual([10, 20]);
    expect(charts.messages.series.map((s) => [s.key, s.type, s.values])).toEqual([
      ["sent", "line", [100, 100]],
      ["delivered", "line", [80, 80]],
      ["opened", "line", [20, 20]],
      ["clicked", "line", [5, 5]],
    ]);
    expect(charts.conversions.currency).toBe("EUR");
    expect(charts.conversions.series.map((s) => [s.key, s.kind, s.axis ?? 0])).toEqual([
      ["conversions", "count", 0],
      ["revenue", "money", 1],
    ]);
    expect(dashboardRates(r.totals)).toEqual({ delivery: 0.8, open: 0.25, click: 0.0625 });
    // no delivery reports: opens and clicks of what was sent; nothing sent: no rate
    expect(dashboardRates({ ...r.totals, delivered: 0 })).toEqual({ delivery: 0, open: 0.2, click: 0.05 });
    expect(dashboardRates({ ...r.totals, sent: 0, delivered: 0 }).open).toBeNull();
  });
});

describe("dashboard page", () => {
  it("shows tiles linking to their detail, charts with their data as a table, and re-asks for another range", async () => {
    const month = lastDays(30);
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/reports/dashboard": (request) => {
        const start = request.url.searchParams.get("start") ?? "";
        const days = start.startsWith(lastDays(7).from) ? lastDays(7) : month;
        const list: string[] = [];
        for (let d = new Date(`${days.from}T00:00:00Z`); d.toISOString().slice(0, 10) <= days.to; d.setUTCDate(d.getUTCDate() + 1)) {
          list.push(d.toISOString().slice(0, 10));
        }
        return json(200, report(list));
      },
    });
    renderWithProviders(<AppRoutes />, { path: "/dashboard" });
    expect(await screen.findByRole("heading", { level: 1, name: "Dashboard" })).toBeTruthy();

    const contacts = await screen.findByRole("link", { name: /Contacts\s*1,234/ });
    expect(contacts.getAttribute("href")).toBe("/contacts");
    expect(screen.getByRole("link", { name: /Delivered\s*2,400\s*80% of sent/ })).toBeTruthy();
    expect(screen.getByRole("link", { name: /Revenue\s*€5,437.50/ }).textContent).toContain("R$100.00");
    expect(screen.getByRole("link", { name: "Onboarding" }).getAttribute("href")).toBe("/reports/journeys/4");
    expect(screen.getByText("No broadcast is running")).toBeTruthy();

    // the default range: the last 30 UTC days
    const first = calls.find((c) => c.url.pathname === "/api/v1/reports/dashboard");
    expect(first?.url.searchParams.get("start")).toBe(`${month.from}T00:00:00Z`);

    // each chart: its element with role img and a summary, and its numbers as a table
    const figure = screen.getByRole("figure", { name: "New contacts" });
    const img = await within(figure).findByRole("img");
    expect(img.getAttribute("aria-label")).toMatch(/^New contacts: 30 points, .* New contacts: total 465, highest 30/);
    const user = userEvent.setup();
    await user.click(within(figure).getByRole("button", { name: "Show as table" }));
    const table = within(figure).getByRole("table");
    expect(within(table).getByRole("columnheader", { name: "New contacts" })).toBeTruthy();
    expect(within(table).getAllByRole("row")).toHaveLength(32); // header, 30 days, total
    expect(within(figure).queryByRole("img")).toBeNull();
    expect(within(figure).getByRole("button", { name: "Show as chart" }).getAttribute("aria-pressed")).toBe("true");

    // another range: asked again, for its days
    expect(screen.getByRole("button", { name: "Last 30 days", pressed: true })).toBeTruthy();
    await user.click(screen.getByText("Last 7 days"));
    await waitFor(() =>
      expect(calls.filter((c) => c.url.pathname === "/api/v1/reports/dashboard").at(-1)?.url.searchParams.get("start")).toBe(
        `${lastDays(7).from}T00:00:00Z`,
      ),
    );
    await waitFor(() => expect(within(figure).getAllByRole("row")).toHaveLength(9));
  });
});
