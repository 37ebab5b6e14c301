// What the report pages share: the attribution model and currency (kept in the address, so
// switching one asks the server again), the CSV download, the figures as tiles and as a
// table, names of statuses, channels and models, the daily chart of a campaign, broadcast or
// journey.
import { useMemo, type ReactNode } from "react";
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { Button, Select, Table, Tag, type TableColumnsType } from "antd";
import { ArrowLeftOutlined, DownloadOutlined } from "@ant-design/icons";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey, useWorkspaceToday } from "../../auth/SessionProvider";
import { ChartFigure } from "../../components/charts/ChartFigure";
import { DateRangeControl } from "../../components/charts/DateRangeControl";
import { formatsFor, type Formats } from "../../components/charts/format";
import type { ChartData } from "../../components/charts/model";
import { rangeFromSearch, rangeParams, withRange, type DayRange } from "../../components/charts/range";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { isMessageKey, useI18n, type MessageKey } from "../../i18n";
import "../../i18n/analytics";
import { saveBlob } from "../../lib/download";
import {
  jsonReport,
  METRICS,
  MODELS,
  type AttributionModel,
  type Goal,
  type ReportFigures,
  type Source,
  type TimeseriesMetric,
  type TimeseriesReport,
} from "./types";
import "./analytics.css";

/** The label of a value from the API (a status, a channel …) when the catalog names it, else the value. */
export function useValueLabel() {
  const { t } = useI18n();
  return (prefix: string, value: string | null | undefined): string => {
    if (value === null || value === undefined || value === "") return t("common.none");
    const key = `${prefix}.${value}`;
    return isMessageKey(key) ? t(key) : value;
  };
}

/** A status as a tag; colours darker than antd's presets, for AA contrast. */
export function StatusTag({ status }: { status: string }) {
  const label = useValueLabel();
  const tone =
    status === "active" || status === "sending" || status === "testing"
      ? "tag-good"
      : status === "scheduled" || status === "approved" || status === "queued"
        ? "tag-info"
        : undefined;
  return <Tag className={tone}>{label("reports.status", status)}</Tag>;
}

export function BackToReports() {
  const { t } = useI18n();
  return (
    <Link to="/reports" className="back-link">
      <ArrowLeftOutlined /> {t("reports.back")}
    </Link>
  );
}

/** `?model=` and `?currency=` of the page: the attribution model and the report's currency. */
export function useReportOptions() {
  const [params, setParams] = useSearchParams();
  const raw = params.get("model");
  const model: AttributionModel = MODELS.includes(raw as AttributionModel) ? (raw as AttributionModel) : "last";
  const currency = /^[A-Z]{3}$/.test(params.get("currency") ?? "") ? (params.get("currency") as string) : null;
  const set = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  return {
    model,
    currency,
    setModel: (m: AttributionModel) => set("model", m === "last" ? null : m),
    setCurrency: (c: string | null) => set("currency", c),
    query: { model, ...(currency ? { currency } : {}) },
  };
}

export function Control({ label, htmlFor, children }: { label: string; htmlFor: string; children: ReactNode }) {
  return (
    <div className="control">
      <label className="control-label" htmlFor={htmlFor}>
        {label}
      </label>
      {children}
    </div>
  );
}

export function ModelSelect({ value, onChange }: { value: AttributionModel; onChange: (m: AttributionModel) => void }) {
  const { t } = useI18n();
  return (
    <Control label={t("reports.model")} htmlFor="report-model">
      <Select
        id="report-model"
        value={value}
        onChange={onChange}
        style={{ minWidth: 170 }}
        options={MODELS.map((m) => ({ value: m, label: t(`reports.model.${m}` as MessageKey) }))}
      />
    </Control>
  );
}

