import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Button,
  Drawer,
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
import { DeleteOutlined, EditOutlined, EyeOutlined, PlusOutlined } from "@ant-design/icons";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import type { ComputedTrait, SegmentReference } from "../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { isMessageKey, useI18n } from "../../i18n";
import { BuilderProvider, builderEnv } from "../segments/builder/BuilderContext";
import { windowText } from "../segments/builder/describe";
import { EventInput, WhereEditor, WindowInput } from "../segments/builder/inputs";
import type { PropertyFilter, Window } from "../segments/builder/model";
import { referenceKey, useSegmentReference } from "../segments/queries";
import "../../i18n/audiences";

/** The functions of docs/segments.md, with the property types each reads (the default first). */
export const TRAIT_FUNCTIONS: Record<string, ("string" | "number")[]> = {
  count: [],
  sum: ["number"],
  avg: ["number"],
  min: ["number"],
  max: ["number"],
  distinct_count: ["string", "number"],
  first: ["string", "number"],
  last: ["string", "number"],
  most_frequent: ["string", "number"],
  first_seen: [],
  last_seen: [],
};

interface TraitDraft {
  name: string;
  description: string;
  function: string;
  event: string | null;
  property: string;
  property_type: "string" | "number" | null;
  where: PropertyFilter[];
  window: Window;
}

function draftOf(trait: ComputedTrait | null): TraitDraft {
  const d = (trait?.definition ?? {}) as Record<string, unknown>;
  return {
    name: trait?.name ?? "",
    description: trait?.description ?? "",
    function: typeof d.function === "string" ? d.function : "count",
    event: typeof d.event === "string" ? d.event : null,
    property: typeof d.property === "string" ? d.property : "",
    property_type: d.property_type === "string" || d.property_type === "number" ? d.property_type : null,
    where: Array.isArray(d.where) ? (d.where as PropertyFilter[]) : [],
    window: (d.window as Window | undefined) ?? { last: { amount: 30, unit: "days" } },
  };
}

/** The definition the API takes (`{schema_version, function, event, property, where, window}`). */
export function traitDefinition(d: TraitDraft): Record<string, unknown> {
  const reads = TRAIT_FUNCTIONS[d.function] ?? [];
  return {
    schema_version: 1,
    function: d.function,
    event: d.event,
    ...(reads.length > 0 ? { property: d.property.trim() } : {}),
    ...(reads.length > 1 && d.property_type ? { property_type: d.property_type } : {}),
    where: d.where,
    window: d.window,
  };
}

function useFunctionLabel() {
  const { t } = useI18n();
  return (fn: string) => {
    const key = `traits.fn.${fn}`;
    return isMessageKey(key) ? t(key) : fn;
  };
}

