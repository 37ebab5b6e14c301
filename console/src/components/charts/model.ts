// What a chart shows, independent of ECharts: categories (days, steps, variants …) and series
// of values. The same data makes the ECharts option (`chartOption`), the sentence a screen
// reader hears (`chartSummary`) and the data table shown instead of the chart (`chartTable`).
// Pure functions: unit-tested without a browser.
import type { Formats } from "./format";

/** How a series' values read: counts, money in the chart's currency, or rates 0..1. */
export type ValueKind = "count" | "money" | "percent";

export interface ChartSeries {
  key: string;
  name: string;
  values: (number | null)[];
  /** bar (the default) or line; a funnel chart has one series */
  type?: "bar" | "line";
  kind?: ValueKind;
  /** the right-hand axis (money beside counts) */
  axis?: 0 | 1;
  /** bars of the same stack are stacked */
  stack?: string;
}

export interface ChartData {
  /** the categories as shown (formatted days, step names …) */
  categories: string[];
  /** the heading of the categories' column in the data table ("Day", "Step" …) */
  categoryTitle: string;
  series: ChartSeries[];
  /** "funnel": one series drawn as a funnel; "bar-horizontal": bars along the y axis */
  layout?: "default" | "funnel" | "horizontal";
  /** the currency of the money series */
  currency?: string | null;
}

/** What the summary sentence says, in the user's language (from the analytics catalog). */
export interface SummaryText {
  /** "{title}: {count} {categoryTitle}, from {first} to {last}." */
  range: (p: { title: string; count: number; first: string; last: string }) => string;
  /** "{name}: total {total}, highest {max} on {at}." */
  series: (p: { name: string; total: string; max: string; at: string }) => string;
  /** "{name}: from {min} to {max}." (rates: no total) */
  rates: (p: { name: string; min: string; max: string }) => string;
  /** "{name}: {value}" (a funnel step, a single value) */
  point: (p: { name: string; value: string }) => string;
  /** "No data." */
  empty: string;
  /** between sentences: a space, none in Chinese */
  separator?: string;
}

export const FONT_FAMILY =
  '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", sans-serif';

/** Colours with at least 3:1 contrast on white (WCAG non-text contrast), in series order. */
export const PALETTE = ["#0958d9", "#d46b08", "#389e0d", "#722ed1", "#c41d7f", "#08979c", "#ad2102", "#5b8c00"];

export function formatValue(value: number | null | undefined, kind: ValueKind | undefined, f: Formats, currency?: string | null): string {
  if (value === null || value === undefined) return "—";
  if (kind === "money") return f.money(value, currency);
  if (kind === "percent") return f.percent(value);
  return f.number(value);
}

function compactValue(value: number, kind: ValueKind | undefined, f: Formats, currency?: string | null): string {
  if (kind === "money") return f.compactMoney(value, currency);
  if (kind === "percent") return f.percent(value);
  return f.compact(value);
}

export function seriesTotal(series: ChartSeries): number {
  return series.values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
}

/** Whether there is anything to draw (some value other than 0 or null). */
export function hasData(data: ChartData): boolean {
  return data.series.some((s) => s.values.some((v) => v !== null && v !== 0));
}

/** The sentence read for the chart (its role="img" label): the range, then each series' total and peak. */
export function chartSummary(title: string, data: ChartData, f: Formats, text: SummaryText): string {
  const { categories } = data;
  if (categories.length === 0 || data.series.length === 0) return `${title}: ${text.empty}`;
  if (data.layout === "funnel" || categories.length === 1) {
    const parts = data.series.flatMap((s) =>
      categories.map((c, i) =>
        text.point({ name: data.series.length > 1 ? `${s.name} ${c}` : c, value: formatValue(s.values[i], s.kind, f, data.currency) }),
      ),
    );
    return `${title}: ${parts.join("; ")}.`;
  }
  const sentences = [
    text.range({ title, count: categories.length, first: categories[0] ?? "", last: categories[categories.length - 1] ?? "" }),
  ];
  for (const s of data.series) {
    const present = s.values.map((v, i) => [v, i] as const).filter((p): p is readonly [number, number] => p[0] !== null);
    if (present.length === 0) continue;
    let best = present[0] as readonly [number, number];
    let low = best;
    for (const p of present) {
      if (p[0] > best[0]) best = p;
      if (p[0] < low[0]) low = p;
    }
    if (s.kind === "percent") {
      sentences.push(text.rates({ name: s.name, min: f.percent(low[0]), max: f.percent(best[0]) }));
    } else {
      sentences.push(
        text.series({
          name: s.name,
          total: formatValue(seriesTotal(s), s.kind, f, data.currency),
          max: formatValue(best[0], s.kind, f, data.currency),
          at: categories[best[1]] ?? "",
        }),
      );
    }
  }
  return sentences.join(text.separator ?? " ");
}