/** The currencies money can be reported in: the exchange-rate table's base and its currencies. */
export function CurrencySelect({
  value,
  reportCurrency,
  onChange,
}: {
  value: string | null;
  reportCurrency: string | null | undefined;
  onChange: (c: string | null) => void;
}) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const rates = useQuery({
    queryKey: ["exchange-rates", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/exchange-rates")),
    staleTime: 5 * 60_000,
  });
  const currencies = useMemo(() => {
    const all = new Set<string>();
    if (rates.data?.base) all.add(rates.data.base);
    for (const r of rates.data?.rates ?? []) all.add(r.currency);
    if (reportCurrency) all.add(reportCurrency);
    if (value) all.add(value);
    return [...all].sort();
  }, [rates.data, reportCurrency, value]);
  return (
    <Control label={t("reports.currency")} htmlFor="report-currency">
      <Select
        id="report-currency"
        value={value ?? ""}
        onChange={(v: string) => onChange(v || null)}
        style={{ minWidth: 150 }}
        options={[
          { value: "", label: t("reports.currency.default") },
          ...currencies.map((c) => ({ value: c, label: c })),
        ]}
      />
    </Control>
  );
}

/** A button that fetches a CSV with the console's headers (session, workspace) and saves it. */
export function CsvButton({ fetchCsv, filename, label }: { fetchCsv: () => Promise<Blob>; filename: string; label?: string }) {
  const { t } = useI18n();
  const download = useMutation({
    mutationFn: async () => saveBlob(await fetchCsv(), filename),
  });
  return (
    <span className="csv-button">
      <Button icon={<DownloadOutlined />} loading={download.isPending} onClick={() => download.mutate()}>
        {label ?? t("reports.csv")}
      </Button>
      {download.isError ? <ErrorAlert error={download.error} /> : null}
    </span>
  );
}

type Figure = Exclude<keyof ReportFigures, "revenue_unconverted">;
const COUNTS: Figure[] = ["targeted", "sent", "delivered", "opened", "clicked", "unsubscribed", "bounced", "failed", "skipped"];
const RATES: Figure[] = ["open_rate", "click_rate", "conversion_rate"];

export function figureText(name: Figure, row: ReportFigures, f: Formats, currency: string | null): string {
  const value = row[name];
  if (value === null || value === undefined) return "—";
  if (name === "revenue" || name === "cost") return f.money(value, currency);
  if (name === "roi") return f.percent(value);
  if (RATES.includes(name)) return f.percent(value);
  return f.number(value);
}

function unconvertedText(row: ReportFigures, f: Formats): string {
  return Object.entries(row.revenue_unconverted)
    .map(([c, amount]) => f.money(amount, c))
    .join(", ");
}

/** The headline figures of a report. */
export function FigureTiles({ totals, currency, extra }: { totals: ReportFigures; currency: string | null; extra?: ReactNode }) {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const tile = (label: string, value: string, sub?: string) => (
    <li className="tile" key={label}>
      <div className="tile-body">
        <span className="tile-label">{label}</span>
        <span className="tile-value">{value}</span>
        {sub ? <span className="tile-sub">{sub}</span> : null}
      </div>
    </li>
  );
  const unconverted = unconvertedText(totals, f);
  return (
    <ul className="tiles" aria-label={t("reports.totals")}>
      {tile(t("reports.figure.targeted"), f.number(totals.targeted))}
      {tile(t("reports.figure.sent"), f.number(totals.sent), t("reports.deliveredOf", { n: f.number(totals.delivered) }))}
      {tile(t("reports.figure.open_rate"), f.percent(totals.open_rate), t("reports.openedOf", { n: f.number(totals.opened) }))}
      {tile(t("reports.figure.click_rate"), f.percent(totals.click_rate), t("reports.clickedOf", { n: f.number(totals.clicked) }))}
      {tile(
        t("reports.figure.converted"),
        f.number(totals.converted),
        t("reports.conversionRate", { rate: f.percent(totals.conversion_rate) }),
      )}
      {tile(
        t("reports.figure.revenue"),
        f.money(totals.revenue, currency),
        unconverted ? t("reports.unconverted", { amounts: unconverted }) : undefined,
      )}
      {tile(
        t("reports.figure.roi"),
        f.percent(totals.roi),
        t("reports.costOf", { cost: f.money(totals.cost, currency) }),
      )}
      {extra}
    </ul>
  );
}

