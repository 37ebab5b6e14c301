import { useMemo } from "react";
import { Button, Select, Table, type TableColumnsType } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useCanEdit } from "../../auth/SessionProvider";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import { ChannelName, SendProgress, SendTime, StatusTag } from "./common";
import { STATUSES, type Broadcast, type BroadcastStatus } from "./model";
import { useBroadcasts, useCampaigns, useSegments } from "./queries";
import "./broadcasts.css";

function isStatus(value: string | null): value is BroadcastStatus {
  return value !== null && (STATUSES as string[]).includes(value);
}

/** `/broadcasts`: every broadcast, newest first, filtered by status and campaign (in the address). */
export default function BroadcastsPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const query = useBroadcasts();
  const campaigns = useCampaigns();
  const segments = useSegments();
  const statusParam = params.get("status");
  const status = isStatus(statusParam) ? statusParam : null;
  const campaignParam = Number(params.get("campaign") ?? "");
  const campaign = Number.isInteger(campaignParam) && campaignParam > 0 ? campaignParam : null;
  const n = new Intl.NumberFormat(lang);

  const campaignNames = useMemo(() => new Map((campaigns.data?.data ?? []).map((c) => [c.id, c.name])), [campaigns.data]);
  const segmentCounts = useMemo(() => new Map((segments.data?.data ?? []).map((s) => [s.id, s.member_count])), [segments.data]);
  const rows = useMemo(
    () =>
      [...(query.data?.data ?? [])]
        .filter((b) => (status === null || b.status === status) && (campaign === null || b.campaign_id === campaign))
        .sort((a, b) => b.id - a.id),
    [query.data, status, campaign],
  );

  const setFilter = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value === null) next.delete(key);
    else next.set(key, value);
    setParams(next);
  };

  const columns: TableColumnsType<Broadcast> = [
    {
      title: t("broadcasts.col.name"),
      dataIndex: "name",
      render: (name: string, b) => <Link to={`/broadcasts/${b.id}`}>{name}</Link>,
    },
    {
      title: t("broadcasts.col.campaign"),
      dataIndex: "campaign_id",
      render: (id: number | null) =>
        id === null ? <span className="text-secondary">{t("common.none")}</span> : (campaignNames.get(id) ?? `#${id}`),
    },
    { title: t("broadcasts.col.channel"), dataIndex: "channel", render: (c: string) => <ChannelName channel={c} /> },
    { title: t("broadcasts.col.status"), dataIndex: "status", render: (s: BroadcastStatus) => <StatusTag status={s} /> },
    { title: t("broadcasts.col.sendTime"), key: "when", render: (_: unknown, b) => <SendTime broadcast={b} /> },
    {
      title: t("broadcasts.col.audience"),
      key: "audience",
      align: "right",
      render: (_: unknown, b) => {
        if (b.audience !== null) return n.format(b.audience);
        const now = b.segment_id !== null ? segmentCounts.get(b.segment_id) : undefined;
        return now === undefined ? (
          <span className="text-secondary">{t("common.none")}</span>
        ) : (
          <span title={t("broadcasts.audienceNowHint")}>{t("broadcasts.audienceNow", { n: n.format(now) })}</span>
        );
      },
    },
    { title: t("broadcasts.col.progress"), key: "progress", render: (_: unknown, b) => <SendProgress broadcast={b} compact /> },
  ];

  return (
    <>
      <div className="page-head">
        <PageTitle title={t("broadcasts.title")}>{t("broadcasts.title")}</PageTitle>
        {canEdit ? (
          <Button
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => navigate(campaign !== null ? `/broadcasts/new?campaign_id=${campaign}` : "/broadcasts/new")}
          >
            {t("broadcasts.new")}
          </Button>
        ) : null}
      </div>
      <p className="page-intro text-secondary">{t("broadcasts.intro")}</p>
      <div className="broadcast-filters" role="search" aria-label={t("broadcasts.filters")}>
        <div className="filter">
          <label htmlFor="broadcast-status">{t("broadcasts.filter.status")}</label>
          <Select<string>
            id="broadcast-status"
            style={{ width: 200 }}
            value={status ?? "all"}
            onChange={(v) => setFilter("status", v === "all" ? null : v)}
            options={[
              { value: "all", label: t("broadcasts.filter.allStatuses") },
              ...STATUSES.map((s) => ({ value: s, label: t(`broadcasts.status.${s}` as MessageKey) })),
            ]}
          />
        </div>
        <div className="filter">
          <label htmlFor="broadcast-campaign">{t("broadcasts.filter.campaign")}</label>
          <Select<number>
            id="broadcast-campaign"
            style={{ width: 260 }}
            value={campaign ?? 0}
            showSearch={{ optionFilterProp: "label" }}
            onChange={(v) => setFilter("campaign", v ? String(v) : null)}
            options={[
              { value: 0, label: t("broadcasts.filter.allCampaigns") },
              ...(campaigns.data?.data ?? []).map((c) => ({ value: c.id, label: c.name })),
            ]}
          />
        </div>
      </div>
      {query.isError ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
        </div>
      ) : null}
      <Table<Broadcast>
        className="clickable-rows"
        aria-label={t("broadcasts.title")}
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{
          emptyText: (query.data?.data.length ?? 0) > 0 ? t("broadcasts.noMatch") : t("broadcasts.empty"),
        }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/broadcasts/${record.id}`);
          },
        })}
      />
    </>
  );
}
