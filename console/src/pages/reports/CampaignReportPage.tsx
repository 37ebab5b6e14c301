// A campaign's report (GET /reports/campaigns/{id}): its broadcasts and journeys together, by
// channel, with the budget; the campaign's broadcasts, each to its own report; per day.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Spin, Table } from "antd";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { formatsFor } from "../../components/charts/format";
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
import { jsonReport, type Broadcast } from "./types";

export default function CampaignReportPage() {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const label = useValueLabel();
  const workspace = useWorkspaceKey();
  const id = Number(useParams().id);
  const options = useReportOptions();
  const valid = Number.isInteger(id) && id > 0;

  const query = useQuery({
    queryKey: ["reports", "campaign", workspace, id, options.model, options.currency],
    enabled: valid,
    queryFn: async ({ signal }) =>
      jsonReport(
        await unwrap(
          api.GET("/api/v1/reports/campaigns/{campaign_id}", {
            params: { path: { campaign_id: id }, query: options.query },
            signal,
          }),
        ),
      ),
    placeholderData: keepPreviousData,
  });
  const broadcasts = useQuery({
    queryKey: ["broadcasts", workspace, { campaign: id }],
    enabled: valid,
    queryFn: () => unwrap(api.GET("/api/v1/broadcasts", { params: { query: { campaign_id: id } } })),
  });

  if (!valid) return <NotFoundId />;
  const report = query.data;
  const title = report ? t("reports.campaign.title", { name: report.campaign.name }) : t("reports.campaign.loading");
  const csv = () =>
    unwrap(
      api.GET("/api/v1/reports/campaigns/{campaign_id}", {
        params: { path: { campaign_id: id }, query: { ...options.query, format: "csv" } },
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
        {report ? <CsvButton fetchCsv={csv} filename={`campaign-${id}-${options.model}.csv`} /> : null}
      </ReportControls>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.isPending && !query.isError ? <Spin className="page-spin" /> : null}
      {report ? (
        <div className="report-stack">
          <div className="report-header">
            <StatusTag status={report.campaign.status} />
            <GoalHint goal={report.goal} model={report.model} />
          </div>
          <FigureTiles totals={report.totals} currency={report.currency} />
          {report.budget.budget !== null ? (
            <p className="budget-line">
              {t("reports.budget", {
                used: f.money(report.budget.used, report.budget.currency),
                budget: f.money(report.budget.budget, report.budget.currency),
                remaining: f.money(report.budget.remaining ?? 0, report.budget.currency),
              })}
            </p>
          ) : null}
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
          <section aria-labelledby="campaign-broadcasts-title">
            <h2 id="campaign-broadcasts-title" className="section-title">
              {t("reports.campaign.broadcasts")}
            </h2>
            {broadcasts.isError ? <ErrorAlert error={broadcasts.error} /> : null}
            <Table<Broadcast>
              aria-label={t("reports.campaign.broadcasts")}
              rowKey="id"
              size="small"
              loading={broadcasts.isPending}
              dataSource={broadcasts.data?.data ?? []}
              pagination={false}
              locale={{ emptyText: t("reports.campaign.noBroadcasts") }}
              columns={[
                {
                  title: t("reports.col.name"),
                  key: "name",
                  render: (_: unknown, b) => <Link to={`/reports/broadcasts/${b.id}`}>{b.name}</Link>,
                },
                { title: t("reports.channel"), key: "channel", render: (_: unknown, b) => label("reports.channel", b.channel) },
                { title: t("reports.col.status"), key: "status", render: (_: unknown, b) => <StatusTag status={b.status} /> },
                { title: t("reports.col.created"), key: "created", render: (_: unknown, b) => <DateTime value={b.created_at} /> },
              ]}
            />
          </section>
          <DailySection source="campaign" id={id} model={options.model} currency={options.currency} filename={`campaign-${id}`} />
        </div>
      ) : null}
    </>
  );
}
