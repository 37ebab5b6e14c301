import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  AutoComplete,
  Button,
  Checkbox,
  Drawer,
  Form,
  Input,
  InputNumber,
  message as antMessage,
  Modal,
  Radio,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  type TableColumnsType,
} from "antd";
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, EditOutlined, MinusCircleOutlined, PlusOutlined } from "@ant-design/icons";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import type { SegmentReference } from "../../api/types";
import { useSession, useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import { BuilderProvider, builderEnv } from "../segments/builder/BuilderContext";
import { ConditionEditor } from "../segments/builder/ConditionEditor";
import { EventInput, WhereEditor } from "../segments/builder/inputs";
import type { Condition } from "../segments/builder/model";
import { useSegmentReference } from "../segments/queries";
import {
  ASSIGNMENT_METHODS,
  assignmentBody,
  assignmentDraft,
  assignmentProblems,
  assignmentRuleBody,
  COMMON_STAGES,
  fallbackIds,
  lifecycleBody,
  lifecycleDraft,
  lifecycleRuleBody,
  NO_STAGE,
  reorder,
  slaBody,
  TRIGGER_EVENTS,
  type AssignmentDraft,
  type AssignmentMethod,
  type AssignmentRule,
  type LeadOwner,
  type LifecycleDraft,
  type LifecycleRule,
  type SlaRow,
} from "./leadRules";
import "../../i18n/audiences";
import "../../i18n/leadSettings";
import "./settings.css";

export const leadKeys = {
  lifecycleRules: (ws: number | null) => ["lifecycle-rules", ws] as const,
  slas: (ws: number | null) => ["lifecycle-slas", ws] as const,
  assignmentRules: (ws: number | null) => ["assignment-rules", ws] as const,
  owners: (ws: number | null) => ["lead-owners", ws] as const,
  stages: (ws: number | null) => ["lifecycle-stages", ws] as const,
};

/** Lead rules are configured by admins and marketers (the `write` permission); others read. */
export function useCanConfigure(): boolean {
  const role = useSession().workspace?.role;
  return role === "admin" || role === "marketer";
}

/** Stages in use, with the usual ones, for the stage inputs. */
function useStageOptions(extra: (string | null | undefined)[] = []) {
  const ws = useWorkspaceKey();
  const stages = useQuery({
    queryKey: leadKeys.stages(ws),
    queryFn: () => unwrap(api.GET("/api/v1/contacts/lifecycle-stages")),
    staleTime: 60_000,
  });
  return useMemo(() => {
    const names = new Set<string>(COMMON_STAGES);
    for (const s of stages.data?.data ?? []) names.add(s.stage);
    for (const s of extra) if (s) names.add(s);
    return [...names].map((value) => ({ value, label: value }));
  }, [stages.data, extra]);
}

function useOwners() {
  const ws = useWorkspaceKey();
  return useQuery({
    queryKey: leadKeys.owners(ws),
    queryFn: () => unwrap(api.GET("/api/v1/lead-owners")),
    staleTime: 60_000,
  });
}

const OP_SYMBOLS: Record<string, string> = { gte: "≥", gt: ">", lte: "≤", lt: "<", eq: "=", neq: "≠" };

/** A condition in a few words: "engagement ≥ 50 and fit ≥ 30". */
function useConditionText() {
  const { t } = useI18n();
  const text = (c: Condition | null | undefined): string => {
    if (!c) return "";
    const op = (o: unknown) => OP_SYMBOLS[String(o)] ?? String(o ?? "");
    const value = (v: unknown) => (Array.isArray(v) ? v.join(", ") : v === undefined || v === null ? "" : String(v));
    switch (c.type) {
      case "all":
      case "any": {
        const parts = ((c.conditions as Condition[] | undefined) ?? []).map(text).filter(Boolean);
        if (!parts.length) return t("leadSettings.lifecycle.everyone");
        const joined = parts.join(c.type === "all" ? t("leadSettings.and") : t("leadSettings.or"));
        return parts.length > 1 && c.type === "any" ? `(${joined})` : joined;
      }
      case "not":
        return t("leadSettings.not", { condition: text(c.condition as Condition) });
      case "score":
        return `${t("leadSettings.score", { model: String(c.model ?? "") })} ${op(c.operator)} ${value(c.value)}`;
      case "attribute":
        return `${String(c.attribute ?? "")} ${op(c.operator)} ${value(c.value)}`.trim();
      case "tag":
        return t("leadSettings.tagged", { tag: String(c.tag ?? "") });
      case "performed":
        return t("leadSettings.performed", { event: String(c.event ?? t("leadSettings.anyEvent")) });
      case "segment":
        return t("leadSettings.inSegment", { id: String(c.segment_id ?? "") });
      default:
        return c.type;
    }
  };
  return text;
}

function useTriggerText() {
  const { t } = useI18n();
  const conditionText = useConditionText();
  return (rule: LifecycleRule) => {
    if (rule.event) {
      const event = String(rule.event.event ?? "");
      const known = TRIGGER_EVENTS.find((e) => e.event === event);
      return known
        ? t("leadSettings.lifecycle.onKnownEvent", { event, meaning: t(`leadSettings.event.${known.key}` as MessageKey) })
        : t("leadSettings.lifecycle.onEvent", { event });
    }
    return conditionText(rule.condition as Condition | null);
  };
}

function fromStagesText(stages: (string | null)[] | null, t: (k: MessageKey) => string): string {
  if (!stages || !stages.length) return t("leadSettings.lifecycle.anyStage");
  return stages.map((s) => s ?? t("leadSettings.lifecycle.noStage")).join(", ");
}

// --- lifecycle rules ----------------------------------------------------------------------

function LifecycleRuleForm({
  rule,
  reference,
  onDone,
}: {
  rule: LifecycleRule | null;
  reference: SegmentReference;
  onDone: (saved?: LifecycleRule) => void;
}) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<LifecycleDraft>(() => lifecycleDraft(rule));
  const [problems, setProblems] = useState<Set<string>>(new Set());
  const stageOptions = useStageOptions([draft.stage]);
  const env = useMemo(
    () => builderEnv(reference, { readOnly: false, errors: new Map(), incomplete: new Set(), topics: [], selfId: null }),
    [reference],
  );
  const save = useMutation({
    mutationFn: (d: LifecycleDraft) =>
      rule
        ? unwrap(api.PUT("/api/v1/lifecycle-rules/{rule_id}", { params: { path: { rule_id: rule.id } }, body: lifecycleBody(d, rule.position) }))
        : unwrap(api.POST("/api/v1/lifecycle-rules", { body: lifecycleBody(d) })),
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: leadKeys.lifecycleRules(ws) });
      onDone(saved);
    },
  });
  const set = (patch: Partial<LifecycleDraft>) => {
    save.reset();
    setDraft((d) => ({ ...d, ...patch }));
  };
  const submit = () => {
    const found = new Set<string>();
    if (!draft.name.trim()) found.add("name");
    if (!draft.stage.trim()) found.add("stage");
    if (draft.trigger === "event" && !draft.event?.trim()) found.add("event");
    if (draft.trigger === "condition" && draft.condition.type === "all" && !(draft.condition.conditions as unknown[]).length) found.add("condition");
    setProblems(found);
    if (!found.size) save.mutate(draft);
  };
  const code = save.error instanceof ApiError ? save.error.code : null;
  const nameError = problems.has("name") ? t("leadSettings.nameRequired") : code === "lifecycle_rule_exists" ? t("leadSettings.lifecycle.exists") : undefined;
  const fromOptions = [{ value: NO_STAGE, label: t("leadSettings.lifecycle.noStage") }, ...stageOptions.filter((o) => o.value !== draft.stage.trim())];

  return (
    <BuilderProvider env={env}>
      <Form layout="vertical" component="form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
        <Form.Item label={t("leadSettings.name")} htmlFor="rule-name" required validateStatus={nameError ? "error" : undefined} help={nameError}>
          <Input id="rule-name" value={draft.name} maxLength={100} autoComplete="off" onChange={(e) => set({ name: e.target.value })} />
        </Form.Item>
        <Form.Item
          label={t("leadSettings.lifecycle.stage")}
          htmlFor="rule-stage"
          required
          extra={t("leadSettings.lifecycle.stageHint")}
          validateStatus={problems.has("stage") ? "error" : undefined}
          help={problems.has("stage") ? t("leadSettings.stageRequired") : undefined}
        >
          <AutoComplete id="rule-stage" value={draft.stage} options={stageOptions} onChange={(v: string) => set({ stage: v })} filterOption={(input, o) => String(o?.value ?? "").toLowerCase().includes(input.toLowerCase())} />
        </Form.Item>
        <Form.Item label={t("leadSettings.lifecycle.from")} htmlFor="rule-from" extra={t("leadSettings.lifecycle.fromHint")}>
          <Select
            id="rule-from"
            mode="tags"
            value={draft.fromStages ?? []}
            options={fromOptions}
            placeholder={t("leadSettings.lifecycle.anyStage")}
            onChange={(v: string[]) => set({ fromStages: v.length ? v : null })}
          />
        </Form.Item>
        <fieldset className="plain-fieldset">
          <legend className="field-label">{t("leadSettings.lifecycle.trigger")}</legend>
          <Radio.Group
            value={draft.trigger}
            onChange={(e) => set({ trigger: e.target.value as LifecycleDraft["trigger"] })}
            options={[
              { value: "condition", label: t("leadSettings.lifecycle.triggerCondition") },
              { value: "event", label: t("leadSettings.lifecycle.triggerEvent") },
            ]}
          />
        </fieldset>
        {draft.trigger === "condition" ? (
          <section aria-label={t("leadSettings.lifecycle.condition")} className="segment-builder" style={{ marginBottom: 16 }}>
            <p className="text-secondary">{t("leadSettings.lifecycle.conditionHint")}</p>
            <ConditionEditor value={draft.condition} path="root" onChange={(condition) => set({ condition })} />
            {problems.has("condition") ? <p className="field-error" role="alert">{t("leadSettings.lifecycle.conditionRequired")}</p> : null}
          </section>
        ) : (
          <section aria-label={t("leadSettings.lifecycle.event")} style={{ marginBottom: 16 }}>
            <div className="settings-row" role="group" aria-label={t("leadSettings.lifecycle.presets")}>
              {TRIGGER_EVENTS.map((e) => (
                <Button key={e.key} size="small" onClick={() => set({ event: e.event })} aria-pressed={draft.event === e.event}>
                  {t(`leadSettings.event.${e.key}` as MessageKey)}
                </Button>
              ))}
            </div>
            <Form.Item
              label={t("leadSettings.lifecycle.event")}
              required
              validateStatus={problems.has("event") ? "error" : undefined}
              help={problems.has("event") ? t("leadSettings.lifecycle.eventRequired") : undefined}
            >
              <EventInput value={draft.event} onChange={(event) => set({ event })} label={t("leadSettings.lifecycle.event")} />
            </Form.Item>
            <Form.Item label={t("leadSettings.lifecycle.where")}>
              <WhereEditor value={draft.where} onChange={(where) => set({ where })} label={t("leadSettings.lifecycle.event")} event={draft.event} />
            </Form.Item>
          </section>
        )}
        <Form.Item>
          <Checkbox checked={draft.enabled} onChange={(e) => set({ enabled: e.target.checked })}>
            {t("leadSettings.enabled")}
          </Checkbox>
        </Form.Item>
        {save.error && code !== "lifecycle_rule_exists" ? (
          <Alert type="error" showIcon className="page-alert" title={t("leadSettings.saveFailed")} description={errorText(save.error, t)} />
        ) : null}
        <Space>
          <Button type="primary" htmlType="submit" loading={save.isPending}>
            {rule ? t("common.save") : t("leadSettings.lifecycle.create")}
          </Button>
          <Button onClick={() => onDone()}>{t("common.cancel")}</Button>
        </Space>
      </Form>
    </BuilderProvider>
  );
}

