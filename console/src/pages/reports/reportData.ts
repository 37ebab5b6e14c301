// From report answers to chart data (pure functions, unit-tested).
import type { Formats } from "../../components/charts/format";
import type { ChartData } from "../../components/charts/model";
import type { FunnelReport, LifecycleReport, NodeRow, VariantRow } from "./types";

/** A difference of two rates (0.023) as signed percentage points: "+2.3". */
export function signedPoints(d: number | null | undefined, f: Formats): string {
  if (d === null || d === undefined) return "—";
  const points = Math.round(d * 1000) / 10;
  const text = f.number(Math.abs(points));
  return points > 0 ? `+${text}` : points < 0 ? `−${text}` : text;
}

/**
 * Variants side by side (the holdout last): open and click rates, and conversions per
 * contact targeted — the one figure the holdout, sent nothing, has too.
 */
export function variantChart(
  rows: VariantRow[],
  variantName: (v: string) => string,
  names: { variant: string; open: string; click: string; perContact: string },
): ChartData {
  return {
    categories: rows.map((r) => variantName(r.variant)),
    categoryTitle: names.variant,
    series: [
      { key: "open_rate", name: names.open, values: rows.map((r) => r.open_rate), kind: "percent" },
      { key: "click_rate", name: names.click, values: rows.map((r) => r.click_rate), kind: "percent" },
      {
        key: "per_contact",
        name: names.perContact,
        values: rows.map((r) => (r.targeted ? r.converted / r.targeted : null)),
        kind: "percent",
      },
    ],
  };
}

/** A journey's messages by node: sent, opened, clicked, converted. */
export function nodeChart(
  rows: NodeRow[],
  names: { node: string; sent: string; opened: string; clicked: string; converted: string },
): ChartData {
  return {
    categories: rows.map((r) => r.node),
    categoryTitle: names.node,
    series: (["sent", "opened", "clicked", "converted"] as const).map((key) => ({
      key,
      name: names[key],
      values: rows.map((r) => r[key]),
      kind: "count" as const,
    })),
  };
}

/** A funnel: its steps, contacts at each. */
export function funnelChart(report: FunnelReport, names: { step: string; contacts: string }, stepName: (i: number, event: string) => string): ChartData {
  return {
    layout: "funnel",
    categories: report.steps.map((s, i) => stepName(i + 1, s.event)),
    categoryTitle: names.step,
    series: [{ key: "contacts", name: names.contacts, values: report.steps.map((s) => s.contacts), kind: "count" }],
  };
}

/** Contacts entering each stage per period: one stacked bar per period. */
export function lifecycleChart(
  report: LifecycleReport,
  periodName: (period: string) => string,
  names: { period: string },
): ChartData {
  return {
    categories: report.periods.map((p) => periodName(p.period)),
    categoryTitle: names.period,
    series: report.stages.map((stage) => ({
      key: stage,
      name: stage,
      values: report.periods.map((p) => p.entered[stage] ?? 0),
      kind: "count" as const,
      stack: "entered",
    })),
  };
}

/** The live contacts per stage now (no stage last). */
export function currentStagesChart(report: LifecycleReport, noStage: string, names: { stage: string; contacts: string }): ChartData {
  return {
    layout: "horizontal",
    categories: report.current.map((c) => c.stage ?? noStage),
    categoryTitle: names.stage,
    series: [{ key: "contacts", name: names.contacts, values: report.current.map((c) => c.contacts), kind: "count" }],
  };
}
