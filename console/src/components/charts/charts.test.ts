import { describe, expect, it } from "vitest";
import { formatsFor, utcMidnightIn } from "./format";
import { chartOption, chartSummary, chartTable, hasData, type ChartData, type SummaryText } from "./model";
import { addDays, dayCount, lastDays, presetOf, rangeFromSearch, rangeParams, withRange } from "./range";

const en = formatsFor("en");
const zh = formatsFor("zh-CN");

const text: SummaryText = {
  range: (p) => `${p.title}: ${p.count} days, ${p.first} to ${p.last}.`,
  series: (p) => `${p.name}: total ${p.total}, highest ${p.max} on ${p.at}.`,
  rates: (p) => `${p.name}: ${p.min} to ${p.max}.`,
  point: (p) => `${p.name}: ${p.value}`,
  empty: "no data.",
};

const daily: ChartData = {
  categories: ["Mar 1", "Mar 2", "Mar 3"],
  categoryTitle: "Day",
  currency: "EUR",
  series: [
    { key: "conversions", name: "Conversions", values: [1, 4, 0], kind: "count" },
    { key: "revenue", name: "Revenue", values: [10, 42.5, 0], kind: "money", type: "line", axis: 1 },
  ],
};

describe("formats", () => {
  it("formats numbers, money, rates and UTC days in the user's language", () => {
    expect(en.number(1234567)).toBe("1,234,567");
    expect(en.money(42.5, "EUR")).toBe("€42.50");
    expect(en.money(42.5, null)).toBe("42.5");
    expect(en.money(3, "ZZ1")).toBe("ZZ1 3"); // not a code Intl knows: the code and the number
    expect(en.percent(0.1234)).toBe("12.3%");
    expect(en.percent(null)).toBe("—");
    expect(en.day("2026-03-02")).toBe("Mar 2");
    expect(zh.day("2026-03-02")).toBe("3月2日");
    expect(zh.money(42.5, "CNY")).toBe("¥42.50");
    expect(en.period("2026-03-01", "month")).toBe("March 2026");
  });

  it("says at what local time a UTC day starts in the workspace's time zone", () => {
    const winter = new Date("2026-01-15T12:00:00Z");
    expect(utcMidnightIn("Asia/Shanghai", "en", winter)).toBe("8:00 AM");
    expect(utcMidnightIn("Asia/Shanghai", "zh-CN", winter)).toBe("8:00");
    expect(utcMidnightIn("UTC", "en", winter)).toBeNull();
    expect(utcMidnightIn("Europe/London", "en", winter)).toBeNull();
    expect(utcMidnightIn("Not/AZone", "en", winter)).toBeNull();
    expect(utcMidnightIn(undefined, "en", winter)).toBeNull();
  });
});

describe("date ranges", () => {
  it("counts whole UTC days, both ends included, and asks for [first 00:00, day after last 00:00)", () => {
    expect(lastDays(7, "2026-03-10")).toEqual({ from: "2026-03-04", to: "2026-03-10" });
    expect(dayCount({ from: "2026-03-04", to: "2026-03-10" })).toBe(7);
    expect(rangeParams({ from: "2026-02-27", to: "2026-02-28" })).toEqual({
      start: "2026-02-27T00:00:00Z",
      end: "2026-03-01T00:00:00Z",
    });
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29");
    expect(presetOf({ from: "2026-03-04", to: "2026-03-10" }, "2026-03-10")).toBe(7);
    expect(presetOf({ from: "2026-03-04", to: "2026-03-09" }, "2026-03-10")).toBeNull();
  });

  it("reads a valid range from the address, else the default", () => {
    const today = "2026-03-10";
    const read = (q: string) => rangeFromSearch(new URLSearchParams(q), 30, today);
    expect(read("from=2026-01-01&to=2026-01-31")).toEqual({ from: "2026-01-01", to: "2026-01-31" });
    const fallback = { from: "2026-02-09", to: today };
    expect(read("from=2026-01-31&to=2026-01-01")).toEqual(fallback); // reversed
    expect(read("from=2026-02-30&to=2026-03-01")).toEqual(fallback); // no such day
    expect(read("from=2024-01-01&to=2026-01-01")).toEqual(fallback); // over 400 days
    expect(read("")).toEqual(fallback);
    expect(withRange(new URLSearchParams("model=first"), { from: "2026-01-01", to: "2026-01-02" }).toString()).toBe(
      "model=first&from=2026-01-01&to=2026-01-02",
    );
  });
});

