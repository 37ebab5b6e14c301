// A score model's report (GET /reports/scores/{key}): the figures, the distribution of scores
// now, the movement per UTC day over a range (?from=&to=) with its CSV, and points by rule.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Table } from "antd";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { ChartFigure } from "../../components/charts/ChartFigure";
import { DateRangeControl } from "../../components/charts/DateRangeControl";
import { formatsFor } from "../../components/charts/format";
import type { ChartData } from "../../components/charts/model";
import { rangeParams, type DayRange } from "../../components/charts/range";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useI18n, type MessageKey, type Params } from "../../i18n";
import "../../i18n/scoring";
import { CsvButton, useRange } from "../reports/common";
import { bucketLabel, daysOf, kindLabel, numberText, type ScoreModel, type ScoreReport } from "./model";
import { Points } from "./Points";

type T = (key: MessageKey, params?: Params) => string;

export function distributionChart(report: ScoreReport, t: T, lang: string): ChartData {
  return {
    categories: report.buckets.map((b) => bucketLabel(b.low, b.high, lang)),
    categoryTitle: t("scoring.report.range"),
    series: [{ key: "contacts", name: t("scoring.report.contacts"), values: report.buckets.map((b) => b.contacts), kind: "count" }],
  };
}

export function movementChart(report: ScoreReport, range: DayRange, t: T, day: (iso: string) => string): ChartData {
  const byDay = new Map(report.movement.map((m) => [m.day, m]));
  const days = daysOf(range.from, range.to);
  return {
    categories: days.map(day),
    categoryTitle: t("scoring.report.day"),
    series: [
      { key: "gained", name: t("scoring.report.gained"), values: days.map((d) => byDay.get(d)?.gained ?? 0), stack: "points" },
      { key: "lost", name: t("scoring.report.lost"), values: days.map((d) => byDay.get(d)?.lost ?? 0), stack: "points" },
      {
        key: "contacts",
        name: t("scoring.report.changed"),
        values: days.map((d) => byDay.get(d)?.contacts ?? 0),
        type: "line",
        kind: "count",
        axis: 1,
      },
    ],
  };
}

export function ScoreReportSection({ model }: { model: ScoreModel }) {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const workspace = useWorkspaceKey();
  const [range, setRange] = useRange(30);
  const { start, end } = rangeParams(range);
  const query = { since: start, until: end };
  const report = useQuery({
    queryKey: ["reports", "scores", workspace, model.key, range.from, range.to],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/reports/scores/{key}", { params: { path: { key: model.key }, query }, signal })),
    placeholderData: keepPreviousData,
  });
  const data = report.data as ScoreReport | undefined;
  const n = (v: number) => numberText(v, lang);

  return (
    <section aria-label={t("scoring.tab.report")}>
      <div className="score-report-toolbar">
        <DateRangeControl value={range} onChange={setRange} />
        <CsvButton
          label={t("scoring.report.csv")}
          fetchCsv={() =>
            unwrap(
              api.GET("/api/v1/reports/scores/{key}", {
                params: { path: { key: model.key }, query: { ...query, format: "csv" } },
                headers: { Accept: "text/csv" },
                parseAs: "blob",
              }),
            )
          }
          filename={`scores-${model.key}-${range.from}-${range.to}.csv`}
        />
      </div>
      {report.isError ? <ErrorAlert error={report.error} onRetry={() => void report.refetch()} /> : null}
      {data ? (
        <div className="score-report-stack">
          <ul className="score-tiles" aria-label={t("scoring.report.figures")}>
            <li>
              <span className="tile-label">{t("scoring.report.scored")}</span>
              <span className="tile-value">{n(data.scored)}</span>
            </li>
            <li>
              <span className="tile-label">{t("scoring.report.unscored")}</span>
              <span className="tile-value">{n(data.unscored)}</span>
            </li>
            <li>
              <span className="tile-label">{t("scoring.report.average")}</span>
              <span className="tile-value">{data.average === null ? t("common.none") : n(data.average)}</span>
            </li>
          </ul>
          <ChartFigure
            title={t("scoring.report.distribution")}
            hint={t("scoring.report.distributionHint")}
            data={distributionChart(data, t, lang)}
          />
          <ChartFigure
            title={t("scoring.report.movement")}
            hint={t("scoring.report.movementHint")}
            height={280}
            data={movementChart(data, range, t, f.day)}
          />
          <section aria-labelledby="score-by-rule" className="chart-figure">
            <h2 id="score-by-rule" className="chart-title">
              {t("scoring.report.byRule")}
            </h2>
            <Table
              aria-label={t("scoring.report.byRule")}
              size="small"
              rowKey={(r) => `${r.kind}-${r.rule_id ?? r.name}`}
              dataSource={data.by_reason}
              pagination={false}
              locale={{ emptyText: t("scoring.report.noChanges") }}
              columns={[
                {
                  title: t("scoring.report.col.rule"),
                  key: "name",
                  // decay and recompute have no rule: named by their kind
                  render: (_: unknown, r) => (r.rule_id === null && r.name === r.kind ? kindLabel(r.kind, t) : r.name),
                },
                { title: t("scoring.rule.col.kind"), key: "kind", render: (_: unknown, r) => kindLabel(r.kind, t) },
                { title: t("scoring.report.col.points"), key: "points", align: "right", render: (_: unknown, r) => <Points value={r.points} /> },
                { title: t("scoring.report.col.changes"), key: "changes", align: "right", render: (_: unknown, r) => n(r.changes) },
              ]}
            />
          </section>
        </div>
      ) : null}
    </section>
  );
}
