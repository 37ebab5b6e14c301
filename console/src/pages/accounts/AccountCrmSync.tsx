import { useQuery } from "@tanstack/react-query";
import { Space, Table, Tag, type TableColumnsType } from "antd";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useSession, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { isMessageKey, useI18n, type MessageKey } from "../../i18n";
import "../../i18n/leadSettings";
// the status tags and error lines of the Settings pages
import "../settings/settings.css";

type State = components["schemas"]["CrmAccountState"];
type LogEntry = components["schemas"]["CrmAccountLogEntry"];

export const accountCrmSyncKey = (ws: number | null, accountId: number) => ["account-crm-sync", ws, accountId] as const;

const STATUS_CLASS: Record<State["status"], string> = {
  synced: "tag-ok",
  queued: "tag-info",
  sending: "tag-info",
  failed: "tag-warn",
};

/**
 * The account in each CRM that pushes accounts (`GET /accounts/{id}/crm-sync`): its CRM id
 * (HubSpot company, Salesforce Account), sync status, last sync and error per connection, and
 * its latest pushes. Read-only: an account is queued with its contacts and when it changes
 * (docs/leads.md, "Accounts (B2B) in the sync"); the contact profile's "Sync now" pushes it too.
 */
export default function AccountCrmSync({ accountId }: { accountId: number }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const role = useSession().workspace?.role;
  const query = useQuery({
    queryKey: accountCrmSyncKey(ws, accountId),
    queryFn: () => unwrap(api.GET("/api/v1/accounts/{account_id}/crm-sync", { params: { path: { account_id: accountId } } })),
    // while a push is on its way, look again now and then
    refetchInterval: (q) => (q.state.data?.connections.some((c) => c.status === "queued" || c.status === "sending") ? 5000 : false),
  });
  const statusText = (s: string) => (isMessageKey(`crmSync.status.${s}`) ? t(`crmSync.status.${s}` as MessageKey) : s);
  const outcomeText = (s: string) => (isMessageKey(`crmSync.outcome.${s}`) ? t(`crmSync.outcome.${s}` as MessageKey) : s);
  const provider = (p: string) => (isMessageKey(`crm.provider.${p}`) ? t(`crm.provider.${p}` as MessageKey) : p);
  const names = new Map((query.data?.connections ?? []).map((c) => [c.connection_id, c.connection_name]));

  const columns: TableColumnsType<State> = [
    {
      title: t("crmSync.col.connection"),
      dataIndex: "connection_name",
      render: (name: string, c) => (
        <>
          {name} <span className="text-secondary">· {provider(c.provider)}</span>
        </>
      ),
    },
    {
      title: t("crmSync.col.status"),
      dataIndex: "status",
      render: (s: State["status"], c) => (
        <Space orientation="vertical" size={2}>
          <Tag className={STATUS_CLASS[s]}>{statusText(s)}</Tag>
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
        id ? <code>{id}</code> : <span className="text-secondary">{c.last_synced_at ? t("common.none") : t("crmSync.noCrmId")}</span>,
    },
    {
      title: t("crmSync.col.lastSynced"),
      dataIndex: "last_synced_at",
      render: (v: string | null) => (v ? <DateTime value={v} /> : <span className="text-secondary">{t("crm.never")}</span>),
    },
  ];
  const logColumns: TableColumnsType<LogEntry> = [
    { title: t("crmSync.col.when"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
    { title: t("crmSync.col.connection"), dataIndex: "connection_id", render: (id: number) => names.get(id) ?? `#${id}` },
    { title: t("crmSync.col.outcome"), dataIndex: "outcome", render: (o: string) => outcomeText(o) },
    { title: t("crmSync.col.crmId"), dataIndex: "crm_id", render: (id: string | null) => (id ? <code>{id}</code> : t("common.none")) },
    { title: t("crmSync.col.detail"), dataIndex: "detail", render: (d: string | null) => d ?? t("common.none") },
  ];

  return (
    <section className="account-section crm-sync-panel" aria-labelledby="account-crm-sync-title">
      <h2 id="account-crm-sync-title" className="section-title">
        {t("crmSync.title")}
      </h2>
      <p className="text-secondary">{t("crmSync.accountIntro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.data && !query.data.connections.length ? (
        <p>
          {t("crmSync.accountNone")} {role === "admin" ? <Link to="/settings/crm">{t("crmSync.connect")}</Link> : null}
        </p>
      ) : (
        <Table<State>
          rowKey="connection_id"
          columns={columns}
          dataSource={query.data?.connections ?? []}
          loading={query.isPending}
          pagination={false}
          size="small"
        />
      )}
      <h3 className="section-title crm-log-title">{t("crmSync.log")}</h3>
      <Table<LogEntry>
        rowKey="id"
        columns={logColumns}
        dataSource={query.data?.log ?? []}
        loading={query.isPending}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        size="small"
        locale={{ emptyText: t("crmSync.logEmpty") }}
      />
    </section>
  );
}
