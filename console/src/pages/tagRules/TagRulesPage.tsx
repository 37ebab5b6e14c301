import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  AutoComplete,
  Button,
  Form,
  Input,
  message as antMessage,
  Modal,
  Select,
  Table,
  type TableColumnsType,
} from "antd";
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import type { TagRule } from "../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { useSegmentReference, useSegments } from "../segments/queries";
import "../../i18n/audiences";

function NewTagRule({ onCreated }: { onCreated: (rule: TagRule) => void }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const segments = useSegments();
  const reference = useSegmentReference();
  const [segmentId, setSegmentId] = useState<number | undefined>();
  const [tag, setTag] = useState("");
  const [name, setName] = useState("");
  const [missing, setMissing] = useState(false);

  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/tag-rules", {
          body: { segment_id: segmentId ?? 0, tag: tag.trim(), name: name.trim() || null },
        }),
      ),
    onSuccess: (rule) => {
      void queryClient.invalidateQueries({ queryKey: ["tag-rules", workspace] });
      void queryClient.invalidateQueries({ queryKey: ["segment-reference", workspace] });
      setSegmentId(undefined);
      setTag("");
      setName("");
      onCreated(rule);
    },
  });

  const submit = () => {
    if (!segmentId || !tag.trim()) {
      setMissing(true);
      return;
    }
    setMissing(false);
    create.mutate();
  };

  const error = create.error;
  const errorTitle =
    error instanceof ApiError && error.code === "tag_rule_loop"
      ? t("tagRules.loop")
      : error instanceof ApiError && error.code === "tag_rule_exists"
        ? t("tagRules.exists")
        : t("tagRules.createFailed");

  return (
    <section aria-labelledby="new-rule-title" className="new-rule">
      <h2 id="new-rule-title" className="section-title">
        {t("tagRules.new")}
      </h2>
      <Form layout="inline" component="div" className="rule-form">
        <Form.Item
          label={t("tagRules.segment")}
          htmlFor="rule-segment"
          required
          validateStatus={missing && !segmentId ? "error" : undefined}
          help={missing && !segmentId ? t("tagRules.segmentRequired") : undefined}
        >
          <Select
            id="rule-segment"
            showSearch={{ optionFilterProp: "label" }}
            value={segmentId}
            onChange={(v: number) => setSegmentId(v)}
            loading={segments.isPending}
            placeholder={t("builder.segmentPlaceholder")}
            options={(segments.data?.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
            popupMatchSelectWidth={false}
            style={{ minWidth: 220 }}
          />
        </Form.Item>
        <Form.Item
          label={t("tagRules.tag")}
          htmlFor="rule-tag"
          required
          validateStatus={missing && !tag.trim() ? "error" : undefined}
          help={missing && !tag.trim() ? t("tagRules.tagRequired") : undefined}
        >
          <AutoComplete
            id="rule-tag"
            value={tag}
            onChange={(v: string) => setTag(v)}
            options={(reference.data?.tags ?? []).map((x) => ({ value: x }))}
            filterOption={(input, option) => String(option?.value ?? "").toLowerCase().includes(input.toLowerCase())}
            style={{ minWidth: 180 }}
          />
        </Form.Item>
        <Form.Item label={t("tagRules.name")} htmlFor="rule-name" extra={t("tagRules.nameHint")}>
          <Input id="rule-name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
        </Form.Item>
        <Form.Item>
          <Button type="primary" icon={<PlusOutlined />} onClick={submit} loading={create.isPending}>
            {t("tagRules.create")}
          </Button>
        </Form.Item>
      </Form>
      {error ? (
        <Alert type="error" showIcon title={errorTitle} description={errorText(error, t)} style={{ marginTop: 12 }} />
      ) : null}
    </section>
  );
}

export default function TagRulesPage() {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const segments = useSegments();
  const query = useQuery({
    queryKey: ["tag-rules", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/tag-rules")),
  });
  const segmentName = new Map((segments.data?.data ?? []).map((s) => [s.id, s.name]));

  const remove = useMutation({
    mutationFn: (rule: TagRule) => unwrap(api.DELETE("/api/v1/tag-rules/{rule_id}", { params: { path: { rule_id: rule.id } } })),
    onSuccess: (_, rule) => {
      void queryClient.invalidateQueries({ queryKey: ["tag-rules", workspace] });
      void message.success(t("tagRules.deleted", { name: rule.name }));
    },
    onError: (error) => setDeleteError(error),
  });

  const confirmDelete = (rule: TagRule) =>
    void modal.confirm({
      title: t("tagRules.deleteConfirm", { name: rule.name }),
      content: t("tagRules.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => {
        setDeleteError(null);
        return remove.mutateAsync(rule).catch(() => undefined);
      },
    });

  const columns: TableColumnsType<TagRule> = [
    { title: t("tagRules.col.name"), dataIndex: "name" },
    {
      title: t("tagRules.col.segment"),
      dataIndex: "segment_id",
      render: (id: number) => <Link to={`/segments/${id}`}>{segmentName.get(id) ?? t("builder.segmentMissing", { id })}</Link>,
    },
    { title: t("tagRules.col.tag"), dataIndex: "tag", render: (tag: string) => <code>{tag}</code> },
    { title: t("tagRules.col.created"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
  ];
  if (canEdit) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, rule) => (
        <Button
          size="small"
          danger
          icon={<DeleteOutlined />}
          aria-label={t("tagRules.delete", { name: rule.name })}
          onClick={() => confirmDelete(rule)}
        />
      ),
    });
  }

  return (
    <>
      {modalHolder}
      {messageHolder}
      <PageTitle title={t("tagRules.title")}>{t("tagRules.title")}</PageTitle>
      <p className="text-secondary page-intro">{t("tagRules.intro")}</p>
      {canEdit ? <NewTagRule onCreated={(rule) => void message.success(t("tagRules.created", { name: rule.name }))} /> : null}
      {deleteError ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          closable={{ onClose: () => setDeleteError(null) }}
          title={t("tagRules.deleteFailed")}
          description={errorText(deleteError, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<TagRule>
        rowKey="id"
        columns={columns}
        dataSource={query.data?.data ?? []}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("tagRules.empty") }}
      />
    </>
  );
}
