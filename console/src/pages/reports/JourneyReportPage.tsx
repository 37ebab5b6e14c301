// A journey's report (GET /reports/journeys/{id}): its enrollments, its messages by node, its
// split experiments; per day.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Spin, Table, Tag } from "antd";
import { useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { ChartFigure } from "../../components/charts/ChartFigure";
import { formatsFor, type Formats } from "../../components/charts/format";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import {
  BackToReports,
  CsvButton,
  DailySection,
  FigureTiles,
  FiguresTable,
  GoalHint,
  NotFoundId,
  ReportControls,
  ScrollRegion,
  StatusTag,
  useReportOptions,
} from "./common";
import { nodeChart, signedPoints } from "./reportData";
import { jsonReport, type SplitExperiment } from "./types";

/** A split's lift over its holdouts: points of conversion rate, or revenue per enrollment. */
function SplitLiftText({ lift, f }: { lift: SplitExperiment["lift"]; f: Formats }) {
  const { t } = useI18n();
  if (!lift) return "—";
  const [low = null, high = null] = lift.ci95;
  return lift.on === "conversion_rate"
    ? t("reports.experiment.liftValue", {
        lift: signedPoints(lift.lift, f),
        low: signedPoints(low, f),
        high: signedPoints(high, f),
      })
    : t("reports.experiment.revenueLiftValue", {
        lift: f.number(lift.lift),
        low: low === null ? "—" : f.number(low),
        high: high === null ? "—" : f.number(high),
      });
}

export default function JourneyReportPage() {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const workspace = useWorkspaceKey();
  const id = Number(useParams().id);
  const options = useReportOptions();
  const valid = Number.isInteger(id) && id > 0;

  const query = useQuery({
    queryKey: ["reports", "journey", workspace, id, options.model, options.currency],
    enabled: valid,
    queryFn: async ({ signal }) =>
      jsonReport(
        await unwrap(
          api.GET("/api/v1/reports/journeys/{journey_id}", {
            params: { path: { journey_id: id }, query: options.query },
            signal,
          }),
        ),
      ),
    placeholderData: keepPreviousData,
  });

  if (!valid) return <NotFoundId />;
  const report = query.data;
  const title = report ? t("reports.journey.title", { name: report.journey.name }) : t("reports.journey.loading");
  const csv = () =>
    unwrap(
      api.GET("/api/v1/reports/journeys/{journey_id}", {
        params: { path: { journey_id: id }, query: { ...options.query, format: "csv" } },
        headers: { Accept: "text/csv" },
        parseAs: "blob",
      }),
    );
  const e = report?.enrollments;

  return (
    <>
      <BackToReports />
      <PageTitle title={title}>{title}</PageTitle>
      {/* outside the report: after a refused currency (422) the controls stay to change it back */}
      <ReportControls options={options} reportCurrency={report?.currency}>
        {report ? <CsvButton fetchCsv={csv} filename={`journey-${id}-${options.model}.csv`} /> : null}
      </ReportControls>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.isPending && !query.isError ? <Spin className="page-spin" /> : null}
      {report && e ? (
        <div className="report-stack">
          <div className="report-header">
            <StatusTag status={report.journey.status} />
            <GoalHint goal={report.goal} model={report.model} />
          </div>
          <section aria-labelledby="enrollments-title">
            <h2 id="enrollments-title" className="section-title">
              {t("reports.journey.enrollments")}
            </h2>
            <ul className="tiles">
              {(["entered", "active", "completed", "converted", "exited"] as const).map((k) => (
                <li className="tile" key={k}>
                  <div className="tile-body">
                    <span className="tile-label">{t(`reports.journey.${k}` as MessageKey)}</span>
                    <span className="tile-value">{f.number(e[k])}</span>
                  </div>
                </li>
              ))}
            </ul>
          </section>
          <FigureTiles totals={report.totals} currency={report.currency} />
          <section aria-labelledby="by-node-title" className="report-stack">
            <h2 id="by-node-title" className="section-title">
              {t("reports.journey.byNode")}
            </h2>
            {report.by_node.length > 0 ? (
              <ChartFigure
                title={t("reports.journey.nodeChart")}
                level={3}
                data={nodeChart(report.by_node, {
                  node: t("reports.journey.node"),
                  sent: t("reports.figure.sent"),
                  opened: t("reports.figure.opened"),
                  clicked: t("reports.figure.clicked"),
                  converted: t("reports.figure.converted"),
                })}
              />
            ) : null}
            <FiguresTable
              label={t("reports.journey.byNode")}
              rows={report.by_node}
              totals={report.totals}
              keyTitle={t("reports.journey.node")}
              keyOf={(r) => r.node}
              renderKey={(r) => <code>{r.node}</code>}
              currency={report.currency}
            />
          </section>
          {report.experiments.length > 0 ? (
            <section aria-labelledby="splits-title">
              <h2 id="splits-title" className="section-title">
                {t("reports.journey.experiments")}
              </h2>
              <ScrollRegion label={t("reports.journey.experiments")}>
                <Table<SplitExperiment>
                  aria-label={t("reports.journey.experiments")}
                  rowKey={(x) => `${x.version}:${x.node}`}
                  size="small"
                  pagination={false}
                  dataSource={report.experiments}
                  columns={[
                    { title: t("reports.journey.node"), key: "node", render: (_: unknown, x) => <code>{x.node}</code> },
                    { title: t("reports.journey.version"), key: "version", render: (_: unknown, x) => x.version ?? "—" },
                    { title: t("reports.journey.metricCol"), key: "metric", render: (_: unknown, x) => x.metric },
                    {
                      title: t("reports.journey.branches"),
                      key: "branches",
                      render: (_: unknown, x) =>
                        Object.entries(x.branches)
                          .map(([name, b]) =>
                            t("reports.journey.branch", {
                              name: b.holdout ? `${name} (${t("reports.experiment.holdout")})` : name,
                              entered: f.number(b.entered),
                              rate: x.metric === "revenue" ? f.number(b.rate) : f.percent(b.rate),
                            }),
                          )
                          .join(" · "),
                    },
                    {
                      title: t("reports.journey.result"),
                      key: "result",
                      render: (_: unknown, x) =>
                        x.decided && x.winner ? (
                          <>
                            <Tag className="tag-good">{t("reports.experiment.winnerTag")}</Tag>
                            {t("reports.journey.decided", { branch: x.winner, confidence: f.percent(x.confidence) })}
                          </>
                        ) : x.leader ? (
                          t("reports.journey.leading", { branch: x.leader, confidence: f.percent(x.leader_confidence ?? null) })
                        ) : (
                          t("reports.journey.notStarted")
                        ),
                    },
                    {
                      title: t("reports.experiment.lift"),
                      key: "lift",
                      render: (_: unknown, x) => <SplitLiftText lift={x.lift} f={f} />,
                    },
                  ]}
                />
              </ScrollRegion>
            </section>
          ) : null}
          <DailySection source="journey" id={id} model={options.model} currency={options.currency} filename={`journey-${id}`} />
        </div>
      ) : null}
    </>
  );
}
