import { useState, type FormEvent } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Button, Form, Input, Select, Space, Table, Tag, type TableColumnsType } from "antd";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/settings";
import type { AuditEntry } from "./common";

type ActorType = AuditEntry["actor_type"];

interface Filters {
  actorType?: ActorType;
  objectType: string;
  action: string;
  /** `YYYY-MM-DD` from the date inputs, in the browser's time zone. */
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { objectType: "", action: "", from: "", to: "" };

/** The start of a local day as an ISO instant; `plusDays` 1 gives the end of that day. */
function dayStart(day: string, plusDays = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).toISOString();
}

/** A value of the log as text: strings as they are, anything else as JSON in a <pre>. Never HTML. */
function AuditValue({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="json-null">null</span>;
  if (typeof value === "string") return <span className="audit-text">{value}</span>;
  if (typeof value === "number" || typeof value === "boolean") return <span>{String(value)}</span>;
  return <pre className="json-block audit-json">{JSON.stringify(value, null, 2)}</pre>;
}

/** The changed fields: `field: before → after` (the server sends each as [before, after]). */
export function ChangeList({ changes }: { changes: Record<string, unknown> }) {
  const { t } = useI18n();
  return (
    <ul className="audit-changes" aria-label={t("audit.changes")}>
      {Object.entries(changes).map(([field, change]) => (
        <li key={field}>
          <code className="audit-field">{field}</code>:{" "}
          {Array.isArray(change) && change.length === 2 ? (
            <>
              <AuditValue value={change[0]} />
              <span className="audit-arrow"> → </span>
              <AuditValue value={change[1]} />
            </>
          ) : (
            <AuditValue value={change} />
          )}
        </li>
      ))}
    </ul>
  );
}

function hasChanges(entry: AuditEntry): boolean {
  return entry.changes !== null && Object.keys(entry.changes).length > 0;
}

export default function AuditLogPage() {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);

  const query = useInfiniteQuery({
    queryKey: ["audit-log", workspace, filters],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/audit-log", {
          params: {
            query: {
              actor_type: filters.actorType,
              object_type: filters.objectType.trim() || undefined,
              action: filters.action.trim() || undefined,
              since: dayStart(filters.from),
              until: dayStart(filters.to, 1),
              before: pageParam ?? undefined,
              limit: 50,
            },
          },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next ?? null,
  });
  const rows = query.data?.pages.flatMap((p) => p.data) ?? [];

  const apply = (e?: FormEvent) => {
    e?.preventDefault();
    setFilters(draft);
  };
  const clear = () => {
    setDraft(NO_FILTERS);
    setFilters(NO_FILTERS);
  };

  const columns: TableColumnsType<AuditEntry> = [
    { title: t("audit.col.time"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
    {
      title: t("audit.col.actor"),
      dataIndex: "actor_label",
      render: (label: string, entry) => (
        <>
          <Tag>{t(`audit.actor.${entry.actor_type}`)}</Tag>
          {label}
        </>
      ),
    },
    { title: t("audit.col.action"), dataIndex: "action", render: (a: string) => <code>{a}</code> },
    {
      title: t("audit.col.object"),
      key: "object",
      render: (_: unknown, entry) =>
        entry.object_type ? (
          <>
            {entry.object_type}
            {entry.object_id ? <code className="audit-object-id"> #{entry.object_id}</code> : null}
          </>
        ) : (
          t("common.none")
        ),
    },
    {
      title: t("audit.col.changes"),
      key: "changes",
      render: (_: unknown, entry) =>
        hasChanges(entry) ? t("audit.fieldCount", { n: Object.keys(entry.changes ?? {}).length }) : t("common.none"),
    },
  ];

  return (
    <>
      <PageTitle title={t("audit.title")}>{t("audit.title")}</PageTitle>
      <p className="text-secondary page-intro">{t("audit.intro")}</p>
      <section aria-labelledby="audit-filters-title" className="audit-filters">
        <h2 id="audit-filters-title" className="visually-hidden">
          {t("audit.filters")}
        </h2>
        <Form layout="inline" component="form" onSubmitCapture={apply}>
          <Form.Item label={t("audit.actorType")} htmlFor="audit-actor">
            <Select
              id="audit-actor"
              value={draft.actorType ?? ""}
              onChange={(v: ActorType | "") => setDraft({ ...draft, actorType: v || undefined })}
              style={{ minWidth: 130 }}
              options={[
                { value: "", label: t("audit.any") },
                { value: "user", label: t("audit.actor.user") },
                { value: "key", label: t("audit.actor.key") },
                { value: "system", label: t("audit.actor.system") },
              ]}
            />
          </Form.Item>
          <Form.Item label={t("audit.objectType")} htmlFor="audit-object">
            <Input
              id="audit-object"
              value={draft.objectType}
              maxLength={60}
              placeholder="segments"
              onChange={(e) => setDraft({ ...draft, objectType: e.target.value })}
            />
          </Form.Item>
          <Form.Item label={t("audit.action")} htmlFor="audit-action">
            <Input
              id="audit-action"
              value={draft.action}
              maxLength={200}
              placeholder="PATCH"
              onChange={(e) => setDraft({ ...draft, action: e.target.value })}
            />
          </Form.Item>
          <Form.Item label={t("audit.from")} htmlFor="audit-from">
            <Input id="audit-from" type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
          </Form.Item>
          <Form.Item label={t("audit.to")} htmlFor="audit-to">
            <Input id="audit-to" type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
          </Form.Item>
          <Form.Item>
            <Space>
              <Button type="primary" htmlType="submit">
                {t("audit.apply")}
              </Button>
              <Button onClick={clear}>{t("audit.clear")}</Button>
            </Space>
          </Form.Item>
        </Form>
      </section>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<AuditEntry>
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("audit.empty") }}
        expandable={{
          rowExpandable: hasChanges,
          expandedRowRender: (entry) => <ChangeList changes={entry.changes ?? {}} />,
        }}
      />
      {query.hasNextPage ? (
        <Button className="load-more" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
          {t("audit.older")}
        </Button>
      ) : rows.length > 0 && !query.isPending ? (
        <p className="text-secondary load-more">{t("audit.noOlder")}</p>
      ) : null}
    </>
  );
}
