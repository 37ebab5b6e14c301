// Time series (GET /reports/timeseries): per UTC day, a campaign's, broadcast's or journey's
// messages sent, opened, clicked, conversions and revenue — all of them or one metric — over a
// range of days. Everything chosen is in the address (?source=&id=&metric=&from=&to=&model=).
import { useQuery } from "@tanstack/react-query";
import { Select } from "antd";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { ChartFigure } from "../../components/charts/ChartFigure";
import { DateRangeControl } from "../../components/charts/DateRangeControl";
import { formatsFor } from "../../components/charts/format";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import {
  BackToReports,
  Control,
  CsvButton,
  fetchTimeseriesCsv,
  METRIC_KEYS,
  ModelSelect,
  CurrencySelect,
  timeseriesChart,
  useRange,
  useReportOptions,
  useTimeseries,
  type TimeseriesParams,
} from "./common";
import { METRICS, type Source, type TimeseriesMetric } from "./types";

const SOURCES: Source[] = ["campaign", "broadcast", "journey"];

/** The campaigns, broadcasts or journeys to choose from, newest first. */
function useSourceItems(source: Source) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["reports", "sources", workspace, source],
    queryFn: async (): Promise<{ id: number; name: string }[]> => {
      const page =
        source === "campaign"
          ? await unwrap(api.GET("/api/v1/campaigns"))
          : source === "broadcast"
            ? await unwrap(api.GET("/api/v1/broadcasts"))
            : await unwrap(api.GET("/api/v1/journeys"));
      return page.data.map((x) => ({ id: x.id, name: x.name })).sort((a, b) => b.id - a.id);
    },
  });
}

export default function TimeseriesReportPage() {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const [params, setParams] = useSearchParams();
  const options = useReportOptions();
  const [range, setRange] = useRange();
  const rawSource = params.get("source");
  const source: Source = SOURCES.includes(rawSource as Source) ? (rawSource as Source) : "campaign";
  const id = Number(params.get("id"));
  const rawMetric = params.get("metric");
  const metric = METRICS.includes(rawMetric as TimeseriesMetric) ? (rawMetric as TimeseriesMetric) : null;
  const items = useSourceItems(source);

  const set = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    setParams(next, { replace: true });
  };

  const chosen: TimeseriesParams | null =
    Number.isInteger(id) && id > 0 ? { source, id, range, model: options.model, currency: options.currency, metric } : null;
  const query = useTimeseries(chosen);
  const name = items.data?.find((x) => x.id === id)?.name;

  return (
    <>
      <BackToReports />
      <PageTitle title={t("reports.timeseries.title")}>{t("reports.timeseries.title")}</PageTitle>
      <p className="text-secondary page-intro">{t("reports.timeseries.intro")}</p>
      <div className="report-controls">
        <Control label={t("reports.timeseries.source")} htmlFor="ts-source">
          <Select
            id="ts-source"
            value={source}
            style={{ minWidth: 140 }}
            onChange={(s: Source) => set({ source: s, id: null })}
            options={SOURCES.map((s) => ({ value: s, label: t(`reports.source.${s}` as MessageKey) }))}
          />
        </Control>
        <Control label={t(`reports.source.${source}` as MessageKey)} htmlFor="ts-item">
          <Select
            id="ts-item"
            showSearch={{ optionFilterProp: "label" }}
            value={chosen ? id : undefined}
            placeholder={t("reports.timeseries.choose")}
            loading={items.isPending}
            style={{ minWidth: 240 }}
            onChange={(v: number) => set({ id: String(v) })}
            options={(items.data ?? []).map((x) => ({ value: x.id, label: x.name }))}
            notFoundContent={t("reports.timeseries.none")}
          />
        </Control>
        <Control label={t("reports.timeseries.metric")} htmlFor="ts-metric">
          <Select
            id="ts-metric"
            value={metric ?? ""}
            style={{ minWidth: 150 }}
            onChange={(m: string) => set({ metric: m || null })}
            options={[
              { value: "", label: t("reports.timeseries.allMetrics") },
              ...METRICS.map((m) => ({ value: m, label: t(METRIC_KEYS[m]) })),
            ]}
          />
        </Control>
        <ModelSelect value={options.model} onChange={options.setModel} />
        <CurrencySelect value={options.currency} reportCurrency={query.data?.currency} onChange={options.setCurrency} />
      </div>
      <div className="analytics-toolbar">
        <DateRangeControl value={range} onChange={setRange} />
        {chosen ? (
          <CsvButton
            fetchCsv={() => fetchTimeseriesCsv(chosen)}
            filename={`${source}-${id}-${metric ?? "all"}-${range.from}-${range.to}.csv`}
          />
        ) : null}
      </div>
      <p className="text-secondary analytics-hint">{t("reports.dailyHint")}</p>
      {items.isError ? <ErrorAlert error={items.error} /> : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {!chosen ? <p>{t("reports.timeseries.pick")}</p> : null}
      {chosen && query.data ? (
        <ChartFigure
          title={name ? t("reports.timeseries.chartOf", { name }) : t("reports.timeseries.title")}
          height={320}
          data={timeseriesChart(query.data, f, metric ? [metric] : METRICS, (m) => t(METRIC_KEYS[m]), t("dashboard.series.day"))}
        />
      ) : null}
    </>
  );
}
