// /reports: the kinds of report, and the campaigns, broadcasts and journeys to open a report of
// (newest first).
import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { Table, type TableColumnsType } from "antd";
import { FunnelPlotOutlined, LineChartOutlined, RiseOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { StatusTag, useValueLabel } from "./common";
import type { Broadcast, Campaign, Journey } from "./types";

function newestFirst<T extends { id: number }>(rows: T[] | undefined): T[] {
  return [...(rows ?? [])].sort((a, b) => b.id - a.id);
}

function Kind({ to, icon, title, text }: { to: string; icon: ReactNode; title: string; text: string }) {
  return (
    <li className="tile">
      <Link to={to} className="tile-link">
        <span className="tile-kind-title">
          {icon} {title}
        </span>
        <span className="tile-sub">{text}</span>
      </Link>
    </li>
  );
}

function ListSection<T extends { id: number; name: string; status: string; created_at: string }>({
  id,
  title,
  query,
  path,
  extra,
  empty,
}: {
  id: string;
  title: string;
  query: { data?: { data: T[] }; isPending: boolean; isError: boolean; error: unknown };
  path: string;
  extra?: TableColumnsType<T>;
  empty: string;
}) {
  const { t } = useI18n();
  const columns: TableColumnsType<T> = [
    { title: t("reports.col.name"), key: "name", render: (_: unknown, x) => <Link to={`${path}/${x.id}`}>{x.name}</Link> },
    ...(extra ?? []),
    { title: t("reports.col.status"), key: "status", render: (_: unknown, x) => <StatusTag status={x.status} /> },
    { title: t("reports.col.created"), key: "created", render: (_: unknown, x) => <DateTime value={x.created_at} /> },
  ];
  return (
    <section aria-labelledby={`${id}-title`} id={id} className="analytics-section">
      <h2 id={`${id}-title`} className="section-title">
        {title}
      </h2>
      {query.isError ? <ErrorAlert error={query.error} /> : null}
      <Table<T>
        aria-label={title}
        rowKey="id"
        size="small"
        loading={query.isPending}
        columns={columns}
        dataSource={newestFirst(query.data?.data)}
        pagination={{ pageSize: 10, hideOnSinglePage: true, size: "small" }}
        locale={{ emptyText: empty }}
      />
    </section>
  );
}

export default function ReportsIndexPage() {
  const { t } = useI18n();
  const label = useValueLabel();
  const workspace = useWorkspaceKey();
  const campaigns = useQuery({
    queryKey: ["campaigns", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/campaigns")),
  });
  const broadcasts = useQuery({
    queryKey: ["broadcasts", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/broadcasts")),
  });
  const journeys = useQuery({
    queryKey: ["journeys", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/journeys")),
  });

  return (
    <>
      <PageTitle title={t("reports.title")}>{t("reports.title")}</PageTitle>
      <p className="text-secondary page-intro">{t("reports.intro")}</p>
      <ul className="report-kinds" aria-label={t("reports.kinds")}>
        <Kind to="/reports/funnel" icon={<FunnelPlotOutlined />} title={t("reports.funnel.title")} text={t("reports.kind.funnel")} />
        <Kind
          to="/reports/timeseries"
          icon={<LineChartOutlined />}
          title={t("reports.timeseries.title")}
          text={t("reports.kind.timeseries")}
        />
        <Kind to="/reports/lifecycle" icon={<RiseOutlined />} title={t("reports.lifecycle.title")} text={t("reports.kind.lifecycle")} />
      </ul>
      <ListSection<Campaign>
        id="campaigns"
        title={t("reports.campaigns")}
        query={campaigns}
        path="/reports/campaigns"
        empty={t("reports.noCampaigns")}
      />
      <ListSection<Broadcast>
        id="broadcasts"
        title={t("reports.broadcasts")}
        query={broadcasts}
        path="/reports/broadcasts"
        empty={t("reports.noBroadcasts")}
        extra={[{ title: t("reports.channel"), key: "channel", render: (_: unknown, b) => label("reports.channel", b.channel) }]}
      />
      <ListSection<Journey>
        id="journeys"
        title={t("reports.journeys")}
        query={journeys}
        path="/reports/journeys"
        empty={t("reports.noJourneys")}
      />
    </>
  );
}
