// An account (/accounts/:id): its details and traits, the members' scores rolled up per
// score model, and its members (add by contact id with a role, remove); edit and delete.
import { useMemo, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Form, Input, InputNumber, message as antMessage, Modal, Space, Spin, Table, type TableColumnsType } from "antd";
import { ArrowLeftOutlined, DeleteOutlined, EditOutlined, UserAddOutlined } from "@ant-design/icons";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { contactLabel } from "../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { JsonValue } from "../../components/JsonValue";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/accounts";
import { AccountForm } from "./AccountForm";
import AccountCrmSync from "./AccountCrmSync";
import {
  accountKey,
  accountName,
  accountsKey,
  membersKey,
  useAccount,
  useMembers,
  type Account,
  type AccountMember,
  type AccountScore,
} from "./queries";
import "./accounts.css";

function BackLink() {
  const { t } = useI18n();
  return (
    <Link to="/accounts" className="back-link">
      <Space size={4}>
        <ArrowLeftOutlined />
        {t("accounts.back")}
      </Space>
    </Link>
  );
}

function Scores({ account }: { account: Account }) {
  const { t, lang } = useI18n();
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const columns: TableColumnsType<AccountScore> = [
    { title: t("accounts.score.model"), key: "model", render: (_: unknown, s) => <>{s.model_name} <code>{s.model}</code></> },
    { title: t("accounts.score.sum"), dataIndex: "sum", align: "right", render: (v: number) => number.format(v) },
    { title: t("accounts.score.max"), dataIndex: "max", align: "right", render: (v: number) => number.format(v) },
    { title: t("accounts.score.engaged"), dataIndex: "engaged", align: "right", render: (v: number) => number.format(v) },
    { title: t("accounts.score.threshold"), dataIndex: "engaged_threshold", align: "right", render: (v: number) => `≥ ${number.format(v)}` },
  ];
  return (
    <section className="account-section" aria-labelledby="account-scores-title">
      <h2 id="account-scores-title" className="section-title">
        {t("accounts.scores")}
      </h2>
      <p className="text-secondary">
        {t("accounts.scoresHint")}{" "}
        {account.rolled_up_at ? (
          <span>
            {t("accounts.rolledUp")} <DateTime value={account.rolled_up_at} />
          </span>
        ) : (
          t("accounts.notRolledUp")
        )}
      </p>
      <Table<AccountScore>
        rowKey="model"
        columns={columns}
        dataSource={account.scores}
        pagination={false}
        size="small"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("accounts.noModels") }}
      />
    </section>
  );
}

function AddMember({ account, onDone }: { account: Account; onDone: () => void }) {
  const { t } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const add = useMutation({
    mutationFn: (v: { contact_id: number; role?: string }) =>
      unwrap(
        api.POST("/api/v1/accounts/{account_id}/contacts", {
          params: { path: { account_id: account.id } },
          body: { contacts: [{ contact_id: v.contact_id, role: v.role?.trim() || null }] },
        }),
      ),
    onSuccess: onDone,
    onError: (e) => setError(e),
  });
  return (
    <Form<{ contact_id: number; role?: string }> layout="vertical" onFinish={(v) => { setError(null); add.mutate(v); }}>
      {error ? <Alert className="page-alert" type="error" showIcon title={t("accounts.member.addFailed")} description={errorText(error, t)} /> : null}
      <Form.Item
        name="contact_id"
        label={t("accounts.member.contactId")}
        extra={t("accounts.member.contactIdHint")}
        rules={[{ required: true, message: t("accounts.member.contactIdRequired") }]}
      >
        <InputNumber min={1} precision={0} style={{ width: "100%" }} />
      </Form.Item>
      <Form.Item name="role" label={t("accounts.member.role")} extra={t("accounts.member.roleHint")}>
        <Input maxLength={100} />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={add.isPending}>
        {t("accounts.member.add")}
      </Button>
    </Form>
  );
}

function Members({ account }: { account: Account }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const [adding, setAdding] = useState(false);
  const [removeError, setRemoveError] = useState<unknown>(null);
  const query = useMembers(account.id);
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.data) ?? [], [query.data]);
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: membersKey(workspace, account.id) });
    void queryClient.invalidateQueries({ queryKey: accountKey(workspace, account.id) });
    void queryClient.invalidateQueries({ queryKey: accountsKey(workspace) });
  };
  const remove = useMutation({
    mutationFn: (m: AccountMember) =>
      unwrap(
        api.DELETE("/api/v1/accounts/{account_id}/contacts/{contact_id}", {
          params: { path: { account_id: account.id, contact_id: m.id } },
        }),
      ),
    onSuccess: () => {
      refresh();
      void message.success(t("accounts.member.removed"));
    },
    onError: (e) => setRemoveError(e),
  });
  const name = (m: AccountMember) => contactLabel({ ...m, phone: null }) ?? `#${m.id}`;
  const columns: TableColumnsType<AccountMember> = [
    { title: t("accounts.member.contact"), key: "contact", render: (_: unknown, m) => <Link to={`/contacts/${m.id}`}>{name(m)}</Link> },
    { title: t("accounts.member.role"), dataIndex: "role", render: (r: string | null) => r ?? t("common.none") },
    { title: t("accounts.member.stage"), dataIndex: "lifecycle_stage", render: (s: string | null) => s ?? t("common.none") },
    {
      title: t("accounts.member.source"),
      dataIndex: "source",
      render: (s: string) => (s === "group" || s === "api" || s === "import" ? t(`accounts.source.${s}`) : s),
    },
    { title: t("accounts.member.joined"), dataIndex: "joined_at", render: (v: string) => <DateTime value={v} /> },
  ];
  if (canEdit) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, m) => (
        <Button
          size="small"
          danger
          icon={<DeleteOutlined />}
          aria-label={t("accounts.member.remove", { name: name(m) })}
          loading={remove.isPending && remove.variables?.id === m.id}
          onClick={() => {
            setRemoveError(null);
            remove.mutate(m);
          }}
        />
      ),
    });
  }
  return (
    <section className="account-section" aria-labelledby="account-members-title">
      {messageHolder}
      <div className="account-section-head">
        <h2 id="account-members-title" className="section-title">
          {t("accounts.members")}
        </h2>
        {canEdit ? (
          <Button icon={<UserAddOutlined />} onClick={() => setAdding(true)}>
            {t("accounts.member.add")}
          </Button>
        ) : null}
      </div>
      {removeError ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          closable={{ onClose: () => setRemoveError(null) }}
          title={t("accounts.member.removeFailed")}
          description={errorText(removeError, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<AccountMember>
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={query.isPending}
        pagination={false}
        size="small"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("accounts.noMembers") }}
      />
      {query.hasNextPage ? (
        <Button className="load-more" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
          {t("accounts.more")}
        </Button>
      ) : null}
      <Modal open={adding} title={t("accounts.member.addTitle")} footer={null} onCancel={() => setAdding(false)} destroyOnHidden>
        <AddMember
          account={account}
          onDone={() => {
            setAdding(false);
            refresh();
            void message.success(t("accounts.member.added"));
          }}
        />
      </Modal>
    </section>
  );
}

