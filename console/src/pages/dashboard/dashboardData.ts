// From GET /reports/dashboard to what the dashboard shows: its tiles' rates and its charts'
// data (pure functions, unit-tested).
import type { Formats } from "../../components/charts/format";
import type { ChartData } from "../../components/charts/model";
import type { DashboardFigures, DashboardReport } from "../reports/types";

export function rate(n: number, of: number): number | null {
  return of > 0 ? n / of : null;
}

/**
 * Rates as the reports count them: delivered of sent; opened and clicked of delivered, or of
 * sent when no provider reported delivery. The dashboard adds every channel (SMS and push
 * opens cannot be seen), and counts opens on the day they happen: these are indications.
 */
export function dashboardRates(totals: DashboardFigures) {
  const reached = totals.delivered || totals.sent;
  return {
    delivery: rate(totals.delivered, totals.sent),
    open: rate(totals.opened, reached),
    click: rate(totals.clicked, reached),
  };
}

export type DashboardSeries =
  | "day"
  | "newContacts"
  | "events"
  | "sent"
  | "delivered"
  | "opened"
  | "clicked"
  | "conversions"
  | "revenue";

export interface DashboardCharts {
  contacts: ChartData;
  events: ChartData;
  messages: ChartData;
  conversions: ChartData;
}

/** The four charts of the dashboard, one category per UTC day of the report. */
export function dashboardCharts(report: DashboardReport, f: Formats, name: (series: DashboardSeries) => string): DashboardCharts {
  const categories = report.days.map((d) => f.day(d.date));
  const categoryTitle = name("day");
  const column = (key: keyof DashboardFigures) => report.days.map((d) => d[key]);
  return {
    contacts: {
      categories,
      categoryTitle,
      series: [{ key: "new_contacts", name: name("newContacts"), values: column("new_contacts"), kind: "count" }],
    },
    events: {
      categories,
      categoryTitle,
      series: [{ key: "events", name: name("events"), values: column("events"), kind: "count" }],
    },
    messages: {
      categories,
      categoryTitle,
      series: (["sent", "delivered", "opened", "clicked"] as const).map((key) => ({
        key,
        name: name(key),
        values: column(key),
        type: "line" as const,
        kind: "count" as const,
      })),
    },
    conversions: {
      categories,
      categoryTitle,
      currency: report.currency,
      series: [
        { key: "conversions", name: name("conversions"), values: column("conversions"), kind: "count" },
        { key: "revenue", name: name("revenue"), values: column("revenue"), kind: "money", type: "line", axis: 1 },
      ],
    },
  };
}
