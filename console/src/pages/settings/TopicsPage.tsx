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
  Space,
  Table,
  Tag,
  type TableColumnsType,
} from "antd";
import { DeleteOutlined, EditOutlined, PlusOutlined } from "@ant-design/icons";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/settings";
import { CHANNEL_KINDS, errorPath, settingsKeys, type ChannelKind, type Topic } from "./common";
import "./settings.css";

const KEY_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;

interface Draft {
  key: string;
  name: string;
  description: string;
  channel: ChannelKind | null;
  opt_in: boolean;
  double_opt_in: boolean;
  confirmation_template_id: number | null;
}

type Field = "key" | "name" | "double_opt_in" | "confirmation_template_id";

function draftOf(topic: Topic | null): Draft {
  return {
    key: topic?.key ?? "",
    name: topic?.name ?? "",
    description: topic?.description ?? "",
    channel: topic?.channel ?? null,
    opt_in: topic?.opt_in ?? false,
    double_opt_in: topic?.double_opt_in ?? false,
    confirmation_template_id: topic?.confirmation_template_id ?? null,
  };
}

/** The field a refusal is about: its code, else the field its message names. */
function refusedField(error: unknown): Field | null {
  if (!(error instanceof ApiError)) return null;
  if (error.code === "topic_exists") return "key";
  if (error.code === "invalid_topic") return "double_opt_in";
  if (error.code === "unknown_template") return "confirmation_template_id";
  const path = errorPath(error);
  return path === "key" || path === "name" ? path : null;
}

function TopicModal({ topic, onClose }: { topic: Topic | null; onClose: (saved?: Topic) => void }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(topic));
  const [checked, setChecked] = useState(false);
  const templates = useQuery({
    queryKey: settingsKeys.templates(ws),
    queryFn: () => unwrap(api.GET("/api/v1/templates")),
    enabled: draft.double_opt_in,
  });

  const save = useMutation({
    mutationFn: (d: Draft) => {
      const common = {
        name: d.name.trim(),
        description: d.description.trim() || null,
        opt_in: d.opt_in,
        double_opt_in: d.opt_in && d.double_opt_in,
        confirmation_template_id: d.opt_in && d.double_opt_in ? d.confirmation_template_id : null,
      };
      return topic
        ? unwrap(api.PATCH("/api/v1/topics/{topic_id}", { params: { path: { topic_id: topic.id } }, body: common }))
        : unwrap(api.POST("/api/v1/topics", { body: { ...common, key: d.key.trim(), channel: d.channel } }));
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: settingsKeys.topics(ws) });
      onClose(saved);
    },
  });

  const keyProblem = !topic && (!draft.key.trim() ? t("topics.keyRequired") : !KEY_PATTERN.test(draft.key.trim()) ? t("topics.keyPattern") : null);
  const nameProblem = !draft.name.trim() ? t("topics.nameRequired") : null;
  const refused = refusedField(save.error);
  const serverError = (field: Field) =>
    refused === field && save.error instanceof ApiError
      ? save.error.code === "topic_exists"
        ? t("topics.exists")
        : save.error.message
      : undefined;
  const errorOf = (field: "key" | "name") =>
    (checked ? (field === "key" ? keyProblem : nameProblem) : null) || serverError(field);

  const submit = () => {
    setChecked(true);
    if (keyProblem || nameProblem) return;
    save.mutate(draft);
  };
  const set = (patch: Partial<Draft>) => {
    save.reset();
    setDraft((d) => ({ ...d, ...patch }));
  };
  const emailTemplates = (templates.data?.data ?? []).filter((tpl) => tpl.channel === "email");

  return (
    <Modal
      open
      title={topic ? t("topics.editTitle", { name: topic.name }) : t("topics.newTitle")}
      okText={topic ? t("common.save") : t("topics.create")}
      cancelText={t("common.cancel")}
      onOk={submit}
      confirmLoading={save.isPending}
      onCancel={() => onClose()}
      destroyOnHidden
    >
      <Form layout="vertical" component="form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
        <Form.Item
          label={t("topics.key")}
          htmlFor="topic-key"
          required={!topic}
          extra={errorOf("key") ? undefined : t("topics.keyHint")}
          validateStatus={errorOf("key") ? "error" : undefined}
          help={errorOf("key") || undefined}
        >
          <Input
            id="topic-key"
            value={draft.key}
            maxLength={100}
            disabled={topic !== null}
            autoComplete="off"
            onChange={(e) => set({ key: e.target.value })}
          />
        </Form.Item>
        <Form.Item
          label={t("topics.name")}
          htmlFor="topic-name"
          required
          extra={errorOf("name") ? undefined : t("topics.nameHint")}
          validateStatus={errorOf("name") ? "error" : undefined}
          help={errorOf("name") || undefined}
        >
          <Input id="topic-name" value={draft.name} maxLength={200} autoComplete="off" onChange={(e) => set({ name: e.target.value })} />
        </Form.Item>
        <Form.Item label={t("topics.description")} htmlFor="topic-description">
          <Input.TextArea
            id="topic-description"
            value={draft.description}
            autoSize={{ minRows: 2, maxRows: 5 }}
            onChange={(e) => set({ description: e.target.value })}
          />
        </Form.Item>
        <Form.Item label={t("topics.channel")} htmlFor="topic-channel" extra={topic ? t("topics.channelFixed") : t("topics.channelHint")}>
          <Select
            id="topic-channel"
            value={draft.channel ?? "any"}
            disabled={topic !== null}
            onChange={(v: ChannelKind | "any") => set({ channel: v === "any" ? null : v })}
            options={[
              { value: "any", label: t("topics.anyChannel") },
              ...CHANNEL_KINDS.map((k) => ({ value: k, label: t(`channels.kind.${k}`) })),
            ]}
          />
        </Form.Item>
        <Form.Item extra={t("topics.optInHint")}>
          <Checkbox checked={draft.opt_in} onChange={(e) => set({ opt_in: e.target.checked, double_opt_in: e.target.checked && draft.double_opt_in })}>
            {t("topics.optIn")}
          </Checkbox>
        </Form.Item>
        <Form.Item
          extra={serverError("double_opt_in") ? undefined : t("topics.doubleOptInHint")}
          validateStatus={serverError("double_opt_in") ? "error" : undefined}
          help={serverError("double_opt_in")}
        >
          <Checkbox checked={draft.double_opt_in} disabled={!draft.opt_in} onChange={(e) => set({ double_opt_in: e.target.checked })}>
            {t("topics.doubleOptIn")}
          </Checkbox>
        </Form.Item>
        {draft.opt_in && draft.double_opt_in ? (
          <Form.Item
            label={t("topics.confirmationTemplate")}
            htmlFor="topic-template"
            extra={serverError("confirmation_template_id") ? undefined : t("topics.confirmationTemplateHint")}
            validateStatus={serverError("confirmation_template_id") ? "error" : undefined}
            help={serverError("confirmation_template_id")}
          >
            <Select
              id="topic-template"
              allowClear
              loading={templates.isPending}
              placeholder={t("topics.builtInConfirmation")}
              value={draft.confirmation_template_id ?? undefined}
              onChange={(id?: number) => set({ confirmation_template_id: id ?? null })}
              options={emailTemplates.map((tpl) => ({ value: tpl.id, label: tpl.name }))}
            />
          </Form.Item>
        ) : null}
        <button type="submit" hidden aria-hidden tabIndex={-1} />
      </Form>
      {save.error && !refused ? (
        <Alert type="error" showIcon title={t("topics.saveFailed")} description={errorText(save.error, t)} />
      ) : null}
    </Modal>
  );
}

