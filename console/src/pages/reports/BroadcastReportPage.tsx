// A broadcast's report (GET /reports/broadcasts/{id}): by channel; for an experiment its
// variants side by side with the holdout, the winner and its confidence, and the lift over
// the holdout with its 95 % interval; per day.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Spin, Tag } from "antd";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { formatsFor } from "../../components/charts/format";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import {
  BackToReports,
  CsvButton,
  DailySection,
  FigureTiles,
  FiguresTable,
  GoalHint,
  NotFoundId,
  ReportControls,
  StatusTag,
  useReportOptions,
  useValueLabel,
} from "./common";
import { ExperimentSection } from "./ExperimentSection";
import { jsonReport } from "./types";

export default function BroadcastReportPage() {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const label = useValueLabel();
  const workspace = useWorkspaceKey();
  const id = Number(useParams().id);
  const options = useReportOptions();
  const valid = Number.isInteger(id) && id > 0;

  const query = useQuery({
    queryKey: ["reports", "broadcast", workspace, id, options.model, options.currency],
    enabled: valid,
    queryFn: async ({ signal }) =>
      jsonReport(
        await unwrap(
          api.GET("/api/v1/reports/broadcasts/{broadcast_id}", {
            params: { path: { broadcast_id: id }, query: options.query },
            signal,
          }),
        ),
      ),
    placeholderData: keepPreviousData,
  });

  if (!valid) return <NotFoundId />;
  const report = query.data;
  const title = report ? t("reports.broadcast.title", { name: report.broadcast.name }) : t("reports.broadcast.loading");
  const csv = (by: "channel" | "variant") => () =>
    unwrap(
      api.GET("/api/v1/reports/broadcasts/{broadcast_id}", {
        params: { path: { broadcast_id: id }, query: { ...options.query, format: "csv", by } },
        headers: { Accept: "text/csv" },
        parseAs: "blob",
      }),
    );

  return (
    <>
      <BackToReports />
      <PageTitle title={title}>{title}</PageTitle>
      {/* outside the report: after a refused currency (422) the controls stay to change it back */}
      <ReportControls options={options} reportCurrency={report?.currency}>
        {report ? (
          <>
            <CsvButton fetchCsv={csv("channel")} filename={`broadcast-${id}-${options.model}.csv`} />
            {report.by_variant ? (
              <CsvButton
                fetchCsv={csv("variant")}
                filename={`broadcast-${id}-variants-${options.model}.csv`}
                label={t("reports.csvVariants")}
              />
            ) : null}
          </>
        ) : null}
      </ReportControls>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.isPending && !query.isError ? <Spin className="page-spin" /> : null}
      {report ? (
        <div className="report-stack">
          <div className="report-header">
            <StatusTag status={report.broadcast.status} />
            <Tag>{label("reports.channel", report.broadcast.channel)}</Tag>
            {report.broadcast.campaign_id !== null ? (
              <Link to={`/reports/campaigns/${report.broadcast.campaign_id}`}>{t("reports.broadcast.campaign")}</Link>
            ) : null}
            <GoalHint goal={report.goal} model={report.model} />
          </div>
          <FigureTiles totals={report.totals} currency={report.currency} />
          <section aria-labelledby="by-channel-title">
            <h2 id="by-channel-title" className="section-title">
              {t("reports.byChannel")}
            </h2>
            <FiguresTable
              label={t("reports.byChannel")}
              rows={report.by_channel}
              totals={report.totals}
              keyTitle={t("reports.channel")}
              keyOf={(r) => r.channel}
              renderKey={(r) => label("reports.channel", r.channel)}
              currency={report.currency}
            />
          </section>
          {report.experiment ? <ExperimentSection report={report} experiment={report.experiment} f={f} /> : null}
          <DailySection source="broadcast" id={id} model={options.model} currency={options.currency} filename={`broadcast-${id}`} />
        </div>
      ) : null}
    </>
  );
}