/** Report rows (by channel, node, variant) with every figure; the totals as the last row. */
export function FiguresTable<Row extends ReportFigures>({
  rows,
  totals,
  keyTitle,
  keyOf,
  renderKey,
  currency,
  label,
}: {
  rows: Row[];
  totals?: ReportFigures;
  keyTitle: string;
  keyOf: (row: Row) => string;
  renderKey?: (row: Row) => ReactNode;
  currency: string | null;
  label: string;
}) {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const shown: Figure[] = [...COUNTS, "converted", "revenue", "cost", "roi", ...RATES];
  const columns: TableColumnsType<Row> = [
    {
      title: keyTitle,
      key: "key",
      render: (_: unknown, row) => (renderKey ? renderKey(row) : keyOf(row)),
    },
    ...shown.map((name) => ({
      title: t(`reports.figure.${name}` as MessageKey),
      key: name,
      align: "right" as const,
      render: (_: unknown, row: Row) => figureText(name, row, f, currency),
    })),
    {
      title: t("reports.figure.revenue_unconverted"),
      key: "unconverted",
      render: (_: unknown, row: Row) => unconvertedText(row, f) || "—",
    },
  ];
  return (
    <ScrollRegion label={label}>
      <Table<Row>
        aria-label={label}
        rowKey={keyOf}
        columns={columns}
        dataSource={rows}
        pagination={false}
        size="small"
        locale={{ emptyText: t("reports.noMessages") }}
        summary={
          totals && rows.length > 1
            ? () => (
                <Table.Summary.Row className="table-total">
                  <Table.Summary.Cell index={0}>
                    <strong>{t("chart.total")}</strong>
                  </Table.Summary.Cell>
                  {shown.map((name, i) => (
                    <Table.Summary.Cell key={name} index={i + 1} align="right">
                      {figureText(name, totals, f, currency)}
                    </Table.Summary.Cell>
                  ))}
                  <Table.Summary.Cell index={shown.length + 1}>{unconvertedText(totals, f) || "—"}</Table.Summary.Cell>
                </Table.Summary.Row>
              )
            : undefined
        }
      />
    </ScrollRegion>
  );
}

/**
 * A wide table's own horizontal scroll: a region reachable by keyboard (antd's `scroll.x`
 * makes an inner element scroll that cannot take the focus: axe's scrollable-region-focusable).
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}

/** `?from=&to=` of a report page (default: the last 30 days). */
export function useRange(defaultDays = 30): [DayRange, (r: DayRange) => void] {
  const [params, setParams] = useSearchParams();
  const range = rangeFromSearch(params, defaultDays, useWorkspaceToday());
  return [range, (next) => setParams(withRange(params, next), { replace: true })];
}

export const METRIC_KEYS: Record<TimeseriesMetric, MessageKey> = {
  sent: "reports.metric.sent",
  opened: "reports.metric.opened",
  clicked: "reports.metric.clicked",
  converted: "reports.metric.converted",
  revenue: "reports.metric.revenue",
};

/** A time series as chart data: one line per metric (revenue on its own axis). */
export function timeseriesChart(
  report: TimeseriesReport,
  f: Formats,
  metrics: TimeseriesMetric[],
  name: (m: TimeseriesMetric) => string,
  dayTitle: string,
): ChartData {
  return {
    categories: report.days.map((d) => f.day(d.date)),
    categoryTitle: dayTitle,
    currency: report.currency,
    series: metrics.map((m) => ({
      key: m,
      name: name(m),
      values: report.days.map((d) => d[m] ?? 0),
      type: "line" as const,
      kind: m === "revenue" ? ("money" as const) : ("count" as const),
      axis: m === "revenue" && metrics.length > 1 ? (1 as const) : (0 as const),
    })),
  };
}