export default function AccountPage() {
  const { t } = useI18n();
  const params = useParams();
  const id = Number(params.id);
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [editing, setEditing] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const query = useAccount(id);
  const account = query.data;
  const unnamed = (n: number) => t("accounts.unnamed", { id: n });

  const remove = useMutation({
    mutationFn: (a: Account) => unwrap(api.DELETE("/api/v1/accounts/{account_id}", { params: { path: { account_id: a.id } } })),
    onSuccess: (_, a) => {
      void queryClient.invalidateQueries({ queryKey: accountsKey(workspace) });
      void message.success(t("accounts.deleted", { name: accountName(a, unnamed) }));
      navigate("/accounts");
    },
    onError: (e) => setDeleteError(e),
  });

  if (query.isPending) return <Spin />;
  if (query.isError || !account) {
    const missing = query.error instanceof ApiError && query.error.status === 404;
    return (
      <>
        <BackLink />
        <PageTitle title={t("accounts.title")}>{t("accounts.title")}</PageTitle>
        {missing ? <Alert type="warning" showIcon title={t("accounts.notFound")} /> : <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />}
      </>
    );
  }
  const title = accountName(account, unnamed);
  const traits = Object.entries(account.traits);
  const confirmDelete = () =>
    void modal.confirm({
      title: t("accounts.deleteConfirm", { name: title }),
      content: t("accounts.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => {
        setDeleteError(null);
        return remove.mutateAsync(account).catch(() => undefined);
      },
    });

  return (
    <>
      {modalHolder}
      {messageHolder}
      <BackLink />
      <div className="page-head">
        <PageTitle title={title}>{title}</PageTitle>
        {canEdit ? (
          <Space>
            <Button icon={<EditOutlined />} onClick={() => setEditing(true)}>
              {t("accounts.edit")}
            </Button>
            <Button danger icon={<DeleteOutlined />} onClick={confirmDelete}>
              {t("accounts.delete")}
            </Button>
          </Space>
        ) : null}
      </div>
      {deleteError ? (
        <Alert className="page-alert" type="error" showIcon title={t("accounts.deleteFailed")} description={errorText(deleteError, t)} />
      ) : null}
      <section className="account-section" aria-labelledby="account-details-title">
        <h2 id="account-details-title" className="section-title">
          {t("accounts.details")}
        </h2>
        <dl className="account-facts">
          <dt>{t("accounts.field.domain")}</dt>
          <dd>{account.domain ?? t("common.none")}</dd>
          <dt>{t("accounts.field.externalId")}</dt>
          <dd>{account.external_id ? <code>{account.external_id}</code> : t("common.none")}</dd>
          <dt>{t("accounts.field.owner")}</dt>
          <dd>{account.owner_email ?? t("accounts.noOwner")}</dd>
          <dt>{t("accounts.col.members")}</dt>
          <dd>{new Intl.NumberFormat().format(account.member_count)}</dd>
          <dt>{t("accounts.createdAt")}</dt>
          <dd><DateTime value={account.created_at} /></dd>
          <dt>{t("accounts.updatedAt")}</dt>
          <dd><DateTime value={account.updated_at} /></dd>
        </dl>
        <h3 className="section-title">{t("accounts.traits")}</h3>
        {traits.length ? (
          <dl className="account-facts">
            {traits.map(([k, v]) => (
              <div key={k} style={{ display: "contents" }}>
                <dt>{k}</dt>
                <dd><JsonValue value={v} /></dd>
              </div>
            ))}
          </dl>
        ) : (
          <p className="text-secondary">{t("accounts.noTraits")}</p>
        )}
      </section>
      <Scores account={account} />
      <Members account={account} />
      <AccountCrmSync accountId={account.id} />
      <Modal open={editing} title={t("accounts.editTitle")} footer={null} onCancel={() => setEditing(false)} destroyOnHidden width={600}>
        <AccountForm
          account={account}
          onCancel={() => setEditing(false)}
          onSaved={(a) => {
            setEditing(false);
            queryClient.setQueryData(accountKey(workspace, a.id), a);
            void queryClient.invalidateQueries({ queryKey: accountsKey(workspace) });
            void message.success(t("accounts.saved"));
          }}
        />
      </Modal>
    </>
  );
}
