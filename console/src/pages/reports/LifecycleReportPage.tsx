// Lifecycle movement (GET /reports/lifecycle): contacts entering each stage per day, week or
// month; the moves from stage to stage over the range; the stages of the contacts now.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Select, Table } from "antd";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { ChartFigure } from "../../components/charts/ChartFigure";
import { DateRangeControl } from "../../components/charts/DateRangeControl";
import { formatsFor } from "../../components/charts/format";
import { rangeParams } from "../../components/charts/range";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import { BackToReports, Control, CsvButton, useRange } from "./common";
import { currentStagesChart, lifecycleChart } from "./reportData";
import { jsonReport, type Interval } from "./types";

const INTERVALS: Interval[] = ["day", "week", "month"];

export default function LifecycleReportPage() {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const workspace = useWorkspaceKey();
  const [params, setParams] = useSearchParams();
  const [range, setRange] = useRange(90);
  const raw = params.get("interval");
  const interval: Interval = INTERVALS.includes(raw as Interval) ? (raw as Interval) : "week";
  const query = { ...rangeParams(range), interval };

  const report = useQuery({
    queryKey: ["reports", "lifecycle", workspace, range.from, range.to, interval],
    queryFn: async ({ signal }) =>
      jsonReport(await unwrap(api.GET("/api/v1/reports/lifecycle", { params: { query }, signal }))),
    placeholderData: keepPreviousData,
  });
  const data = report.data;
  const noStage = t("reports.lifecycle.noStage");
  const stage = (s: string | null) => s ?? noStage;
  const periodName = (p: string) =>
    interval === "week" ? t("reports.lifecycle.weekOf", { day: f.day(p) }) : interval === "month" ? f.period(p, "month") : f.day(p);

  return (
    <>
      <BackToReports />
      <PageTitle title={t("reports.lifecycle.title")}>{t("reports.lifecycle.title")}</PageTitle>
      <p className="text-secondary page-intro">{t("reports.lifecycle.intro")}</p>
      <div className="report-controls">
        <Control label={t("reports.lifecycle.interval")} htmlFor="lifecycle-interval">
          <Select
            id="lifecycle-interval"
            value={interval}
            style={{ minWidth: 120 }}
            onChange={(v: Interval) => {
              const next = new URLSearchParams(params);
              next.set("interval", v);
              setParams(next, { replace: true });
            }}
            options={INTERVALS.map((i) => ({ value: i, label: t(`reports.lifecycle.by.${i}` as MessageKey) }))}
          />
        </Control>
        <DateRangeControl value={range} onChange={setRange} />
        <CsvButton
          fetchCsv={() =>
            unwrap(
              api.GET("/api/v1/reports/lifecycle", {
                params: { query: { ...query, format: "csv" } },
                headers: { Accept: "text/csv" },
                parseAs: "blob",
              }),
            )
          }
          filename={`lifecycle-${interval}-${range.from}-${range.to}.csv`}
        />
      </div>
      <p className="text-secondary analytics-hint">{t("reports.lifecycle.utcHint")}</p>
      {report.isError ? <ErrorAlert error={report.error} onRetry={() => void report.refetch()} /> : null}
      {data ? (
        <div className="report-stack">
          <ChartFigure
            title={t("reports.lifecycle.entered")}
            height={300}
            data={lifecycleChart(data, periodName, { period: t("reports.lifecycle.period") })}
          />
          <div className="chart-grid">
            <section aria-labelledby="moves-title" className="chart-figure">
              <h2 id="moves-title" className="chart-title">
                {t("reports.lifecycle.transitions")}
              </h2>
              <Table
                aria-label={t("reports.lifecycle.transitions")}
                size="small"
                rowKey={(m) => `${m.from ?? ""}→${m.to ?? ""}`}
                dataSource={data.transitions}
                pagination={data.transitions.length > 10 ? { pageSize: 10, size: "small" } : false}
                locale={{ emptyText: t("reports.lifecycle.noMoves") }}
                columns={[
                  { title: t("reports.lifecycle.from"), key: "from", render: (_: unknown, m) => stage(m.from) },
                  { title: t("reports.lifecycle.to"), key: "to", render: (_: unknown, m) => (m.to === null ? t("reports.lifecycle.cleared") : m.to) },
                  { title: t("reports.lifecycle.count"), key: "count", align: "right", render: (_: unknown, m) => f.number(m.count) },
                ]}
              />
            </section>
            <ChartFigure
              title={t("reports.lifecycle.current")}
              hint={
                <>
                  {t("reports.lifecycle.asOf")} <DateTime value={data.as_of} />
                </>
              }
              height={Math.max(160, data.current.length * 36)}
              data={currentStagesChart(data, noStage, { stage: t("reports.lifecycle.stage"), contacts: t("reports.lifecycle.contacts") })}
            />
          </div>
        </div>
      ) : null}
    </>
  );
}
