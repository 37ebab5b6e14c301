import { useMemo, useState } from "react";
import { Button, Input, Radio, Space, Table, type TableColumnsType } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useCanEdit } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { triggerLabel, triggerSummary } from "./describe";
import type { Journey } from "./panels/overlay";
import { useJourneys } from "./queries";
import { StatusTag } from "./StatusTag";
import "../../i18n/journeys";
import "./journeys.css";

const STATUSES = ["draft", "active", "paused", "archived"] as const;
type Status = (typeof STATUSES)[number];

function isStatus(v: string | null): v is Status {
  return v !== null && (STATUSES as readonly string[]).includes(v);
}

const NO_SEGMENTS = { segments: new Map<number, string>() };

/** `/journeys`: every journey, filtered by status (`?status=active`) and name. */
export default function JourneysPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const query = useJourneys();
  const [search, setSearch] = useState("");
  const statusParam = params.get("status");
  const status = isStatus(statusParam) ? statusParam : "all";
  const all = useMemo(() => query.data?.data ?? [], [query.data]);
  const counts = useMemo(() => {
    const out = new Map<string, number>();
    for (const j of all) out.set(j.status, (out.get(j.status) ?? 0) + 1);
    return out;
  }, [all]);
  const number = new Intl.NumberFormat(lang);
  const rows = useMemo(() => {
    const q = search.trim().toLocaleLowerCase();
    return all.filter((j) => (status === "all" || j.status === status) && (!q || j.name.toLocaleLowerCase().includes(q)));
  }, [all, status, search]);

  const columns: TableColumnsType<Journey> = [
    {
      title: t("journeys.col.name"),
      dataIndex: "name",
      sorter: (a, b) => a.name.localeCompare(b.name),
      render: (name: string, j) => <Link to={`/journeys/${j.id}`}>{name}</Link>,
    },
    { title: t("journeys.col.status"), dataIndex: "status", render: (s: string) => <StatusTag status={s} /> },
    {
      title: t("journeys.col.version"),
      dataIndex: "version",
      align: "right",
      render: (v: number | null) => (v ? t("journeys.versionN", { version: number.format(v) }) : t("common.none")),
    },
    {
      title: t("journeys.col.trigger"),
      key: "trigger",
      render: (_: unknown, j) => {
        const trigger = (j.draft?.trigger ?? null) as Record<string, unknown> | null;
        if (!trigger) return t("common.none");
        const detail = triggerSummary(trigger, t, NO_SEGMENTS);
        // the trigger in words ("When tag “vip” is added"), else its kind until it is set up
        return <span className="journey-trigger-cell">{detail || triggerLabel(String(trigger.type ?? ""), t)}</span>;
      },
    },
    {
      title: t("journeys.col.updated"),
      dataIndex: "updated_at",
      sorter: (a, b) => a.updated_at.localeCompare(b.updated_at),
      defaultSortOrder: "descend",
      render: (v: string) => <DateTime value={v} />,
    },
  ];

  return (
    <>
      <div className="page-head">
        <PageTitle title={t("journeys.title")}>{t("journeys.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/journeys/new")}>
            {t("journeys.new")}
          </Button>
        ) : null}
      </div>
      <p className="page-intro text-secondary">{t("journeys.intro")}</p>
      <div className="list-search journeys-filters">
        <Radio.Group
          aria-label={t("journeys.filterStatus")}
          optionType="button"
          value={status}
          onChange={(e) => {
            const next = new URLSearchParams(params);
            if (e.target.value === "all") next.delete("status");
            else next.set("status", e.target.value as string);
            setParams(next, { replace: true });
          }}
          options={[
            { value: "all", label: t("journeys.allStatuses", { n: number.format(all.length) }) },
            ...STATUSES.map((s) => ({ value: s, label: t("journeys.statusCount", { status: t(`journeys.status.${s}`), n: number.format(counts.get(s) ?? 0) }) })),
          ]}
        />
        <Space role="search">
          <label htmlFor="journey-search">{t("journeys.search")}</label>
          <Input.Search id="journey-search" value={search} onChange={(e) => setSearch(e.target.value)} allowClear style={{ width: 260 }} />
        </Space>
      </div>
      {query.isError ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
        </div>
      ) : null}
      <Table<Journey>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{
          emptyText: search.trim() ? t("journeys.noMatch", { q: search.trim() }) : all.length ? t("journeys.noneOfStatus") : t("journeys.empty"),
        }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/journeys/${record.id}`);
          },
        })}
      />
    </>
  );
}