function LifecycleRules({ canEdit, onFailure }: { canEdit: boolean; onFailure: (e: unknown) => void }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [editing, setEditing] = useState<LifecycleRule | "new" | null>(null);
  const reference = useSegmentReference();
  const triggerText = useTriggerText();
  const query = useQuery({ queryKey: leadKeys.lifecycleRules(ws), queryFn: () => unwrap(api.GET("/api/v1/lifecycle-rules")) });
  const rules = query.data?.data ?? [];
  const refresh = () => void queryClient.invalidateQueries({ queryKey: leadKeys.lifecycleRules(ws) });

  const replace = useMutation({
    mutationFn: async (changes: { rule: LifecycleRule; patch: Parameters<typeof lifecycleRuleBody>[1] }[]) => {
      for (const { rule, patch } of changes) {
        await unwrap(api.PUT("/api/v1/lifecycle-rules/{rule_id}", { params: { path: { rule_id: rule.id } }, body: lifecycleRuleBody(rule, patch) }));
      }
    },
    onSuccess: refresh,
    onError: (e) => (onFailure(e), refresh()),
  });
  const remove = useMutation({
    mutationFn: (rule: LifecycleRule) => unwrap(api.DELETE("/api/v1/lifecycle-rules/{rule_id}", { params: { path: { rule_id: rule.id } } })),
    onSuccess: (_, rule) => (refresh(), void message.success(t("leadSettings.deleted", { name: rule.name }))),
    onError: onFailure,
  });
  const move = (index: number, delta: -1 | 1) =>
    replace.mutate(reorder(rules, index, delta).map(({ item, position }) => ({ rule: item, patch: { position } })));

  const columns: TableColumnsType<LifecycleRule> = [
    { title: t("leadSettings.col.order"), key: "order", width: 70, render: (_: unknown, __, i) => i + 1 },
    { title: t("leadSettings.col.name"), dataIndex: "name" },
    { title: t("leadSettings.col.when"), key: "when", render: (_: unknown, rule) => triggerText(rule) },
    { title: t("leadSettings.col.from"), key: "from", render: (_: unknown, rule) => fromStagesText(rule.from_stages, t) },
    { title: t("leadSettings.col.stage"), dataIndex: "stage", render: (s: string) => <Tag className="tag-info">{s}</Tag> },
    {
      title: t("leadSettings.col.enabled"),
      dataIndex: "enabled",
      render: (enabled: boolean, rule) =>
        canEdit ? (
          <Switch
            size="small"
            checked={enabled}
            aria-label={t("leadSettings.enabledOf", { name: rule.name })}
            onChange={(v) => replace.mutate([{ rule, patch: { enabled: v } }])}
          />
        ) : enabled ? (
          t("common.yes")
        ) : (
          t("common.no")
        ),
    },
  ];
  if (canEdit) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, rule, i) => (
        <Space size={4}>
          <Button size="small" icon={<ArrowUpOutlined />} disabled={i === 0} aria-label={t("leadSettings.moveUp", { name: rule.name })} onClick={() => move(i, -1)} />
          <Button size="small" icon={<ArrowDownOutlined />} disabled={i === rules.length - 1} aria-label={t("leadSettings.moveDown", { name: rule.name })} onClick={() => move(i, 1)} />
          <Button size="small" icon={<EditOutlined />} aria-label={t("leadSettings.edit", { name: rule.name })} onClick={() => setEditing(rule)} />
          <Button
            size="small"
            danger
            icon={<DeleteOutlined />}
            aria-label={t("leadSettings.delete", { name: rule.name })}
            onClick={() =>
              void modal.confirm({
                title: t("leadSettings.deleteConfirm", { name: rule.name }),
                content: t("leadSettings.lifecycle.deleteHint"),
                okText: t("common.delete"),
                okButtonProps: { danger: true },
                cancelText: t("common.cancel"),
                onOk: () => remove.mutateAsync(rule).catch(() => undefined),
              })
            }
          />
        </Space>
      ),
    });
  }

  return (
    <section className="settings-section lead-section" aria-labelledby="lifecycle-title">
      {modalHolder}
      {messageHolder}
      <div className="page-head">
        <h2 id="lifecycle-title" className="section-title">
          {t("leadSettings.lifecycle.title")}
        </h2>
        {canEdit ? (
          <Button icon={<PlusOutlined />} onClick={() => setEditing("new")} disabled={!reference.data}>
            {t("leadSettings.lifecycle.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary">{t("leadSettings.lifecycle.intro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<LifecycleRule>
        rowKey="id"
        columns={columns}
        dataSource={rules}
        loading={query.isPending || replace.isPending}
        pagination={false}
        size="middle"
        locale={{ emptyText: t("leadSettings.lifecycle.empty") }}
      />
      <Drawer
        open={editing !== null && canEdit}
        onClose={() => setEditing(null)}
        title={editing === "new" ? t("leadSettings.lifecycle.newTitle") : editing ? t("leadSettings.editTitle", { name: editing.name }) : ""}
        size={720}
        destroyOnHidden
      >
        {editing !== null && reference.data ? (
          <LifecycleRuleForm
            key={editing === "new" ? "new" : editing.id}
            rule={editing === "new" ? null : editing}
            reference={reference.data}
            onDone={(saved) => {
              setEditing(null);
              if (saved) void message.success(t("leadSettings.saved", { name: saved.name }));
            }}
          />
        ) : null}
      </Drawer>
    </section>
  );
}

// --- stage SLAs ---------------------------------------------------------------------------

let rowKeys = 0;

function StageSlas({ canEdit }: { canEdit: boolean }) {
  const { t, lang } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const query = useQuery({ queryKey: leadKeys.slas(ws), queryFn: () => unwrap(api.GET("/api/v1/lifecycle-slas")) });
  const [rows, setRows] = useState<SlaRow[] | null>(null);
  const [problems, setProblems] = useState<Map<number, "stage" | "hours" | "duplicate">>(new Map());
  const stageOptions = useStageOptions();
  const saved = useMemo(() => (query.data?.slas ?? []).map((s) => ({ key: ++rowKeys, stage: s.stage, hours: s.hours })), [query.data]);
  const shown = rows ?? saved;
  const save = useMutation({
    mutationFn: (slas: { stage: string; hours: number }[]) => unwrap(api.PUT("/api/v1/lifecycle-slas", { body: { slas } })),
    onSuccess: (answer) => {
      queryClient.setQueryData(leadKeys.slas(ws), answer);
      setRows(null);
      void message.success(t("leadSettings.sla.saved"));
    },
  });
  const set = (key: number, patch: Partial<SlaRow>) => {
    save.reset();
    setRows(shown.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  };
  const submit = () => {
    const { slas, problems: found } = slaBody(shown);
    setProblems(found);
    if (!found.size) save.mutate(slas);
  };
  const problemText = (p: "stage" | "hours" | "duplicate") =>
    p === "stage" ? t("leadSettings.stageRequired") : p === "hours" ? t("leadSettings.sla.hoursRequired") : t("leadSettings.sla.duplicate");

  return (
    <section className="settings-section lead-section" aria-labelledby="sla-title">
      {messageHolder}
      <h2 id="sla-title" className="section-title">
        {t("leadSettings.sla.title")}
      </h2>
      <p className="text-secondary">{t("leadSettings.sla.intro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {!canEdit ? (
        <Table
          rowKey="stage"
          size="middle"
          pagination={false}
          loading={query.isPending}
          dataSource={query.data?.slas ?? []}
          locale={{ emptyText: t("leadSettings.sla.empty") }}
          columns={[
            { title: t("leadSettings.col.stage"), dataIndex: "stage" },
            { title: t("leadSettings.sla.hours"), dataIndex: "hours", render: (h: number) => t("leadSettings.sla.hoursValue", { hours: new Intl.NumberFormat(lang).format(h) }) },
            { title: t("leadSettings.sla.escalation"), key: "to", render: () => t("leadSettings.sla.escalationTarget") },
          ]}
        />
      ) : (
        <Form layout="vertical" component="form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
          {shown.length === 0 ? <p className="text-secondary">{t("leadSettings.sla.empty")}</p> : null}
          {shown.map((row, i) => {
            const problem = problems.get(row.key);
            return (
              <div className="settings-row" key={row.key} role="group" aria-label={t("leadSettings.sla.row", { n: i + 1 })}>
                <Form.Item
                  label={t("leadSettings.col.stage")}
                  htmlFor={`sla-stage-${row.key}`}
                  validateStatus={problem && problem !== "hours" ? "error" : undefined}
                  help={problem && problem !== "hours" ? problemText(problem) : undefined}
                >
                  <AutoComplete
                    id={`sla-stage-${row.key}`}
                    value={row.stage}
                    options={stageOptions}
                    style={{ width: 200 }}
                    onChange={(v: string) => set(row.key, { stage: v })}
                    filterOption={(input, o) => String(o?.value ?? "").toLowerCase().includes(input.toLowerCase())}
                  />
                </Form.Item>
                <Form.Item
                  label={t("leadSettings.sla.hours")}
                  htmlFor={`sla-hours-${row.key}`}
                  validateStatus={problem === "hours" ? "error" : undefined}
                  help={problem === "hours" ? problemText(problem) : undefined}
                >
                  <InputNumber id={`sla-hours-${row.key}`} min={0.1} max={8760} value={row.hours} onChange={(v) => set(row.key, { hours: v ?? null })} style={{ width: 140 }} />
                </Form.Item>
                <Form.Item label={t("leadSettings.sla.escalation")}>
                  <span className="sla-target">{t("leadSettings.sla.escalationTarget")}</span>
                </Form.Item>
                <Button
                  icon={<MinusCircleOutlined />}
                  className="sla-remove"
                  aria-label={t("leadSettings.sla.remove", { n: i + 1 })}
                  onClick={() => (save.reset(), setRows(shown.filter((r) => r.key !== row.key)))}
                />
              </div>
            );
          })}
          {save.error ? <Alert type="error" showIcon className="page-alert" title={t("leadSettings.saveFailed")} description={errorText(save.error, t)} /> : null}
          <Space>
            <Button icon={<PlusOutlined />} onClick={() => setRows([...shown, { key: ++rowKeys, stage: "", hours: 24 }])}>
              {t("leadSettings.sla.add")}
            </Button>
            <Button type="primary" htmlType="submit" loading={save.isPending} disabled={rows === null}>
              {t("leadSettings.sla.save")}
            </Button>
            {rows !== null ? <Button onClick={() => (setRows(null), setProblems(new Map()), save.reset())}>{t("common.cancel")}</Button> : null}
          </Space>
        </Form>
      )}
    </section>
  );
}

// --- assignment rules ---------------------------------------------------------------------

function ownerLabel(owners: LeadOwner[], id: number | null | undefined, t: (k: MessageKey, p?: Record<string, string | number>) => string): string {
  const o = owners.find((x) => x.id === id);
  return o ? `${o.name} <${o.email}>` : t("leadSettings.assign.unknownUser", { id: String(id ?? "") });
}

function AssignmentRuleForm({ rule, onDone }: { rule: AssignmentRule | null; onDone: (saved?: AssignmentRule) => void }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const owners = useOwners();
  const reference = useSegmentReference();
  const [draft, setDraft] = useState<AssignmentDraft>(() => assignmentDraft(rule));
  const [problems, setProblems] = useState<string[]>([]);
  const stageOptions = useStageOptions([draft.stage]);
  const ownerOptions = (owners.data?.data ?? []).map((o) => ({ value: o.id, label: `${o.name} <${o.email}> · ${t(`role.${o.role}` as MessageKey)}` }));
  const attributeOptions = (reference.data?.fields ?? []).map((f) => ({ value: f.name }));
  const save = useMutation({
    mutationFn: (d: AssignmentDraft) =>
      rule
        ? unwrap(api.PUT("/api/v1/assignment-rules/{rule_id}", { params: { path: { rule_id: rule.id } }, body: assignmentBody(d, rule.position) }))
        : unwrap(api.POST("/api/v1/assignment-rules", { body: assignmentBody(d) })),
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: leadKeys.assignmentRules(ws) });
      onDone(saved);
    },
  });
  const set = (patch: Partial<AssignmentDraft>) => {
    save.reset();
    setDraft((d) => ({ ...d, ...patch }));
  };
  const submit = () => {
    const found = assignmentProblems(draft);
    setProblems(found);
    if (!found.length) save.mutate(draft);
  };
  const code = save.error instanceof ApiError ? save.error.code : null;
  const nameError = problems.includes("name") ? t("leadSettings.nameRequired") : code === "assignment_rule_exists" ? t("leadSettings.assign.exists") : undefined;
  const setTerritory = (i: number, patch: Partial<AssignmentDraft["territories"][number]>) =>
    set({ territories: draft.territories.map((r, j) => (j === i ? { ...r, ...patch } : r)) });

  return (
    <Form layout="vertical" component="form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
      <Form.Item label={t("leadSettings.name")} htmlFor="assign-name" required validateStatus={nameError ? "error" : undefined} help={nameError}>
        <Input id="assign-name" value={draft.name} maxLength={100} autoComplete="off" onChange={(e) => set({ name: e.target.value })} />
      </Form.Item>
      <Form.Item
        label={t("leadSettings.assign.stage")}
        htmlFor="assign-stage"
        required
        extra={t("leadSettings.assign.stageHint")}
        validateStatus={problems.includes("stage") ? "error" : undefined}
        help={problems.includes("stage") ? t("leadSettings.stageRequired") : undefined}
      >
        <AutoComplete id="assign-stage" value={draft.stage} options={stageOptions} onChange={(v: string) => set({ stage: v })} filterOption={(input, o) => String(o?.value ?? "").toLowerCase().includes(input.toLowerCase())} />
      </Form.Item>
      <fieldset className="plain-fieldset">
        <legend className="field-label">{t("leadSettings.assign.method")}</legend>
        <Radio.Group
          value={draft.method}
          onChange={(e) => set({ method: e.target.value as AssignmentMethod })}
          options={ASSIGNMENT_METHODS.map((m) => ({ value: m, label: t(`leadSettings.method.${m}` as MessageKey) }))}
        />
        <p className="text-secondary" style={{ marginTop: 4 }}>
          {t(`leadSettings.methodHint.${draft.method}` as MessageKey)}
        </p>
      </fieldset>
      {owners.isError ? <ErrorAlert error={owners.error} onRetry={() => void owners.refetch()} /> : null}
      {draft.method === "round_robin" ? (
        <Form.Item label={t("leadSettings.assign.users")} htmlFor="assign-users" extra={t("leadSettings.assign.usersHint")}>
          <Select
            id="assign-users"
            mode="multiple"
            value={draft.users}
            options={ownerOptions}
            loading={owners.isPending}
            placeholder={t("leadSettings.assign.everySalesUser")}
            optionFilterProp="label"
            onChange={(users: number[]) => set({ users })}
          />
        </Form.Item>
      ) : (
        <Form.Item
          label={t("leadSettings.assign.attribute")}
          htmlFor="assign-attribute"
          required
          extra={t(draft.method === "territory" ? "leadSettings.assign.territoryAttributeHint" : "leadSettings.assign.ownerAttributeHint")}
          validateStatus={problems.includes("attribute") ? "error" : undefined}
          help={problems.includes("attribute") ? t("leadSettings.assign.attributeRequired") : undefined}
        >
          <AutoComplete
            id="assign-attribute"
            value={draft.attribute}
            options={attributeOptions}
            onChange={(v: string) => set({ attribute: v })}
            filterOption={(input, o) => String(o?.value ?? "").toLowerCase().includes(input.toLowerCase())}
          />
        </Form.Item>
      )}
      {draft.method === "territory" ? (
        <fieldset className="plain-fieldset">
          <legend className="field-label">{t("leadSettings.assign.territories")}</legend>
          {draft.territories.map((row, i) => (
            <div className="pairs-row" key={i}>
              <Input
                aria-label={t("leadSettings.assign.territoryValue", { n: i + 1 })}
                placeholder={t("leadSettings.assign.territoryValuePlaceholder")}
                value={row.value}
                onChange={(e) => setTerritory(i, { value: e.target.value })}
              />
              <Select
                aria-label={t("leadSettings.assign.territoryUser", { n: i + 1 })}
                value={row.user ?? undefined}
                options={ownerOptions}
                placeholder={t("leadSettings.assign.chooseUser")}
                optionFilterProp="label"
                style={{ flex: 1, minWidth: 200 }}
                onChange={(user: number) => setTerritory(i, { user })}
              />
              <Button
                icon={<MinusCircleOutlined />}
                aria-label={t("leadSettings.assign.removeTerritory", { n: i + 1 })}
                onClick={() => set({ territories: draft.territories.filter((_, j) => j !== i) })}
              />
            </div>
          ))}
          <Button size="small" icon={<PlusOutlined />} onClick={() => set({ territories: [...draft.territories, { value: "", user: null }] })}>
            {t("leadSettings.assign.addTerritory")}
          </Button>
          {problems.includes("territories") ? <p className="field-error" role="alert">{t("leadSettings.assign.territoriesRequired")}</p> : null}
        </fieldset>
      ) : null}
      <Form.Item extra={t("leadSettings.assign.reassignHint")}>
        <Checkbox checked={draft.reassign} onChange={(e) => set({ reassign: e.target.checked })}>
          {t("leadSettings.assign.reassign")}
        </Checkbox>
      </Form.Item>
      {save.error && code !== "assignment_rule_exists" ? (
        <Alert type="error" showIcon className="page-alert" title={t("leadSettings.saveFailed")} description={errorText(save.error, t)} />
      ) : null}
      <Space>
        <Button type="primary" htmlType="submit" loading={save.isPending}>
          {rule ? t("common.save") : t("leadSettings.assign.create")}
        </Button>
        <Button onClick={() => onDone()}>{t("common.cancel")}</Button>
      </Space>
    </Form>
  );
}

function AssignmentRules({ canEdit, onFailure }: { canEdit: boolean; onFailure: (e: unknown) => void }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [editing, setEditing] = useState<AssignmentRule | "new" | null>(null);
  const owners = useOwners();
  const query = useQuery({ queryKey: leadKeys.assignmentRules(ws), queryFn: () => unwrap(api.GET("/api/v1/assignment-rules")) });
  const rules = query.data?.data ?? [];
  const fallbacks = fallbackIds(rules);
  const people = owners.data?.data ?? [];
  const refresh = () => void queryClient.invalidateQueries({ queryKey: leadKeys.assignmentRules(ws) });
  const replace = useMutation({
    mutationFn: async (changes: { rule: AssignmentRule; position: number }[]) => {
      for (const { rule, position } of changes) {
        await unwrap(api.PUT("/api/v1/assignment-rules/{rule_id}", { params: { path: { rule_id: rule.id } }, body: assignmentRuleBody(rule, { position }) }));
      }
    },
    onSuccess: refresh,
    onError: (e) => (onFailure(e), refresh()),
  });
  const remove = useMutation({
    mutationFn: (rule: AssignmentRule) => unwrap(api.DELETE("/api/v1/assignment-rules/{rule_id}", { params: { path: { rule_id: rule.id } } })),
    onSuccess: (_, rule) => (refresh(), void message.success(t("leadSettings.deleted", { name: rule.name }))),
    onError: onFailure,
  });
  const who = (rule: AssignmentRule) => {
    if (rule.method === "round_robin") {
      return rule.users?.length ? rule.users.map((u) => ownerLabel(people, u, t)).join(", ") : t("leadSettings.assign.everySalesUser");
    }
    if (rule.method === "territory") {
      const entries = Object.entries(rule.territories ?? {});
      return t("leadSettings.assign.byTerritory", {
        attribute: rule.attribute ?? "",
        map: entries.map(([v, u]) => `${v} → ${people.find((p) => p.id === u)?.name ?? `#${u}`}`).join(", "),
      });
    }
    return t("leadSettings.assign.byAccountOwner", { attribute: rule.attribute ?? "" });
  };

  const columns: TableColumnsType<AssignmentRule> = [
    { title: t("leadSettings.col.order"), key: "order", width: 70, render: (_: unknown, __, i) => i + 1 },
    {
      title: t("leadSettings.col.name"),
      dataIndex: "name",
      render: (name: string, rule) => (
        <>
          {name}
          {fallbacks.has(rule.id) ? (
            <Tag className="tag-default" style={{ marginInlineStart: 8 }}>
              {t("leadSettings.assign.fallback")}
            </Tag>
          ) : null}
        </>
      ),
    },
    { title: t("leadSettings.assign.stage"), dataIndex: "stage", render: (s: string) => <Tag className="tag-info">{s}</Tag> },
    { title: t("leadSettings.assign.method"), dataIndex: "method", render: (m: AssignmentMethod) => t(`leadSettings.method.${m}` as MessageKey) },
    { title: t("leadSettings.assign.owners"), key: "who", render: (_: unknown, rule) => who(rule) },
    { title: t("leadSettings.assign.reassignCol"), dataIndex: "reassign", render: (v: boolean) => (v ? t("common.yes") : t("common.no")) },
  ];
  if (canEdit) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, rule, i) => (
        <Space size={4}>
          <Button size="small" icon={<ArrowUpOutlined />} disabled={i === 0} aria-label={t("leadSettings.moveUp", { name: rule.name })} onClick={() => replace.mutate(reorder(rules, i, -1).map(({ item, position }) => ({ rule: item, position })))} />
          <Button size="small" icon={<ArrowDownOutlined />} disabled={i === rules.length - 1} aria-label={t("leadSettings.moveDown", { name: rule.name })} onClick={() => replace.mutate(reorder(rules, i, 1).map(({ item, position }) => ({ rule: item, position })))} />
          <Button size="small" icon={<EditOutlined />} aria-label={t("leadSettings.edit", { name: rule.name })} onClick={() => setEditing(rule)} />
          <Button
            size="small"
            danger
            icon={<DeleteOutlined />}
            aria-label={t("leadSettings.delete", { name: rule.name })}
            onClick={() =>
              void modal.confirm({
                title: t("leadSettings.deleteConfirm", { name: rule.name }),
                content: t("leadSettings.assign.deleteHint"),
                okText: t("common.delete"),
                okButtonProps: { danger: true },
                cancelText: t("common.cancel"),
                onOk: () => remove.mutateAsync(rule).catch(() => undefined),
              })
            }
          />
        </Space>
      ),
    });
  }

  return (
    <section className="settings-section lead-section" aria-labelledby="assign-title">
      {modalHolder}
      {messageHolder}
      <div className="page-head">
        <h2 id="assign-title" className="section-title">
          {t("leadSettings.assign.title")}
        </h2>
        {canEdit ? (
          <Button icon={<PlusOutlined />} onClick={() => setEditing("new")}>
            {t("leadSettings.assign.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary">{t("leadSettings.assign.intro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<AssignmentRule>
        rowKey="id"
        columns={columns}
        dataSource={rules}
        loading={query.isPending || replace.isPending}
        pagination={false}
        size="middle"
        locale={{ emptyText: t("leadSettings.assign.empty") }}
      />
      <Drawer
        open={editing !== null && canEdit}
        onClose={() => setEditing(null)}
        title={editing === "new" ? t("leadSettings.assign.newTitle") : editing ? t("leadSettings.editTitle", { name: editing.name }) : ""}
        size={600}
        destroyOnHidden
      >
        {editing !== null ? (
          <AssignmentRuleForm
            key={editing === "new" ? "new" : editing.id}
            rule={editing === "new" ? null : editing}
            onDone={(saved) => {
              setEditing(null);
              if (saved) void message.success(t("leadSettings.saved", { name: saved.name }));
            }}
          />
        ) : null}
      </Drawer>
    </section>
  );
}

export default function LeadManagementPage() {
  const { t } = useI18n();
  const canEdit = useCanConfigure();
  const [failure, setFailure] = useState<unknown>(null);
  return (
    <>
      <div className="page-head">
        <PageTitle title={t("leadSettings.title")}>{t("leadSettings.title")}</PageTitle>
      </div>
      <p className="text-secondary page-intro">{t("leadSettings.intro")}</p>
      {!canEdit ? <p className="text-secondary">{t("leadSettings.readOnly")}</p> : null}
      {failure ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          role="alert"
          closable={{ onClose: () => setFailure(null) }}
          title={t("leadSettings.changeFailed")}
          description={errorText(failure, t)}
        />
      ) : null}
      <LifecycleRules canEdit={canEdit} onFailure={setFailure} />
      <StageSlas canEdit={canEdit} />
      <AssignmentRules canEdit={canEdit} onFailure={setFailure} />
    </>
  );
}
