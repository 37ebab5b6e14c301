import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, message as antMessage, Space, Table, Tag, type TableColumnsType } from "antd";
import { SyncOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import { api, unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useSession, useWorkspaceKey } from "../../../auth/SessionProvider";
import { DateTime } from "../../../components/DateTime";
import { ErrorAlert, errorText } from "../../../components/ErrorAlert";
import { isMessageKey, useI18n, type MessageKey } from "../../../i18n";
import "../../../i18n/leadSettings";
// the status tags and error lines of the Settings pages
import "../../settings/settings.css";

type State = components["schemas"]["CrmContactState"];
type LogEntry = components["schemas"]["CrmLogEntry"];

export const crmSyncKey = (ws: number | null, contactId: number) => ["contact-crm-sync", ws, contactId] as const;

const STATUS_CLASS: Record<State["status"], string> = {
  synced: "tag-ok",
  queued: "tag-info",
  sending: "tag-info",
  failed: "tag-warn",
};

/**
 * The contact in each connected CRM (`GET /contacts/{id}/crm-sync`): its CRM id, sync status,
 * last sync and error per connection, the latest sync log, and "Sync now" (admins and
 * marketers: `POST /contacts/{id}/crm-sync`, queued for the worker's next pass).
 */
export default function CrmSyncPanel({ contactId }: { contactId: number }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const role = useSession().workspace?.role;
  const canPush = role === "admin" || role === "marketer";
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const query = useQuery({
    queryKey: crmSyncKey(ws, contactId),
    queryFn: () => unwrap(api.GET("/api/v1/contacts/{contact_id}/crm-sync", { params: { path: { contact_id: contactId } } })),
    // while a push is on its way, look again now and then
    refetchInterval: (q) => (q.state.data?.connections.some((c) => c.status === "queued" || c.status === "sending") ? 5000 : false),
  });
  const push = useMutation({
    mutationFn: (connectionId: number | null) =>
      unwrap(
        api.POST("/api/v1/contacts/{contact_id}/crm-sync", {
          params: { path: { contact_id: contactId } },
          body: connectionId === null ? {} : { connection_id: connectionId },
        }),
      ),
    onSuccess: (answer) => {
      void queryClient.invalidateQueries({ queryKey: crmSyncKey(ws, contactId) });
      void message.success(t("crmSync.queued", { n: answer.queued }));
    },
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
  if (canPush) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, c) => (
        <Button
          size="small"
          icon={<SyncOutlined />}
          loading={push.isPending && push.variables === c.connection_id}
          aria-label={t("crmSync.syncNowOf", { name: c.connection_name })}
          onClick={() => push.mutate(c.connection_id)}
        >
          {t("crmSync.syncNow")}
        </Button>
      ),
    });
  }
  const logColumns: TableColumnsType<LogEntry> = [
    { title: t("crmSync.col.when"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
    { title: t("crmSync.col.connection"), dataIndex: "connection_id", render: (id: number) => names.get(id) ?? `#${id}` },
    { title: t("crmSync.col.direction"), dataIndex: "direction", render: (d: string) => t(d === "pull" ? "crmSync.pull" : "crmSync.push") },
    { title: t("crmSync.col.outcome"), dataIndex: "outcome", render: (o: string) => outcomeText(o) },
    { title: t("crmSync.col.crmId"), dataIndex: "crm_id", render: (id: string | null) => (id ? <code>{id}</code> : t("common.none")) },
    { title: t("crmSync.col.detail"), dataIndex: "detail", render: (d: string | null) => d ?? t("common.none") },
  ];

  return (
    <section aria-labelledby="crm-sync-title" className="crm-sync-panel">
      {messageHolder}
      <div className="page-head">
        <h2 id="crm-sync-title" className="section-title">
          {t("crmSync.title")}
        </h2>
        {canPush && (query.data?.connections.length ?? 0) > 1 ? (
          <Button icon={<SyncOutlined />} loading={push.isPending && push.variables === null} onClick={() => push.mutate(null)}>
            {t("crmSync.syncAll")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary">{t("crmSync.intro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {push.error ? <Alert type="error" showIcon className="page-alert" title={t("crmSync.pushFailed")} description={errorText(push.error, t)} /> : null}
      {query.data && !query.data.connections.length ? (
        <p>
          {t("crmSync.none")}{" "}
          {role === "admin" ? (
            <Link to="/settings/crm">{t("crmSync.connect")}</Link>
          ) : null}
          {canPush ? (
            <Button size="small" style={{ marginInlineStart: 8 }} icon={<SyncOutlined />} onClick={() => push.mutate(null)} loading={push.isPending}>
              {t("crmSync.syncNow")}
            </Button>
          ) : null}
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
