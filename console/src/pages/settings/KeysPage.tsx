import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Button,
  Form,
  Input,
  message as antMessage,
  Modal,
  Select,
  Space,
  Table,
  Tag,
  type TableColumnsType,
} from "antd";
import { CopyOutlined, PlusOutlined, StopOutlined } from "@ant-design/icons";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import "../../i18n/settings";
import { apiCode, ROLES, useIsAdmin, type ApiKey, type KeyCreated, type Role } from "./common";

type Kind = ApiKey["kind"];

/**
 * The new key, shown once. The modal is mounted only while there is a key: closing it
 * unmounts it at once (no closing animation keeping the key in the page), and the key,
 * kept in no query cache, is gone from memory too.
 */
function NewKeyModal({ created, onClose }: { created: KeyCreated; onClose: () => void }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const close = () => {
    setCopied(null);
    onClose();
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
  };
  return (
    <Modal
      open
      title={t("keys.createdTitle", { name: created.name })}
      onCancel={close}
      destroyOnHidden
      mask={{ closable: false }}
      footer={
        <Button type="primary" onClick={close}>
          {t("keys.done")}
        </Button>
      }
    >
      <>
          <Alert type="warning" showIcon title={t("keys.onceWarning")} style={{ marginBottom: 12 }} />
          <label htmlFor="new-key-value" className="field-label">
            {t("keys.theKey")}
          </label>
          <Space.Compact style={{ width: "100%" }}>
            <Input id="new-key-value" readOnly value={created.key} className="key-value" onFocus={(e) => e.target.select()} />
            <Button icon={<CopyOutlined />} onClick={() => void copy()}>
              {t("keys.copy")}
            </Button>
          </Space.Compact>
          <p role="status" aria-live="polite" className="text-secondary" style={{ marginTop: 8, minHeight: 22 }}>
            {copied === "yes" ? t("keys.copied") : copied === "failed" ? t("keys.copyFailed") : ""}
          </p>
      </>
    </Modal>
  );
}

function NewKeyForm({ onCreated }: { onCreated: (key: KeyCreated) => void }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Kind>("api");
  const [role, setRole] = useState<Role>("analyst");
  const [missing, setMissing] = useState(false);

  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/keys", { body: { name: name.trim(), kind, role } })),
    onSuccess: (key) => {
      void queryClient.invalidateQueries({ queryKey: ["keys", workspace] });
      setName("");
      onCreated(key);
      // The key is handed to the modal only; the mutation does not keep it.
      create.reset();
    },
  });

  const submit = () => {
    if (!name.trim()) {
      setMissing(true);
      return;
    }
    setMissing(false);
    create.mutate();
  };

  return (
    <section aria-labelledby="new-key-title" className="new-rule">
      <h2 id="new-key-title" className="section-title">
        {t("keys.new")}
      </h2>
      <Form layout="inline" component="div" className="rule-form">
        <Form.Item
          label={t("keys.name")}
          htmlFor="key-name"
          required
          validateStatus={missing ? "error" : undefined}
          help={missing ? t("keys.nameRequired") : undefined}
        >
          <Input
            id="key-name"
            value={name}
            maxLength={200}
            onChange={(e) => setName(e.target.value)}
            onPressEnter={submit}
          />
        </Form.Item>
        <Form.Item label={t("keys.kind")} htmlFor="key-kind">
          <Select
            id="key-kind"
            value={kind}
            onChange={(v: Kind) => setKind(v)}
            popupMatchSelectWidth={false}
            style={{ minWidth: 200 }}
            options={[
              { value: "api", label: t("keys.kind.api") },
              { value: "write", label: t("keys.kind.write") },
            ]}
          />
        </Form.Item>
        {kind === "api" ? (
          <Form.Item label={t("keys.role")} htmlFor="key-role">
            <Select
              id="key-role"
              value={role}
              onChange={(v: Role) => setRole(v)}
              style={{ minWidth: 130 }}
              options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
            />
          </Form.Item>
        ) : null}
        <Form.Item>
          <Button type="primary" icon={<PlusOutlined />} onClick={submit} loading={create.isPending}>
            {t("keys.create")}
          </Button>
        </Form.Item>
      </Form>
      {create.error ? (
        <Alert type="error" showIcon title={t("keys.createFailed")} description={errorText(create.error, t)} style={{ marginTop: 12 }} />
      ) : null}
    </section>
  );
}

