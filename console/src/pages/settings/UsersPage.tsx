import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Button,
  Checkbox,
  Form,
  Input,
  message as antMessage,
  Modal,
  Select,
  Switch,
  Table,
  Tag,
  type TableColumnsType,
} from "antd";
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { api, unwrap } from "../../api/client";
import { useSession, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import "../../i18n/settings";
import { apiCode, ROLES, useIsAdmin, type Role, type WorkspaceUser } from "./common";

const MIN_PASSWORD = 12;

/** The message of a refused change, the last admin above all. */
function changeErrorTitle(error: unknown, fallback: MessageKey): MessageKey {
  return apiCode(error, 409) === "last_admin" ? "users.lastAdmin" : fallback;
}

function AddUserModal({ open, onClose }: { open: boolean; onClose: (added?: WorkspaceUser) => void }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("marketer");
  const [approver, setApprover] = useState(false);
  const [password, setPassword] = useState("");
  const [checked, setChecked] = useState(false);

  const add = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/users", {
          body: { email: email.trim(), name: name.trim(), role, approver, password: password || null },
        }),
      ),
    onSuccess: (user) => {
      void queryClient.invalidateQueries({ queryKey: ["users", workspace] });
      reset();
      onClose(user);
    },
  });

  const reset = () => {
    setEmail("");
    setName("");
    setRole("marketer");
    setApprover(false);
    setPassword("");
    setChecked(false);
    add.reset();
  };

  const emailMissing = !email.trim().includes("@");
  const nameMissing = !name.trim();
  const passwordShort = password.length > 0 && password.length < MIN_PASSWORD;
  const exists = apiCode(add.error, 409) === "member_exists";
  const weak = apiCode(add.error, 422) === "weak_password";
  const emailError = checked && emailMissing ? t("users.emailRequired") : exists ? t("users.memberExists") : undefined;
  const passwordError = checked && passwordShort ? t("users.passwordShort", { n: MIN_PASSWORD }) : weak ? t("users.weakPassword") : undefined;

  const submit = () => {
    setChecked(true);
    if (emailMissing || nameMissing || passwordShort) return;
    add.mutate();
  };

  return (
    <Modal
      open={open}
      title={t("users.addTitle")}
      okText={t("users.add")}
      cancelText={t("common.cancel")}
      onOk={submit}
      confirmLoading={add.isPending}
      onCancel={() => {
        reset();
        onClose();
      }}
      destroyOnHidden
    >
      <Form layout="vertical" component="form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
        <Form.Item
          label={t("users.email")}
          htmlFor="user-email"
          required
          validateStatus={emailError ? "error" : undefined}
          help={emailError}
        >
          <Input id="user-email" type="email" autoComplete="off" value={email} maxLength={320} onChange={(e) => setEmail(e.target.value)} />
        </Form.Item>
        <Form.Item
          label={t("users.name")}
          htmlFor="user-name"
          required
          validateStatus={checked && nameMissing ? "error" : undefined}
          help={checked && nameMissing ? t("users.nameRequired") : undefined}
        >
          <Input id="user-name" autoComplete="off" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
        </Form.Item>
        <Form.Item label={t("users.role")} htmlFor="user-role">
          <Select
            id="user-role"
            value={role}
            onChange={(v: Role) => setRole(v)}
            options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
          />
        </Form.Item>
        <Form.Item extra={t("users.approverHint")}>
          <Checkbox checked={approver} onChange={(e) => setApprover(e.target.checked)}>
            {t("users.approver")}
          </Checkbox>
        </Form.Item>
        <Form.Item
          label={t("users.password")}
          htmlFor="user-password"
          extra={passwordError ? undefined : t("users.passwordHint", { n: MIN_PASSWORD })}
          validateStatus={passwordError ? "error" : undefined}
          help={passwordError}
        >
          <Input.Password id="user-password" autoComplete="new-password" value={password} maxLength={1024} onChange={(e) => setPassword(e.target.value)} />
        </Form.Item>
        <button type="submit" hidden aria-hidden tabIndex={-1} />
      </Form>
      {add.error && !exists && !weak ? (
        <Alert type="error" showIcon title={t("users.addFailed")} description={errorText(add.error, t)} />
      ) : null}
    </Modal>
  );
}