function TraitForm({
  trait,
  reference,
  onDone,
}: {
  trait: ComputedTrait | null;
  reference: SegmentReference;
  onDone: () => void;
}) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const fnLabel = useFunctionLabel();
  const [draft, setDraft] = useState<TraitDraft>(() => draftOf(trait));
  const [nameError, setNameError] = useState<string | null>(null);
  const reads = TRAIT_FUNCTIONS[draft.function] ?? [];
  const env = useMemo(
    () =>
      builderEnv(reference, { readOnly: !canEdit, errors: new Map(), incomplete: new Set(), topics: [], selfId: null }),
    [reference, canEdit],
  );

  const save = useMutation({
    mutationFn: (d: TraitDraft) => {
      const body = { name: d.name.trim(), description: d.description.trim() || null, definition: traitDefinition(d) };
      return trait
        ? unwrap(api.PATCH("/api/v1/computed-traits/{trait_id}", { params: { path: { trait_id: trait.id } }, body }))
        : unwrap(api.POST("/api/v1/computed-traits", { body }));
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["computed-traits", workspace] });
      void queryClient.invalidateQueries({ queryKey: referenceKey(workspace) });
      onDone();
    },
    onError: (error) => {
      if (error instanceof ApiError && ["computed_trait_exists", "invalid_trait_name"].includes(error.code)) {
        setNameError(error.code === "computed_trait_exists" ? t("traits.exists") : error.message);
      } else if (error instanceof ApiError && error.message.startsWith("name")) {
        setNameError(error.message);
      }
    },
  });

  const submit = () => {
    setNameError(null);
    if (!draft.name.trim()) {
      setNameError(t("traits.nameRequired"));
      return;
    }
    save.mutate(draft);
  };
  const saveError = save.error && !nameError ? save.error : null;
  const set = (patch: Partial<TraitDraft>) => setDraft((d) => ({ ...d, ...patch }));

  return (
    <BuilderProvider env={env}>
      <Form layout="vertical" component="div" disabled={!canEdit}>
        <Form.Item
          label={t("traits.name")}
          htmlFor="trait-name"
          required
          extra={t("traits.nameHint")}
          validateStatus={nameError ? "error" : undefined}
          help={nameError ?? undefined}
        >
          <Input id="trait-name" value={draft.name} maxLength={100} onChange={(e) => set({ name: e.target.value })} />
        </Form.Item>
        <Form.Item label={t("traits.description")} htmlFor="trait-description">
          <Input.TextArea
            id="trait-description"
            value={draft.description}
            autoSize={{ minRows: 1, maxRows: 4 }}
            onChange={(e) => set({ description: e.target.value })}
          />
        </Form.Item>
        <Form.Item label={t("traits.function")} htmlFor="trait-function">
          <Select
            id="trait-function"
            value={draft.function}
            onChange={(fn: string) =>
              set({
                function: fn,
                property_type: (TRAIT_FUNCTIONS[fn] ?? []).includes(draft.property_type ?? "string") ? draft.property_type : null,
              })
            }
            options={Object.keys(TRAIT_FUNCTIONS).map((fn) => ({ value: fn, label: fnLabel(fn) }))}
          />
        </Form.Item>
        {reads.length > 0 ? (
          <Space align="start" wrap>
            <Form.Item
              label={t("traits.property")}
              htmlFor="trait-property"
              required
              validateStatus={draft.property.trim() ? undefined : "warning"}
            >
              <Input id="trait-property" value={draft.property} onChange={(e) => set({ property: e.target.value })} />
            </Form.Item>
            {reads.length > 1 ? (
              <Form.Item label={t("traits.propertyType")} htmlFor="trait-property-type">
                <Select
                  id="trait-property-type"
                  value={draft.property_type ?? reads[0]}
                  onChange={(v: "string" | "number") => set({ property_type: v })}
                  options={reads.map((r) => ({ value: r, label: t(`builder.type.${r}`) }))}
                  style={{ minWidth: 120 }}
                />
              </Form.Item>
            ) : null}
          </Space>
        ) : null}
        <Form.Item label={t("traits.event")}>
          <EventInput value={draft.event} onChange={(event) => set({ event })} label={t("traits.event")} />
        </Form.Item>
        <Form.Item label={t("traits.window")}>
          <WindowInput value={draft.window} onChange={(window) => set({ window })} label={t("traits.window")} />
        </Form.Item>
        <Form.Item label={t("traits.where")}>
          <WhereEditor value={draft.where} onChange={(where) => set({ where })} label={t("traits.trait")} event={draft.event} />
        </Form.Item>
        {saveError ? (
          <Alert type="error" showIcon title={t("traits.saveFailed")} description={errorText(saveError, t)} style={{ marginBottom: 12 }} />
        ) : null}
        {canEdit ? (
          <Space>
            <Button type="primary" onClick={submit} loading={save.isPending}>
              {trait ? t("common.save") : t("traits.create")}
            </Button>
            <Button onClick={onDone}>{t("common.cancel")}</Button>
          </Space>
        ) : null}
      </Form>
    </BuilderProvider>
  );
}

