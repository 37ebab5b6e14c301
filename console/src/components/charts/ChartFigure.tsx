// A chart with its title, its numbers as a table, and a button to show the table instead of
// the chart. ECharts itself (EChart.tsx) is a chunk of its own, loaded when the first chart
// is drawn: a page shows its figures and tables without waiting for it.
//
// Accessibility: the chart's element has role="img" and a summary as its name (the range,
// each series' total and peak); the data table is always in the page — visually hidden while
// the chart is shown, so screen readers get every number — and "Show as table" shows it
// instead of the chart for anyone who prefers to read numbers (keyboard users included).
import { lazy, Suspense, useId, useMemo, useState, type ReactNode } from "react";
import { Button } from "antd";
import { useI18n } from "../../i18n";
import "../../i18n/analytics";
import { formatsFor } from "./format";
import { chartOption, chartSummary, chartTable, hasData, type ChartData, type SummaryText } from "./model";
import "./charts.css";

const EChart = lazy(() => import("./EChart"));

export interface ChartFigureProps {
  title: string;
  data: ChartData;
  height?: number;
  /** the heading level of the title (2 on a page of sections, 3 inside one) */
  level?: 2 | 3;
  /** a line under the title (what is counted, the time zone …) */
  hint?: ReactNode;
  /** controls beside the title (a metric switch …) */
  extra?: ReactNode;
  /** a "Total" row in the table (counts and money) */
  totals?: boolean;
}

function reducedMotion(): boolean {
  return typeof window !== "undefined" && typeof window.matchMedia === "function"
    ? window.matchMedia("(prefers-reduced-motion: reduce)").matches
    : false;
}

export function useSummaryText(): SummaryText {
  const { t, lang } = useI18n();
  return useMemo(
    () => ({
      range: (p) => t("chart.summary.range", p),
      series: (p) => t("chart.summary.series", p),
      rates: (p) => t("chart.summary.rates", p),
      point: (p) => t("chart.summary.point", p),
      empty: t("chart.summary.empty"),
      separator: lang === "zh-CN" ? "" : " ",
    }),
    [t, lang],
  );
}

export function ChartFigure({ title, data, height = 260, level = 2, hint, extra, totals = true }: ChartFigureProps) {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const text = useSummaryText();
  const [asTable, setAsTable] = useState(false);
  const titleId = useId();
  const summary = useMemo(() => chartSummary(title, data, f, text), [title, data, f, text]);
  const option = useMemo(() => chartOption(data, f, { summary, reducedMotion: reducedMotion() }), [data, f, summary]);
  const table = useMemo(() => chartTable(data, f, totals), [data, f, totals]);
  const Heading = level === 2 ? "h2" : "h3";

  return (
    <figure className="chart-figure" aria-labelledby={titleId}>
      <div className="chart-head">
        <Heading id={titleId} className="chart-title">
          {title}
        </Heading>
        <div className="chart-actions">
          {extra}
          <Button size="small" aria-pressed={asTable} onClick={() => setAsTable(!asTable)}>
            {asTable ? t("chart.showChart") : t("chart.showTable")}
          </Button>
        </div>
      </div>
      {hint ? <p className="chart-hint">{hint}</p> : null}
      {asTable ? null : (
        <div className="chart-box">
          <Suspense fallback={<div className="chart-canvas chart-loading" role="img" aria-label={summary} style={{ height }} />}>
            <EChart option={option} label={summary} height={height} lang={lang} />
          </Suspense>
          {hasData(data) ? null : <p className="chart-empty">{t("chart.noData")}</p>}
        </div>
      )}
      {/* shown: a scrollable region, reachable by keyboard; hidden: read by screen readers only */}
      <div
        className={asTable ? "chart-table-wrap" : "visually-hidden"}
        {...(asTable ? { tabIndex: 0, role: "region", "aria-label": t("chart.tableOf", { title }) } : {})}
      >
        <table className="chart-table">
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              {table.columns.map((c, i) => (
                <th key={i} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row) => (
              <tr key={row.key}>
                {row.cells.map((cell, i) =>
                  i === 0 ? (
                    <th key={i} scope="row">
                      {cell}
                    </th>
                  ) : (
                    <td key={i}>{cell}</td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
          {table.total ? (
            <tfoot>
              <tr>
                <th scope="row">{t("chart.total")}</th>
                {table.total.map((cell, i) => (
                  <td key={i}>{cell}</td>
                ))}
              </tr>
            </tfoot>
          ) : null}
        </table>
      </div>
    </figure>
  );
}