export interface TimeseriesParams {
  source: Source;
  id: number;
  range: DayRange;
  model: AttributionModel;
  currency: string | null;
  metric?: TimeseriesMetric | null;
}

function timeseriesQuery(p: TimeseriesParams) {
  return {
    source: p.source,
    id: p.id,
    ...rangeParams(p.range),
    model: p.model,
    ...(p.currency ? { currency: p.currency } : {}),
    ...(p.metric ? { metric: p.metric } : {}),
  };
}

export function useTimeseries(p: TimeseriesParams | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["reports", "timeseries", workspace, p],
    enabled: p !== null,
    queryFn: async ({ signal }) =>
      jsonReport(
        await unwrap(
          api.GET("/api/v1/reports/timeseries", { params: { query: timeseriesQuery(p as TimeseriesParams) }, signal }),
        ),
      ),
    placeholderData: keepPreviousData,
  });
}

export function fetchTimeseriesCsv(p: TimeseriesParams): Promise<Blob> {
  return unwrap(
    api.GET("/api/v1/reports/timeseries", {
      params: { query: { ...timeseriesQuery(p), format: "csv" } },
      headers: { Accept: "text/csv" },
      parseAs: "blob",
    }),
  );
}

/** The daily chart of a campaign, broadcast or journey, over a range of days (`?from=&to=`). */
export function DailySection({
  source,
  id,
  model,
  currency,
  filename,
}: {
  source: Source;
  id: number;
  model: AttributionModel;
  currency: string | null;
  filename: string;
}) {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const [range, setRange] = useRange();
  const params: TimeseriesParams = { source, id, range, model, currency };
  const query = useTimeseries(params);
  return (
    <section aria-labelledby="daily-title" className="analytics-section">
      <h2 id="daily-title" className="section-title">
        {t("reports.daily")}
      </h2>
      <p className="text-secondary analytics-hint">{t("reports.dailyHint")}</p>
      <div className="analytics-toolbar">
        <DateRangeControl value={range} onChange={setRange} />
        <CsvButton fetchCsv={() => fetchTimeseriesCsv(params)} filename={`${filename}-daily-${range.from}-${range.to}.csv`} label={t("reports.csvDaily")} />
      </div>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.data ? (
        <ChartFigure
          title={t("reports.dailyChart")}
          level={3}
          data={timeseriesChart(query.data, f, METRICS, (m) => t(METRIC_KEYS[m]), t("dashboard.series.day"))}
        />
      ) : null}
    </section>
  );
}

/** Report controls: the attribution model, the currency, and what the page adds (CSV …). */
export function ReportControls({
  options,
  reportCurrency,
  children,
}: {
  options: ReturnType<typeof useReportOptions>;
  reportCurrency: string | null | undefined;
  children?: ReactNode;
}) {
  return (
    <div className="report-controls">
      <ModelSelect value={options.model} onChange={options.setModel} />
      <CurrencySelect value={options.currency} reportCurrency={reportCurrency} onChange={options.setCurrency} />
      {children}
    </div>
  );
}

export type { Figure };

/** What a report counts as a conversion, and how it credits them. */
export function GoalHint({ goal, model }: { goal: Goal; model: AttributionModel }) {
  const { t } = useI18n();
  return (
    <span className="text-secondary">
      {t("reports.goalHint", {
        event: goal.event,
        days: goal.window_days,
        model: t(`reports.model.${model}` as MessageKey),
      })}
    </span>
  );
}

/** A report address whose id is not a number. */
export function NotFoundId() {
  const { t } = useI18n();
  return (
    <>
      <BackToReports />
      <PageTitle title={t("reports.notFound")}>{t("reports.notFound")}</PageTitle>
    </>
  );
}
