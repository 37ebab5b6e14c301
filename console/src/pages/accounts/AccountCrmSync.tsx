import { useQuery } from "@tanstack/react-query";
import { Table } from "antd";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useSession, useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import "../../i18n/leadSettings";
import { syncLogColumns, syncStateColumns, whilePushing } from "../contacts/profile/crmSyncParts";
// the status tags and error lines of the Settings pages
import "../settings/settings.css";

type State = components["schemas"]["CrmAccountState"];
type LogEntry = components["schemas"]["CrmAccountLogEntry"];

export const accountCrmSyncKey = (ws: number | null, accountId: number) => ["account-crm-sync", ws, accountId] as const;

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
    refetchInterval: (q) => whilePushing(q.state.data),
  });
  const connections = query.data?.connections ?? [];
  const columns = syncStateColumns<State>(t);
  const logColumns = syncLogColumns<LogEntry>(t, connections);

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