export interface ChartTable {
  columns: string[];
  rows: { key: string; cells: string[] }[];
  /** a "Total" row's cells (counts and money add up; rates do not) */
  total: string[] | null;
}

/** The chart's numbers as a table: one row per category, one column per series. */
export function chartTable(data: ChartData, f: Formats, withTotal: boolean): ChartTable {
  const columns = [data.categoryTitle, ...data.series.map((s) => s.name)];
  const rows = data.categories.map((category, i) => ({
    key: `${i}`,
    cells: [category, ...data.series.map((s) => formatValue(s.values[i], s.kind, f, data.currency))],
  }));
  const total =
    withTotal && data.categories.length > 1 && data.layout !== "funnel"
      ? data.series.map((s) => (s.kind === "percent" ? "" : formatValue(seriesTotal(s), s.kind, f, data.currency)))
      : null;
  return { columns, rows, total };
}

/** Enough of ECharts' option type for what the console draws (the option is plain data). */
export type ChartOption = Record<string, unknown>;

/**
 * The ECharts option: `aria` on with our summary as its description (ECharts puts it on the
 * chart's element with role="img"), a tooltip drawn inside the chart (`richText`: no HTML
 * is built from the data), values formatted with Intl, no animation when the user asks
 * for reduced motion.
 */
export function chartOption(
  data: ChartData,
  f: Formats,
  { summary, reducedMotion = false }: { summary: string; reducedMotion?: boolean },
): ChartOption {
  const currency = data.currency;
  const kindOf = (axis: 0 | 1) => data.series.find((s) => (s.axis ?? 0) === axis)?.kind;
  // grid: ECharts 6 keeps the axis labels inside the element itself (`outerBoundsMode: "auto"`)
  const base: ChartOption = {
    aria: { enabled: true, label: { enabled: true, description: summary } },
    animation: !reducedMotion,
    color: PALETTE,
    // the page's fonts by name: ECharts measures labels with them ("inherit" cannot be measured)
    textStyle: { fontFamily: FONT_FAMILY },
    tooltip: {
      trigger: data.layout === "funnel" ? "item" : "axis",
      renderMode: "richText",
      confine: true,
    },
  };
  if (data.layout === "funnel") {
    const s = data.series[0];
    const first = s?.values[0] ?? 0;
    return {
      ...base,
      tooltip: { trigger: "item", renderMode: "richText", confine: true },
      series: s
        ? [
            {
              type: "funnel",
              name: s.name,
              sort: "none",
              gap: 2,
              left: "10%",
              width: "80%",
              minSize: "8%",
              label: { show: true, position: "inside", color: "#ffffff" },
              data: data.categories.map((name, i) => {
                const value = s.values[i] ?? 0;
                const share = first ? f.percent(value / first) : "—";
                return {
                  name,
                  value,
                  label: { formatter: `${f.number(value)} (${share})` },
                  tooltip: { valueFormatter: () => `${f.number(value)} (${share})` },
                };
              }),
            },
          ]
        : [],
    };
  }
  const horizontal = data.layout === "horizontal";
  const categoryAxis = {
    type: "category",
    data: data.categories,
    axisTick: { alignWithLabel: true },
    axisLabel: { hideOverlap: true, color: "rgba(0, 0, 0, 0.65)" },
  };
  const valueAxis = (axis: 0 | 1) => {
    const kind = kindOf(axis);
    return {
      type: "value",
      minInterval: kind === "count" || kind === undefined ? 1 : undefined,
      max: kind === "percent" ? 1 : undefined,
      axisLabel: {
        color: "rgba(0, 0, 0, 0.65)",
        formatter: (value: number) => compactValue(value, kind, f, currency),
      },
      splitLine: { show: axis === 0 },
    };
  };
  const twoAxes = data.series.some((s) => s.axis === 1);
  const valueAxes = twoAxes ? [valueAxis(0), valueAxis(1)] : [valueAxis(0)];
  return {
    ...base,
    legend:
      data.series.length > 1
        ? { top: 0, type: "scroll", itemGap: 16, textStyle: { color: "rgba(0, 0, 0, 0.75)" } }
        : undefined,
    grid: { left: 8, right: twoAxes ? 8 : 16, top: data.series.length > 1 ? 36 : 12, bottom: 8 },
    xAxis: horizontal ? valueAxes : categoryAxis,
    yAxis: horizontal ? { ...categoryAxis, inverse: true } : valueAxes,
    series: data.series.map((s) => ({
      type: s.type ?? "bar",
      name: s.name,
      data: s.values,
      stack: s.stack,
      [horizontal ? "xAxisIndex" : "yAxisIndex"]: twoAxes ? (s.axis ?? 0) : 0,
      showSymbol: s.type === "line" ? data.categories.length <= 31 : undefined,
      symbolSize: 5,
      barMaxWidth: 28,
      emphasis: { focus: "series" },
      tooltip: { valueFormatter: (value: number | null) => formatValue(value, s.kind, f, currency) },
    })),
  };
}