export default function ComputedTraitsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const fnLabel = useFunctionLabel();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [editing, setEditing] = useState<ComputedTrait | "new" | null>(null);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const reference = useSegmentReference();
  const query = useQuery({
    queryKey: ["computed-traits", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/computed-traits")),
  });

  const remove = useMutation({
    mutationFn: (trait: ComputedTrait) =>
      unwrap(api.DELETE("/api/v1/computed-traits/{trait_id}", { params: { path: { trait_id: trait.id } } })),
    onSuccess: (_, trait) => {
      void queryClient.invalidateQueries({ queryKey: ["computed-traits", workspace] });
      void queryClient.invalidateQueries({ queryKey: referenceKey(workspace) });
      void message.success(t("traits.deleted", { name: trait.name }));
    },
    onError: (error) => setDeleteError(error),
  });

  const confirmDelete = (trait: ComputedTrait) =>
    void modal.confirm({
      title: t("traits.deleteConfirm", { name: trait.name }),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => {
        setDeleteError(null);
        return remove.mutateAsync(trait).catch(() => undefined);
      },
    });

  const summary = (trait: ComputedTrait) => {
    const d = trait.definition as Record<string, unknown>;
    const fn = String(d.function ?? "");
    const parts = [fnLabel(fn)];
    if (typeof d.property === "string") parts[0] += ` · ${d.property}`;
    parts.push(typeof d.event === "string" ? `“${d.event}”` : t("builder.anyEvent"));
    parts.push(windowText(d.window as Window | undefined, i18n));
    return parts.join(" · ");
  };

  const columns: TableColumnsType<ComputedTrait> = [
    {
      title: t("traits.col.name"),
      dataIndex: "name",
      render: (name: string, trait) => (
        <>
          <code>{name}</code>
          {trait.description ? <div className="text-secondary cell-note">{trait.description}</div> : null}
        </>
      ),
    },
    { title: t("traits.col.function"), key: "function", render: (_: unknown, trait) => summary(trait) },
    { title: t("traits.col.type"), dataIndex: "value_type", render: (v: string) => t(`builder.type.${v as "number"}`) },
    {
      title: t("traits.col.status"),
      key: "status",
      render: (_: unknown, trait) =>
        trait.pending ? (
          <Tag color="processing">{t("traits.pending")}</Tag>
        ) : (
          <span>
            {t("traits.refreshed")} <DateTime value={trait.refreshed_at} />
          </span>
        ),
    },
    {
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, trait) => (
        <Space size={4}>
          <Button
            size="small"
            icon={canEdit ? <EditOutlined /> : <EyeOutlined />}
            aria-label={t(canEdit ? "traits.edit" : "traits.view", { name: trait.name })}
            onClick={() => setEditing(trait)}
          />
          {canEdit ? (
            <Button
              size="small"
              danger
              icon={<DeleteOutlined />}
              aria-label={t("traits.delete", { name: trait.name })}
              onClick={() => confirmDelete(trait)}
            />
          ) : null}
        </Space>
      ),
    },
  ];

  const drawerTitle =
    editing === "new"
      ? t("traits.new")
      : editing
        ? t(canEdit ? "traits.edit" : "traits.view", { name: editing.name })
        : "";

  return (
    <>
      {modalHolder}
      {messageHolder}
      <div className="page-head">
        <PageTitle title={t("traits.title")}>{t("traits.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")} disabled={!reference.data}>
            {t("traits.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("traits.intro")}</p>
      {deleteError ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          closable={{ onClose: () => setDeleteError(null) }}
          title={
            deleteError instanceof ApiError && deleteError.code === "computed_trait_in_use"
              ? t("traits.inUse")
              : t("traits.deleteFailed")
          }
          description={errorText(deleteError, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {reference.isError ? <ErrorAlert error={reference.error} onRetry={() => void reference.refetch()} /> : null}
      <Table<ComputedTrait>
        rowKey="id"
        columns={columns}
        dataSource={query.data?.data ?? []}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("traits.empty") }}
      />
      <Drawer
        open={editing !== null}
        onClose={() => setEditing(null)}
        title={drawerTitle}
        size={640}
        destroyOnHidden
      >
        {editing !== null && reference.data ? (
          <TraitForm
            key={editing === "new" ? "new" : editing.id}
            trait={editing === "new" ? null : editing}
            reference={reference.data}
            onDone={() => setEditing(null)}
          />
        ) : null}
      </Drawer>
    </>
  );
}