describe("chart data", () => {
  it("makes an ECharts option with aria on, our summary as its description, and a money axis beside counts", () => {
    const option = chartOption(daily, en, { summary: "the summary" }) as {
      aria: { enabled: boolean; label: { description: string } };
      tooltip: { renderMode: string };
      xAxis: { data: string[] };
      yAxis: { axisLabel: { formatter: (v: number) => string } }[];
      series: { type: string; name: string; data: number[]; yAxisIndex: number; tooltip: { valueFormatter: (v: number) => string } }[];
      animation: boolean;
    };
    expect(option.aria).toEqual({ enabled: true, label: { enabled: true, description: "the summary" } });
    expect(option.tooltip.renderMode).toBe("richText"); // no HTML built from names
    expect(option.xAxis.data).toEqual(["Mar 1", "Mar 2", "Mar 3"]);
    expect(option.series.map((s) => [s.type, s.name, s.yAxisIndex])).toEqual([
      ["bar", "Conversions", 0],
      ["line", "Revenue", 1],
    ]);
    expect(option.series[1]?.data).toEqual([10, 42.5, 0]);
    expect(option.series[1]?.tooltip.valueFormatter(42.5)).toBe("€42.50");
    expect(option.yAxis[1]?.axisLabel.formatter(1500)).toBe("€1.5K");
    expect(option.animation).toBe(true);
    expect((chartOption(daily, en, { summary: "", reducedMotion: true }) as { animation: boolean }).animation).toBe(false);
  });

  it("says what the chart shows: the range, each series' total and peak", () => {
    expect(chartSummary("Sales", daily, en, text)).toBe(
      "Sales: 3 days, Mar 1 to Mar 3. Conversions: total 5, highest 4 on Mar 2. Revenue: total €52.50, highest €42.50 on Mar 2.",
    );
    expect(chartSummary("Sales", { ...daily, categories: [], series: [] }, en, text)).toBe("Sales: no data.");
  });

  it("gives the numbers as a table with a total row (counts and money, not rates)", () => {
    const table = chartTable(daily, en, true);
    expect(table.columns).toEqual(["Day", "Conversions", "Revenue"]);
    expect(table.rows.map((r) => r.cells)).toEqual([
      ["Mar 1", "1", "€10.00"],
      ["Mar 2", "4", "€42.50"],
      ["Mar 3", "0", "€0.00"],
    ]);
    expect(table.total).toEqual(["5", "€52.50"]);
    const rates: ChartData = { categories: ["A", "B"], categoryTitle: "Variant", series: [{ key: "r", name: "Rate", values: [0.5, null], kind: "percent" }] };
    expect(chartTable(rates, en, true).rows.map((r) => r.cells)).toEqual([
      ["A", "50%"],
      ["B", "—"],
    ]);
    expect(chartTable(rates, en, true).total).toEqual([""]);
    expect(hasData({ ...daily, series: [{ key: "x", name: "x", values: [0, null] }] })).toBe(false);
  });

  it("draws a funnel in step order with each step's share of the first", () => {
    const funnel: ChartData = {
      layout: "funnel",
      categories: ["1. Viewed", "2. Bought"],
      categoryTitle: "Step",
      series: [{ key: "contacts", name: "Contacts", values: [200, 50], kind: "count" }],
    };
    const option = chartOption(funnel, en, { summary: "s" }) as {
      series: { type: string; sort: string; data: { name: string; value: number; label: { formatter: string } }[] }[];
    };
    expect(option.series[0]?.type).toBe("funnel");
    expect(option.series[0]?.sort).toBe("none");
    expect(option.series[0]?.data.map((d) => [d.name, d.value, d.label.formatter])).toEqual([
      ["1. Viewed", 200, "200 (100%)"],
      ["2. Bought", 50, "50 (25%)"],
    ]);
    expect(chartSummary("Funnel", funnel, en, text)).toBe("Funnel: 1. Viewed: 200; 2. Bought: 50.");
  });
});
