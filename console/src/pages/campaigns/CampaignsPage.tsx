import { useMemo } from "react";
import { Button, Select, Space, Table, type TableColumnsType } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useCanEdit, useWorkspaceTimeZone } from "../../auth/SessionProvider";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/campaigns";
import { CampaignStatusTag, dayFormat, money } from "./common";
import { STATUSES, useCampaignList, type Campaign, type CampaignStatus } from "./queries";
import "./campaigns.css";

/** `/campaigns`: every plan, filtered by status (`?status=draft`, kept in the address). */
export default function CampaignsPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const zone = useWorkspaceTimeZone();
  const [params, setParams] = useSearchParams();
  const status = STATUSES.find((s) => s === params.get("status")) ?? null;
  const query = useCampaignList();
  const day = dayFormat(lang, zone);
  const rows = useMemo(() => {
    const all = [...(query.data?.data ?? [])].reverse(); // newest first
    return status ? all.filter((c) => c.status === status) : all;
  }, [query.data, status]);
  const counts = useMemo(() => {
    const n = new Map<CampaignStatus, number>();
    for (const c of query.data?.data ?? []) n.set(c.status, (n.get(c.status) ?? 0) + 1);
    return n;
  }, [query.data]);

  const dates = (c: Campaign) => {
    const start = c.starts_at ? day.format(new Date(c.starts_at)) : null;
    const end = c.ends_at ? day.format(new Date(c.ends_at)) : null;
    if (start && end) return t("campaigns.dates", { start, end });
    if (start) return t("campaigns.from", { start });
    if (end) return t("campaigns.until", { end });
    return <span className="text-secondary">{t("campaigns.noDates")}</span>;
  };
  const columns: TableColumnsType<Campaign> = [
    {
      title: t("campaigns.col.name"),
      dataIndex: "name",
      sorter: (a, b) => a.name.localeCompare(b.name),
      render: (name: string, c) => (
        <>
          <Link to={`/campaigns/${c.id}`}>{name}</Link>
          {c.description ? <div className="text-secondary cell-note">{c.description}</div> : null}
        </>
      ),
    },
    { title: t("campaigns.col.status"), dataIndex: "status", render: (s: CampaignStatus) => <CampaignStatusTag status={s} /> },
    { title: t("campaigns.col.owner"), dataIndex: "owner", render: (o: string | null) => o || <span className="text-secondary">—</span> },
    {
      title: t("campaigns.col.dates"),
      key: "dates",
      sorter: (a, b) => (a.starts_at ?? "").localeCompare(b.starts_at ?? ""),
      render: (_: unknown, c) => dates(c),
    },
    {
      title: t("campaigns.col.budget"),
      dataIndex: "budget",
      align: "right",
      sorter: (a, b) => (a.budget ?? 0) - (b.budget ?? 0),
      render: (b: number | null, c) => (b === null || b === undefined ? <span className="text-secondary">—</span> : money(lang, b, c.currency)),
    },
    {
      title: t("campaigns.col.goal"),
      key: "goal",
      render: (_: unknown, c) => {
        const goal = c.goal as { event?: string; window_days?: number } | null | undefined;
        return goal?.event ? t("campaigns.goalText", { event: goal.event, days: goal.window_days ?? 7 }) : <span className="text-secondary">—</span>;
      },
    },
  ];

  return (
    <>
      <div className="page-head">
        <PageTitle title={t("campaigns.title")}>{t("campaigns.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/campaigns/new")}>
            {t("campaigns.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("campaigns.intro")}</p>
      <div role="search" className="list-search">
        <Space>
          <label htmlFor="campaign-status">{t("campaigns.filter.status")}</label>
          <Select<CampaignStatus | "all">
            id="campaign-status"
            value={status ?? "all"}
            onChange={(v) => setParams(v === "all" ? {} : { status: v })}
            options={[
              { value: "all", label: t("campaigns.filter.all") },
              ...STATUSES.map((s) => ({ value: s, label: `${t(`campaigns.status.${s}`)} (${counts.get(s) ?? 0})` })),
            ]}
            style={{ width: 220 }}
          />
        </Space>
      </div>
      {query.isError ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
        </div>
      ) : null}
      <Table<Campaign>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: status ? t("campaigns.noMatch") : t("campaigns.empty") }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/campaigns/${record.id}`);
          },
        })}
      />
    </>
  );
}
