import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, message as antMessage, Table } from "antd";
import { SyncOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import { api, unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useSession, useWorkspaceKey } from "../../../auth/SessionProvider";
import { ErrorAlert, errorText } from "../../../components/ErrorAlert";
import { useI18n } from "../../../i18n";
import "../../../i18n/leadSettings";
import { syncLogColumns, syncStateColumns, whilePushing } from "./crmSyncParts";
// the status tags and error lines of the Settings pages
import "../../settings/settings.css";

type State = components["schemas"]["CrmContactState"];
type LogEntry = components["schemas"]["CrmLogEntry"];

export const crmSyncKey = (ws: number | null, contactId: number) => ["contact-crm-sync", ws, contactId] as const;

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
    refetchInterval: (q) => whilePushing(q.state.data),
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
  const connections = query.data?.connections ?? [];
  const columns = syncStateColumns<State>(t);
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
  const logColumns = syncLogColumns<LogEntry>(t, connections, [
    { title: t("crmSync.col.direction"), dataIndex: "direction", render: (d: string) => t(d === "pull" ? "crmSync.pull" : "crmSync.push") },
  ]);

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
          dataSource={connections}
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
