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
  Table,
  Tag,
  type TableColumnsType,
} from "antd";
import { EditOutlined, PlusOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/settings";
import { referenceKey } from "../segments/queries";
import {
  ATTRIBUTE_TYPES,
  settingsKeys,
  type Attribute,
  type AttributeConversion,
  type AttributeType,
} from "./common";
import "./settings.css";

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

interface Draft {
  name: string;
  type: AttributeType;
  label: string;
  description: string;
}

/** The field a refusal is about, by its code. */
function refusedField(error: unknown): "name" | "type" | null {
  if (!(error instanceof ApiError)) return null;
  if (["invalid_attribute_name", "reserved_attribute_name", "attribute_exists"].includes(error.code)) return "name";
  if (["attribute_in_use", "invalid_attribute_type"].includes(error.code)) return "type";
  return null;
}

/** What declaring (or re-typing) did or would do to the values contacts hold. */
function ConversionReport({ conversion }: { conversion: AttributeConversion }) {
  const { t } = useI18n();
  return (
    <>
      <p>{t("attributes.report.holders", { n: conversion.contacts_with_value })}</p>
      <ul className="conversion-report">
        <li>{t("attributes.report.converted", { n: conversion.converted })}</li>
        <li>{t("attributes.report.already", { n: conversion.already_typed })}</li>
        <li>{t("attributes.report.unconvertible", { n: conversion.unconvertible })}</li>
      </ul>
      {conversion.unconvertible_contact_ids.length > 0 ? (
        <p>
          {t("attributes.report.examples")}{" "}
          {conversion.unconvertible_contact_ids.map((id, i) => (
            <span key={id}>
              {i > 0 ? ", " : null}
              <Link to={`/contacts/${id}`} className="inline-link">
                #{id}
              </Link>
            </span>
          ))}
        </p>
      ) : null}
    </>
  );
}

function AttributeModal({ attribute, onClose }: { attribute: Attribute | null; onClose: (saved?: string) => void }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>({
    name: attribute?.name ?? "",
    type: (attribute?.type as AttributeType | undefined) ?? "string",
    label: attribute?.label ?? "",
    description: attribute?.description ?? "",
  });
  const [checked, setChecked] = useState(false);
  /** The dry run's report, waiting for the user to confirm. */
  const [preview, setPreview] = useState<AttributeConversion | null>(null);
  const retyped = attribute !== null && draft.type !== attribute.type;

  const write = useMutation({
    mutationFn: async ({ d, dryRun }: { d: Draft; dryRun: boolean }) => {
      const texts = { label: d.label.trim() || null, description: d.description.trim() || null };
      if (attribute) {
        const body = { ...texts, ...(d.type !== attribute.type ? { type: d.type } : {}), dry_run: dryRun };
        return unwrap(api.PATCH("/api/v1/attributes/{name}", { params: { path: { name: attribute.name } }, body }));
      }
      return unwrap(api.POST("/api/v1/attributes", { body: { name: d.name.trim(), type: d.type, ...texts, dry_run: dryRun } }));
    },
    onSuccess: (answer, { d, dryRun }) => {
      if (dryRun) {
        const conversion = answer.conversion ?? null;
        // nothing held yet: no report to read, declare at once
        if (!conversion || conversion.contacts_with_value === 0) write.mutate({ d, dryRun: false });
        else setPreview(conversion);
        return;
      }
      void queryClient.invalidateQueries({ queryKey: settingsKeys.attributes(ws) });
      void queryClient.invalidateQueries({ queryKey: referenceKey(ws) });
      onClose(d.name.trim());
    },
    onError: () => setPreview(null),
  });

  const nameProblem =
    attribute !== null ? null : !draft.name.trim() ? t("attributes.nameRequired") : !NAME_PATTERN.test(draft.name.trim()) ? t("attributes.namePattern") : null;
  const refused = refusedField(write.error);
  const serverMessage = (field: "name" | "type") =>
    refused === field && write.error instanceof ApiError
      ? write.error.code === "attribute_exists"
        ? t("attributes.exists")
        : write.error.message
      : undefined;
  const nameError = (checked ? nameProblem : null) || serverMessage("name");
  const typeError = serverMessage("type");

  const submit = () => {
    setChecked(true);
    if (nameProblem) return;
    if (preview) {
      write.mutate({ d: draft, dryRun: false });
      return;
    }
    // a new type converts the values contacts hold: ask for the report first
    write.mutate({ d: draft, dryRun: attribute === null || retyped });
  };
  const set = (patch: Partial<Draft>) => {
    write.reset();
    setPreview(null);
    setDraft((d) => ({ ...d, ...patch }));
  };

  return (
    <Modal
      open
      title={attribute ? t("attributes.editTitle", { name: attribute.name }) : t("attributes.newTitle")}
      okText={preview ? (attribute ? t("attributes.confirmRetype") : t("attributes.confirmCreate")) : attribute ? t("common.save") : t("attributes.create")}
      cancelText={t("common.cancel")}
      onOk={submit}
      confirmLoading={write.isPending}
      onCancel={() => onClose()}
      destroyOnHidden
    >
      <Form layout="vertical" component="form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
        <Form.Item
          label={t("attributes.name")}
          htmlFor="attribute-name"
          required={attribute === null}
          extra={nameError ? undefined : attribute ? t("attributes.nameFixed") : t("attributes.nameHint")}
          validateStatus={nameError ? "error" : undefined}
          help={nameError || undefined}
        >
          <Input
            id="attribute-name"
            value={draft.name}
            maxLength={100}
            disabled={attribute !== null}
            autoComplete="off"
            onChange={(e) => set({ name: e.target.value })}
          />
        </Form.Item>
        <Form.Item
          label={t("attributes.type")}
          htmlFor="attribute-type"
          extra={typeError ? undefined : t("attributes.typeHint")}
          validateStatus={typeError ? "error" : undefined}
          help={typeError}
        >
          <Select
            id="attribute-type"
            value={draft.type}
            onChange={(type: AttributeType) => set({ type })}
            options={ATTRIBUTE_TYPES.map((type) => ({ value: type, label: t(`attributes.type.${type}`) }))}
          />
        </Form.Item>
        <Form.Item label={t("attributes.label")} htmlFor="attribute-label" extra={t("attributes.labelHint")}>
          <Input id="attribute-label" value={draft.label} maxLength={200} onChange={(e) => set({ label: e.target.value })} />
        </Form.Item>
        <Form.Item label={t("attributes.description")} htmlFor="attribute-description">
          <Input.TextArea
            id="attribute-description"
            value={draft.description}
            autoSize={{ minRows: 2, maxRows: 5 }}
            onChange={(e) => set({ description: e.target.value })}
          />
        </Form.Item>
        <button type="submit" hidden aria-hidden tabIndex={-1} />
      </Form>
      {preview ? (
        <Alert
          type={preview.unconvertible > 0 ? "warning" : "info"}
          showIcon
          role="status"
          title={attribute ? t("attributes.retypeReportTitle", { type: t(`attributes.type.${draft.type}`) }) : t("attributes.createReportTitle")}
          description={<ConversionReport conversion={preview} />}
        />
      ) : null}
      {write.error && !refused ? (
        <Alert type="error" showIcon title={t("attributes.saveFailed")} description={errorText(write.error, t)} />
      ) : null}
    </Modal>
  );
}

export default function AttributesPage() {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const ws = useWorkspaceKey();
  const [message, messageHolder] = antMessage.useMessage();
  const [editing, setEditing] = useState<Attribute | "new" | null>(null);
  const query = useQuery({
    queryKey: settingsKeys.attributes(ws),
    queryFn: () => unwrap(api.GET("/api/v1/attributes")),
  });

  const columns: TableColumnsType<Attribute> = [
    {
      title: t("attributes.col.name"),
      dataIndex: "name",
      render: (name: string, attribute) => (
        <>
          <code>{name}</code>
          {attribute.label ? <div className="cell-note">{attribute.label}</div> : null}
        </>
      ),
    },
    {
      title: t("attributes.col.type"),
      dataIndex: "type",
      render: (type: string) =>
        (ATTRIBUTE_TYPES as string[]).includes(type) ? <Tag>{t(`attributes.type.${type as AttributeType}`)}</Tag> : <Tag>{type}</Tag>,
    },
    {
      title: t("attributes.col.description"),
      dataIndex: "description",
      render: (v: string | null) => v ?? <span className="text-secondary">{t("common.none")}</span>,
    },
    { title: t("attributes.col.created"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
  ];
  if (canEdit) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, attribute) => (
        <Button
          size="small"
          icon={<EditOutlined />}
          aria-label={t("attributes.edit", { name: attribute.name })}
          onClick={() => setEditing(attribute)}
        />
      ),
    });
  }

  return (
    <>
      {messageHolder}
      <div className="page-head">
        <PageTitle title={t("attributes.title")}>{t("attributes.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")}>
            {t("attributes.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("attributes.intro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<Attribute>
        rowKey="id"
        columns={columns}
        dataSource={query.data?.data ?? []}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("attributes.empty") }}
      />
      {editing !== null && canEdit ? (
        <AttributeModal
          key={editing === "new" ? "new" : editing.id}
          attribute={editing === "new" ? null : editing}
          onClose={(saved) => {
            setEditing(null);
            if (saved) void message.success(t("attributes.saved", { name: saved }));
          }}
        />
      ) : null}
    </>
  );
}