function revokeErrorTitle(error: unknown): MessageKey {
  const code = apiCode(error, 409);
  if (code === "key_in_use") return "keys.inUse";
  if (code === "last_api_key") return "keys.lastApiKey";
  return "keys.revokeFailed";
}

export default function KeysPage() {
  const { t } = useI18n();
  const isAdmin = useIsAdmin();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [created, setCreated] = useState<KeyCreated | null>(null);
  const [revokeError, setRevokeError] = useState<unknown>(null);
  const query = useQuery({
    queryKey: ["keys", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/keys")),
  });

  const revoke = useMutation({
    mutationFn: (key: ApiKey) => unwrap(api.DELETE("/api/v1/keys/{key_id}", { params: { path: { key_id: key.id } } })),
    onSuccess: (_, key) => {
      void queryClient.invalidateQueries({ queryKey: ["keys", workspace] });
      void message.success(t("keys.revoked", { name: key.name }));
    },
    onError: (error) => setRevokeError(error),
  });

  const confirmRevoke = (key: ApiKey) =>
    void modal.confirm({
      title: t("keys.revokeConfirm", { name: key.name }),
      content: t("keys.revokeHint"),
      okText: t("keys.revokeOk"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => {
        setRevokeError(null);
        return revoke.mutateAsync(key).catch(() => undefined);
      },
    });

  const columns: TableColumnsType<ApiKey> = [
    { title: t("keys.col.name"), dataIndex: "name" },
    { title: t("keys.col.kind"), dataIndex: "kind", render: (k: Kind) => t(`keys.kind.${k}`) },
    {
      title: t("keys.col.role"),
      dataIndex: "role",
      render: (r: Role, key) => (key.kind === "api" ? t(`role.${r}`) : t("common.none")),
    },
    { title: t("keys.col.prefix"), dataIndex: "prefix", render: (p: string) => <code>{p}…</code> },
    { title: t("keys.col.created"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
    {
      title: t("keys.col.lastUsed"),
      dataIndex: "last_used_at",
      render: (v: string | null, key) => (key.kind === "write" ? t("keys.notTracked") : v ? <DateTime value={v} /> : t("keys.never")),
    },
    {
      title: t("keys.col.revoked"),
      dataIndex: "revoked_at",
      render: (v: string | null) => (v ? <DateTime value={v} /> : <Tag className="tag-active">{t("keys.active")}</Tag>),
    },
  ];
  if (isAdmin) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, key) =>
        key.revoked_at ? null : (
          <Button size="small" danger icon={<StopOutlined />} onClick={() => confirmRevoke(key)} aria-label={t("keys.revoke", { name: key.name })}>
            {t("keys.revokeOk")}
          </Button>
        ),
    });
  }

  return (
    <>
      {modalHolder}
      {messageHolder}
      <PageTitle title={t("keys.title")}>{t("keys.title")}</PageTitle>
      <p className="text-secondary page-intro">{t("keys.intro")}</p>
      {isAdmin ? <NewKeyForm onCreated={setCreated} /> : null}
      {created ? <NewKeyModal created={created} onClose={() => setCreated(null)} /> : null}
      {revokeError ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          role="alert"
          closable={{ onClose: () => setRevokeError(null) }}
          title={t(revokeErrorTitle(revokeError))}
          description={errorText(revokeError, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<ApiKey>
        rowKey="id"
        columns={columns}
        dataSource={query.data?.data ?? []}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("keys.empty") }}
      />
    </>
  );
}