export default function TopicsPage() {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [editing, setEditing] = useState<Topic | "new" | null>(null);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const query = useQuery({
    queryKey: settingsKeys.topics(ws),
    queryFn: () => unwrap(api.GET("/api/v1/topics")),
  });

  const remove = useMutation({
    mutationFn: (topic: Topic) => unwrap(api.DELETE("/api/v1/topics/{topic_id}", { params: { path: { topic_id: topic.id } } })),
    onSuccess: (_, topic) => {
      void queryClient.invalidateQueries({ queryKey: settingsKeys.topics(ws) });
      void message.success(t("topics.deleted", { name: topic.name }));
    },
    onError: (error) => setDeleteError(error),
  });

  const confirmDelete = (topic: Topic) =>
    void modal.confirm({
      title: t("topics.deleteConfirm", { name: topic.name }),
      content: t("topics.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => {
        setDeleteError(null);
        return remove.mutateAsync(topic).catch(() => undefined);
      },
    });

  const columns: TableColumnsType<Topic> = [
    {
      title: t("topics.col.name"),
      dataIndex: "name",
      render: (name: string, topic) => (
        <>
          {name}
          {topic.description ? <div className="text-secondary cell-note">{topic.description}</div> : null}
        </>
      ),
    },
    { title: t("topics.col.key"), dataIndex: "key", render: (key: string) => <code>{key}</code> },
    {
      title: t("topics.col.channel"),
      dataIndex: "channel",
      render: (channel: ChannelKind | null) => (channel ? t(`channels.kind.${channel}`) : t("topics.anyChannel")),
    },
    {
      title: t("topics.col.consent"),
      key: "consent",
      render: (_: unknown, topic) =>
        topic.double_opt_in ? (
          <Tag className="tag-strong">{t("topics.doubleOptInTag")}</Tag>
        ) : topic.opt_in ? (
          <Tag className="tag-info">{t("topics.optInTag")}</Tag>
        ) : (
          <Tag>{t("topics.optOutTag")}</Tag>
        ),
    },
    { title: t("topics.col.created"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
  ];
  if (canEdit) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, topic) => (
        <Space size={4}>
          <Button size="small" icon={<EditOutlined />} aria-label={t("topics.edit", { name: topic.name })} onClick={() => setEditing(topic)} />
          <Button
            size="small"
            danger
            icon={<DeleteOutlined />}
            aria-label={t("topics.delete", { name: topic.name })}
            onClick={() => confirmDelete(topic)}
          />
        </Space>
      ),
    });
  }

  return (
    <>
      {modalHolder}
      {messageHolder}
      <div className="page-head">
        <PageTitle title={t("topics.title")}>{t("topics.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")}>
            {t("topics.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("topics.intro")}</p>
      {deleteError ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          role="alert"
          closable={{ onClose: () => setDeleteError(null) }}
          title={t("topics.deleteFailed")}
          description={errorText(deleteError, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<Topic>
        rowKey="id"
        columns={columns}
        dataSource={query.data?.data ?? []}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("topics.empty") }}
      />
      {editing !== null && canEdit ? (
        <TopicModal
          key={editing === "new" ? "new" : editing.id}
          topic={editing === "new" ? null : editing}
          onClose={(saved) => {
            setEditing(null);
            if (saved) void message.success(t("topics.saved", { name: saved.name }));
          }}
        />
      ) : null}
    </>
  );
}