export default function UsersPage() {
  const { t } = useI18n();
  const isAdmin = useIsAdmin();
  const me = useSession().session?.user.id;
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [adding, setAdding] = useState(false);
  const [failure, setFailure] = useState<{ title: MessageKey; error: unknown } | null>(null);
  const query = useQuery({
    queryKey: ["users", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/users")),
  });

  const update = useMutation({
    mutationFn: ({ user, change }: { user: WorkspaceUser; change: { role?: Role; approver?: boolean } }) =>
      unwrap(api.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: user.id } }, body: change })),
    onSuccess: (_, { user }) => {
      setFailure(null);
      void queryClient.invalidateQueries({ queryKey: ["users", workspace] });
      void message.success(t("users.updated", { name: user.name }));
    },
    onError: (error) => setFailure({ title: changeErrorTitle(error, "users.updateFailed"), error }),
  });

  const remove = useMutation({
    mutationFn: (user: WorkspaceUser) =>
      unwrap(api.DELETE("/api/v1/users/{user_id}", { params: { path: { user_id: user.id } } })),
    onSuccess: (_, user) => {
      setFailure(null);
      void queryClient.invalidateQueries({ queryKey: ["users", workspace] });
      void message.success(t("users.removed", { name: user.name }));
    },
    onError: (error) => setFailure({ title: changeErrorTitle(error, "users.removeFailed"), error }),
  });

  const confirmRemove = (user: WorkspaceUser) =>
    void modal.confirm({
      title: t("users.removeConfirm", { name: user.name, email: user.email }),
      content: t("users.removeHint"),
      okText: t("users.removeOk"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => remove.mutateAsync(user).catch(() => undefined),
    });

  const columns: TableColumnsType<WorkspaceUser> = [
    {
      title: t("users.col.name"),
      dataIndex: "name",
      render: (name: string, user) => (
        <>
          {name}
          {user.id === me ? <Tag style={{ marginInlineStart: 8 }}>{t("users.you")}</Tag> : null}
          {user.disabled_at ? <Tag color="default">{t("users.disabled")}</Tag> : null}
        </>
      ),
    },
    { title: t("users.col.email"), dataIndex: "email" },
    {
      title: t("users.col.role"),
      dataIndex: "role",
      render: (role: Role, user) =>
        isAdmin ? (
          <Select
            aria-label={t("users.roleOf", { name: user.name })}
            size="small"
            value={role}
            style={{ minWidth: 120 }}
            disabled={update.isPending}
            onChange={(next: Role) => update.mutate({ user, change: { role: next } })}
            options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
          />
        ) : (
          t(`role.${role}`)
        ),
    },
    {
      title: t("users.col.approver"),
      dataIndex: "approver",
      render: (approver: boolean, user) =>
        isAdmin ? (
          <Switch
            aria-label={t("users.approverOf", { name: user.name })}
            size="small"
            checked={approver || user.role === "admin"}
            disabled={user.role === "admin" || update.isPending}
            onChange={(next) => update.mutate({ user, change: { approver: next } })}
          />
        ) : approver || user.role === "admin" ? (
          t("common.yes")
        ) : (
          t("common.no")
        ),
    },
    { title: t("users.col.joined"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
  ];
  if (isAdmin) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, user) => (
        <Button
          size="small"
          danger
          icon={<DeleteOutlined />}
          aria-label={t("users.remove", { name: user.name })}
          onClick={() => confirmRemove(user)}
        />
      ),
    });
  }

  return (
    <>
      {modalHolder}
      {messageHolder}
      <div className="page-head">
        <PageTitle title={t("users.title")}>{t("users.title")}</PageTitle>
        {isAdmin ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setAdding(true)}>
            {t("users.add")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("users.intro")}</p>
      {isAdmin ? (
        <AddUserModal
          open={adding}
          onClose={(added) => {
            setAdding(false);
            if (added) void message.success(t("users.added", { name: added.name }));
          }}
        />
      ) : null}
      {failure ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          role="alert"
          closable={{ onClose: () => setFailure(null) }}
          title={t(failure.title)}
          description={failure.title === "users.lastAdmin" ? t("users.lastAdminHint") : errorText(failure.error, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<WorkspaceUser>
        rowKey="id"
        columns={columns}
        dataSource={query.data?.data ?? []}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("users.empty") }}
      />
    </>
  );
}
