// Audiences → Accounts (/accounts): the B2B accounts, searched by name or domain, with their
// members and rolled-up scores; a new one in a dialog. An account's page has its members.
import { useMemo, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Button, Input, message as antMessage, Modal, Table, type TableColumnsType } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate } from "react-router";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/accounts";
import { AccountForm } from "./AccountForm";
import { accountName, accountsKey, useAccounts, type Account } from "./queries";
import "./accounts.css";

export default function AccountsPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const [q, setQ] = useState("");
  const [creating, setCreating] = useState(false);
  const query = useAccounts(q);
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.data) ?? [], [query.data]);
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const unnamed = (id: number) => t("accounts.unnamed", { id });
  // the first score model's roll-up as a column (models come in key order)
  const model = rows.find((a) => a.scores.length)?.scores[0];

  const columns: TableColumnsType<Account> = [
    {
      title: t("accounts.col.name"),
      key: "name",
      render: (_: unknown, a) => <Link to={`/accounts/${a.id}`}>{accountName(a, unnamed)}</Link>,
    },
    { title: t("accounts.col.domain"), dataIndex: "domain", render: (d: string | null) => d ?? t("common.none") },
    {
      title: t("accounts.col.members"),
      dataIndex: "member_count",
      align: "right",
      render: (n: number) => number.format(n),
    },
    {
      title: t("accounts.col.owner"),
      dataIndex: "owner_email",
      render: (e: string | null) => e ?? <span className="text-secondary">{t("accounts.noOwner")}</span>,
    },
  ];
  if (model) {
    const of = (a: Account) => a.scores.find((s) => s.model === model.model);
    columns.push(
      {
        title: t("accounts.col.score", { model: model.model_name }),
        key: "sum",
        align: "right",
        render: (_: unknown, a) => number.format(of(a)?.sum ?? 0),
      },
      {
        title: t("accounts.col.engaged"),
        key: "engaged",
        align: "right",
        render: (_: unknown, a) => number.format(of(a)?.engaged ?? 0),
      },
    );
  }

  return (
    <>
      {messageHolder}
      <div className="page-head">
        <PageTitle title={t("accounts.title")}>{t("accounts.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            {t("accounts.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("accounts.intro")}</p>
      <Input.Search
        className="accounts-search"
        aria-label={t("accounts.search")}
        placeholder={t("accounts.searchPlaceholder")}
        allowClear
        maxLength={200}
        onSearch={(value) => setQ(value.trim())}
      />
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<Account>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: q ? t("accounts.noMatch", { q }) : t("accounts.empty") }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/accounts/${record.id}`);
          },
        })}
      />
      {query.hasNextPage ? (
        <Button className="load-more" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
          {t("accounts.more")}
        </Button>
      ) : null}
      <Modal open={creating} title={t("accounts.new")} footer={null} onCancel={() => setCreating(false)} destroyOnHidden width={600}>
        <AccountForm
          account={null}
          onCancel={() => setCreating(false)}
          onSaved={(a) => {
            setCreating(false);
            void queryClient.invalidateQueries({ queryKey: accountsKey(workspace) });
            void message.success(t("accounts.created", { name: accountName(a, unnamed) }));
            navigate(`/accounts/${a.id}`);
          }}
        />
      </Modal>
    </>
  );
}
