import { Space, Tag, type TableColumnsType } from "antd";
import type { components } from "../../../api/schema";
import { DateTime } from "../../../components/DateTime";
import { isMessageKey, type MessageKey, type useI18n } from "../../../i18n";

/**
 * What the contact profile's CRM tab and the account page's CRM panel share: a record's
 * state in each connection (`CrmContactState` and `CrmAccountState` have the same fields)
 * and its push log, as table columns.
 */
export type SyncState = components["schemas"]["CrmContactState"];
type Translate = ReturnType<typeof useI18n>["t"];
interface SyncLogEntry {
  created_at: string;
  connection_id: number;
  outcome: string;
  crm_id: string | null;
  detail: string | null;
}

const STATUS_CLASS: Record<SyncState["status"], string> = {
  synced: "tag-ok",
  queued: "tag-info",
  sending: "tag-info",
  failed: "tag-warn",
};

function known(t: Translate, prefix: string, value: string): string {
  const key = `${prefix}.${value}`;
  return isMessageKey(key) ? t(key as MessageKey) : value;
}

/** Refetch every 5 s while a push is on its way. */
export function whilePushing(data: { connections: SyncState[] } | undefined): number | false {
  return data?.connections.some((c) => c.status === "queued" || c.status === "sending") ? 5000 : false;
}

/** Connection, status (with the last error and the next retry), CRM id, last synced. */
export function syncStateColumns<S extends SyncState>(t: Translate): TableColumnsType<S> {
  return [
    {
      title: t("crmSync.col.connection"),
      dataIndex: "connection_name",
      render: (name: string, c) => (
        <>
          {name} <span className="text-secondary">· {known(t, "crm.provider", c.provider)}</span>
        </>
      ),
    },
    {
      title: t("crmSync.col.status"),
      dataIndex: "status",
      render: (s: SyncState["status"], c) => (
        <Space orientation="vertical" size={2}>
          <Tag className={STATUS_CLASS[s]}>{known(t, "crmSync.status", s)}</Tag>
          {c.last_error ? <span className="verify-result field-error">{c.last_error}</span> : null}
          {s === "queued" && c.attempts > 0 ? (
            <span className="text-secondary">
              {t("crmSync.retry", { n: c.attempts })} <DateTime value={c.next_attempt_at} />
            </span>
          ) : null}
        </Space>
      ),
    },
    {
      title: t("crmSync.col.crmId"),
      dataIndex: "crm_id",
      // a webhook receiver returns no record id: "not in the CRM yet" only before a first push
      render: (id: string | null, c) =>
        id ? (
          <code>{id}</code>
        ) : (
          <span className="text-secondary">{c.last_synced_at ? t("common.none") : t("crmSync.noCrmId")}</span>
        ),
    },
    {
      title: t("crmSync.col.lastSynced"),
      dataIndex: "last_synced_at",
      render: (v: string | null) => (v ? <DateTime value={v} /> : <span className="text-secondary">{t("crm.never")}</span>),
    },
  ];
}

/**
 * The push log's columns: when, connection (named from `connections`), then `extra` (the
 * contact's direction), outcome, CRM id and detail.
 */
export function syncLogColumns<L extends SyncLogEntry>(
  t: Translate,
  connections: SyncState[],
  extra: TableColumnsType<L> = [],
): TableColumnsType<L> {
  const names = new Map(connections.map((c) => [c.connection_id, c.connection_name]));
  return [
    { title: t("crmSync.col.when"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
    { title: t("crmSync.col.connection"), dataIndex: "connection_id", render: (id: number) => names.get(id) ?? `#${id}` },
    ...extra,
    { title: t("crmSync.col.outcome"), dataIndex: "outcome", render: (o: string) => known(t, "crmSync.outcome", o) },
    { title: t("crmSync.col.crmId"), dataIndex: "crm_id", render: (id: string | null) => (id ? <code>{id}</code> : t("common.none")) },
    { title: t("crmSync.col.detail"), dataIndex: "detail", render: (d: string | null) => d ?? t("common.none") },
  ];
}
