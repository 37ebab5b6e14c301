import { useMemo, useState } from "react";
import { Button, Input, Space, Table, Tag, type TableColumnsType } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate } from "react-router";
import type { Segment } from "../../api/types";
import { useCanEdit } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { useSegments, useSegmentTrends } from "./queries";
import { Sparkline } from "../../components/Sparkline";

const TREND_DAYS = 30;
import "../../i18n/audiences";

export function SegmentKindTag({ kind }: { kind: string }) {
  const { t } = useI18n();
  return kind === "static" ? (
    <Tag className="tag-static">{t("segments.kind.static")}</Tag>
  ) : (
    <Tag className="tag-dynamic">{t("segments.kind.dynamic")}</Tag>
  );
}

export default function SegmentsPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const query = useSegments();
  const trends = useSegmentTrends(TREND_DAYS);
  const trendOf = useMemo(
    () => new Map((trends.data?.segments ?? []).map((s) => [s.segment_id, s.members])),
    [trends.data],
  );
  const [search, setSearch] = useState("");
  const number = new Intl.NumberFormat(lang);

  const rows = useMemo(() => {
    const q = search.trim().toLocaleLowerCase();
    const all = query.data?.data ?? [];
    return q ? all.filter((s) => s.name.toLocaleLowerCase().includes(q)) : all;
  }, [query.data, search]);

  const columns: TableColumnsType<Segment> = [
    {
      title: t("segments.col.name"),
      dataIndex: "name",
      sorter: (a, b) => a.name.localeCompare(b.name),
      render: (name: string, s) => (
        <>
          <Link to={`/segments/${s.id}`}>{name}</Link>
          {s.description ? <div className="text-secondary cell-note">{s.description}</div> : null}
        </>
      ),
    },
    { title: t("segments.col.kind"), dataIndex: "kind", render: (kind: string) => <SegmentKindTag kind={kind} /> },
    {
      title: t("segments.col.members"),
      dataIndex: "member_count",
      align: "right",
      sorter: (a, b) => a.member_count - b.member_count,
      render: (n: number) => number.format(n),
    },
    {
      title: t("segments.col.trend", { days: TREND_DAYS }),
      key: "trend",
      render: (_: unknown, s) => {
        const members = trendOf.get(s.id);
        if (!members || members.length === 0) return null;
        const first = members[0] ?? 0;
        const last = members[members.length - 1] ?? 0;
        const change = last - first;
        const signed = new Intl.NumberFormat(lang, { signDisplay: "exceptZero" }).format(change);
        return (
          <span className="segment-trend">
            <Sparkline
              values={members}
              label={t("segments.trendLabel", { days: TREND_DAYS, from: number.format(first), to: number.format(last) })}
            />
            <span className={change > 0 ? "trend-up" : change < 0 ? "trend-down" : "text-secondary"} aria-hidden="true">
              {signed}
            </span>
          </span>
        );
      },
    },
    {
      title: t("segments.col.updated"),
      dataIndex: "updated_at",
      sorter: (a, b) => a.updated_at.localeCompare(b.updated_at),
      defaultSortOrder: "descend",
      render: (v: string) => <DateTime value={v} />,
    },
  ];

  return (
    <>
      <div className="page-head">
        <PageTitle title={t("segments.title")}>{t("segments.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/segments/new")}>
            {t("segments.new")}
          </Button>
        ) : null}
      </div>
      <div role="search" className="list-search">
        <Space>
          <label htmlFor="segment-search">{t("segments.search")}</label>
          <Input.Search
            id="segment-search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            allowClear
            style={{ width: 300 }}
          />
        </Space>
      </div>
      {query.isError ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
        </div>
      ) : null}
      <Table<Segment>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: search.trim() ? t("segments.noMatch", { q: search.trim() }) : t("segments.empty") }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/segments/${record.id}`);
          },
        })}
      />
    </>
  );
}
