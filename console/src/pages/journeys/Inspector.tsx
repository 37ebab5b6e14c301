import { useId, useMemo, type ReactNode } from "react";
import { AutoComplete, Button, Checkbox, Input, InputNumber, Radio, Select, Switch } from "antd";
import { DeleteOutlined, ExportOutlined, PlusOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import type { SegmentReference, Topic } from "../../api/types";
import { useSession } from "../../auth/SessionProvider";
import { isMessageKey, useI18n } from "../../i18n";
import { BuilderProvider, builderEnv } from "../segments/builder/BuilderContext";
import { ConditionEditor } from "../segments/builder/ConditionEditor";
import { DurationInput, EventInput, JsonInput, WhereEditor } from "../segments/builder/inputs";
import type { Condition, Duration, PropertyFilter } from "../segments/builder/model";
import { branchesOf, defaultTrigger, nodesOf, setBranch, TRIGGER_KINDS, TRIGGER_NODE_ID, type JourneyNode } from "./graph";
import { branchLabel, channelLabel, fromPercent, kindLabel, triggerLabel, weekdayNames } from "./describe";
import { fieldKind, fieldsOf, limits, nodeDefName, triggerDefName, type FieldSchema, type JsonSchema } from "./schemaForm";
import type { Definition } from "./panels/overlay";
import { useLeadOwnerList, useLifecycleStages, useOfferList, usePredictiveModelList, useScoreModelList, useTemplateList } from "./queries";
import type { ErrorTarget } from "./graph";

type Obj = Record<string, unknown>;

export interface InspectorProps {
  schema: JsonSchema;
  reference: SegmentReference;
  topics: Topic[];
  definition: Definition;
  selectedId: string | null;
  readOnly: boolean;
  error: ErrorTarget | null;
  onChange: (definition: Definition) => void;
  onRename: (from: string, to: string) => string | null;
  onSelectNode: (id: string) => void;
}

/** A visible label above its control (`htmlFor`), with an optional hint and error. */
function Field({ label, hint, error, children, htmlFor }: { label: string; hint?: string | null; error?: string | null; children: ReactNode; htmlFor?: string }) {
  const hintId = useId();
  return (
    <div className={`ji-field${error ? " ji-field-error" : ""}`}>
      {htmlFor ? (
        <label htmlFor={htmlFor} className="ji-label">
          {label}
        </label>
      ) : (
        <div className="ji-label">{label}</div>
      )}
      {children}
      {hint ? (
        <div className="ji-hint text-secondary" id={hintId}>
          {hint}
        </div>
      ) : null}
      {error ? (
        <div className="field-error" role="alert">
          {error}
        </div>
      ) : null}
    </div>
  );
}

function Group({ label, children, className }: { label: string; children: ReactNode; className?: string }) {
  return (
    <fieldset className={`ji-group ${className ?? ""}`}>
      <legend>{label}</legend>
      {children}
    </fieldset>
  );
}

function useFieldText() {
  const { t, lang } = useI18n();
  return {
    label: (f: Pick<FieldSchema, "name" | "title">, def?: string) => {
      const specific = def ? `journeys.field.${def}.${f.name}` : "";
      if (specific && isMessageKey(specific)) return t(specific);
      const key = `journeys.field.${f.name}`;
      return isMessageKey(key) ? t(key) : f.title;
    },
    hint: (f: Pick<FieldSchema, "name" | "description">, def?: string) => {
      const specific = def ? `journeys.hint.${def}.${f.name}` : "";
      if (specific && isMessageKey(specific)) return t(specific);
      const key = `journeys.hint.${f.name}`;
      if (isMessageKey(key)) return t(key);
      // a field the console has no words for yet: the schema's own description (English)
      return lang === "en" ? f.description : null;
    },
  };
}

// --- purpose-built widgets -----------------------------------------------------------------

function TemplatePicker({ id, channel, value, onChange, disabled }: { id: string; channel: string; value: unknown; onChange: (v: number | null) => void; disabled: boolean }) {
  const { t } = useI18n();
  const templates = useTemplateList();
  const options = (templates.data?.data ?? [])
    .filter((tpl) => tpl.channel === channel)
    .map((tpl) => ({ value: tpl.id, label: `${tpl.name} (#${tpl.id})` }));
  const current = typeof value === "number" ? value : null;
  if (current !== null && !options.some((o) => o.value === current)) options.unshift({ value: current, label: `#${current}` });
  return (
    <div className="ji-row">
      <Select
        id={id}
        showSearch={{ optionFilterProp: "label" }}
        disabled={disabled}
        value={current ?? undefined}
        onChange={(v) => onChange(v ?? null)}
        allowClear
        loading={templates.isPending}
        options={options}
        placeholder={t("journeys.pickTemplate", { channel: channelLabel(channel, t) })}
        notFoundContent={t("journeys.noTemplates", { channel: channelLabel(channel, t) })}
        style={{ flex: 1, minWidth: 0 }}
      />
      {current !== null ? (
        <Link to={`/templates/${current}`} target="_blank" rel="noopener" className="ji-link">
          <ExportOutlined aria-hidden="true" /> {t("journeys.openTemplate")}
        </Link>
      ) : (
        <Link to={`/templates/new?channel=${channel}`} target="_blank" rel="noopener" className="ji-link">
          {t("journeys.newTemplate")}
        </Link>
      )}
    </div>
  );
}

function SegmentPicker({ id, reference, value, onChange, disabled, allowClear }: { id: string; reference: SegmentReference; value: unknown; onChange: (v: number | null) => void; disabled: boolean; allowClear?: boolean }) {
  const { t } = useI18n();
  const options = reference.segments.map((s) => ({ value: s.id, label: s.name }));
  const current = typeof value === "number" ? value : null;
  if (current !== null && !options.some((o) => o.value === current)) options.unshift({ value: current, label: `#${current}` });
  return (
    <Select
      id={id}
      showSearch={{ optionFilterProp: "label" }}
      disabled={disabled}
      value={current ?? undefined}
      onChange={(v) => onChange(v ?? null)}
      allowClear={allowClear}
      options={options}
      placeholder={t("journeys.pickSegment")}
      style={{ width: "100%" }}
    />
  );
}

function TagInput({ id, reference, value, onChange, disabled, multiple }: { id: string; reference: SegmentReference; value: unknown; onChange: (v: unknown) => void; disabled: boolean; multiple: boolean }) {
  const { t } = useI18n();
  const options = reference.tags.map((tag) => ({ value: tag }));
  if (multiple) {
    return (
      <Select
        id={id}
        mode="tags"
        disabled={disabled}
        value={Array.isArray(value) ? (value as string[]) : []}
        onChange={(v: string[]) => onChange(v.map((x) => x.trim()).filter(Boolean))}
        options={options}
        tokenSeparators={[","]}
        placeholder={t("journeys.tagsPlaceholder")}
        style={{ width: "100%" }}
      />
    );
  }
  return (
    <AutoComplete
      id={id}
      disabled={disabled}
      value={typeof value === "string" ? value : ""}
      onChange={(v: string) => onChange(v)}
      options={options}
      filterOption={(input, option) => String(option?.value ?? "").toLowerCase().includes(input.toLowerCase())}
      placeholder={t("journeys.tagPlaceholder")}
      style={{ width: "100%" }}
    />
  );
}

function AttributeInput({ id, reference, value, onChange, disabled, dates }: { id: string; reference: SegmentReference; value: unknown; onChange: (v: string) => void; disabled: boolean; dates?: boolean }) {
  const { t } = useI18n();
  const options = reference.fields
    .filter((f) => !dates || f.type === "datetime" || f.type === "date")
    .map((f) => ({ value: f.name, label: f.label ? `${f.label} (${f.name})` : f.name }));
  return (
    <AutoComplete
      id={id}
      disabled={disabled}
      value={typeof value === "string" ? value : ""}
      onChange={(v: string) => onChange(v)}
      options={options}
      filterOption={(input, option) => String(option?.value ?? "").toLowerCase().includes(input.toLowerCase())}
      placeholder={t("journeys.attributePlaceholder")}
      style={{ width: "100%" }}
    />
  );
}

function TimeInput({ id, value, onChange, disabled, seconds }: { id: string; value: unknown; onChange: (v: string) => void; disabled: boolean; seconds?: boolean }) {
  const shown = typeof value === "string" ? value.slice(0, 5) : "";
  return (
    <Input
      id={id}
      type="time"
      disabled={disabled}
      value={shown}
      onChange={(e) => onChange(e.target.value ? (seconds ? `${e.target.value}:00` : e.target.value) : "")}
      style={{ width: 140 }}
    />
  );
}

function WeekdaysInput({ value, onChange, disabled, label }: { value: unknown; onChange: (v: number[] | null) => void; disabled: boolean; label: string }) {
  const { t, lang } = useI18n();
  const names = weekdayNames(lang, "short");
  const longNames = weekdayNames(lang, "long");
  const days = Array.isArray(value) ? (value as number[]) : null;
  return (
    <div role="group" aria-label={label} className="ji-weekdays">
      <Radio.Group
        value={days ? "some" : "any"}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value === "any" ? null : [0, 1, 2, 3, 4])}
        options={[
          { value: "any", label: t("journeys.anyDay") },
          { value: "some", label: t("journeys.someDays") },
        ]}
      />
      {days ? (
        <div className="ji-days">
          {names.map((name, i) => (
            <Checkbox
              key={i}
              disabled={disabled}
              checked={days.includes(i)}
              aria-label={longNames[i]}
              onChange={(e) => {
                const next = e.target.checked ? [...days, i].sort() : days.filter((d) => d !== i);
                onChange(next.length ? next : null);
              }}
            >
              {name}
            </Checkbox>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function OfferPicker({ id, value, onChange, disabled }: { id: string; value: unknown; onChange: (v: string[] | null) => void; disabled: boolean }) {
  const { t } = useI18n();
  const offers = useOfferList();
  const options = (offers.data?.data ?? []).map((o) => ({ value: o.key, label: `${o.name} (${o.key})` }));
  const keys = Array.isArray(value) ? (value as string[]) : [];
  for (const k of keys) if (!options.some((o) => o.value === k)) options.push({ value: k, label: k });
  return (
    <Select
      id={id}
      mode="multiple"
      disabled={disabled}
      value={keys}
      onChange={(v: string[]) => onChange(v.length ? v : null)}
      options={options}
      loading={offers.isPending}
      placeholder={t("journeys.anyOffer")}
      style={{ width: "100%" }}
    />
  );
}

function StageInput({ id, value, onChange, disabled }: { id: string; value: unknown; onChange: (v: string | null) => void; disabled: boolean }) {
  const stages = useLifecycleStages();
  return (
    <AutoComplete
      id={id}
      disabled={disabled}
      value={typeof value === "string" ? value : ""}
      onChange={(v: string) => onChange(v.trim() ? v : null)}
      options={(stages.data?.data ?? []).map((s) => ({ value: s.stage }))}
      allowClear
      style={{ width: "100%" }}
    />
  );
}

/** A `score_crossed` trigger's model, by key (an unknown key is kept and shown as it is). */
function ScoreModelPicker({ id, value, onChange, disabled }: { id: string; value: unknown; onChange: (v: string) => void; disabled: boolean }) {
  const { t } = useI18n();
  const models = useScoreModelList();
  const options = (models.data?.data ?? []).map((m) => ({ value: m.key, label: `${m.name} (${m.key})` }));
  const current = typeof value === "string" && value ? value : null;
  if (current !== null && !options.some((o) => o.value === current)) options.unshift({ value: current, label: current });
  return (
    <Select
      id={id}
      showSearch={{ optionFilterProp: "label" }}
      disabled={disabled}
      value={current ?? undefined}
      onChange={(v: string) => onChange(v)}
      loading={models.isPending}
      options={options}
      placeholder={t("journeys.pickScoreModel")}
      notFoundContent={t("journeys.noScoreModels")}
      style={{ width: "100%" }}
    />
  );
}

/** A `predicted_crossed` trigger's predictive model, by key (an unknown key is kept and shown as it is). */
function PredictiveModelPicker({ id, value, onChange, disabled }: { id: string; value: unknown; onChange: (v: string) => void; disabled: boolean }) {
  const { t } = useI18n();
  const models = usePredictiveModelList();
  const options = (models.data?.data ?? []).map((m) => ({ value: m.key, label: `${m.name} (${m.key})` }));
  const current = typeof value === "string" && value ? value : null;
  if (current !== null && !options.some((o) => o.value === current)) options.unshift({ value: current, label: current });
  return (
    <Select
      id={id}
      showSearch={{ optionFilterProp: "label" }}
      disabled={disabled}
      value={current ?? undefined}
      onChange={(v: string) => onChange(v)}
      loading={models.isPending}
      options={options}
      placeholder={t("journeys.pickPredictiveModel")}
      notFoundContent={t("journeys.noPredictiveModels")}
      style={{ width: "100%" }}
    />
  );
}

/** A probability threshold (0–1, exclusive), typed as a percentage. */
function PercentInput({ id, value, onChange, disabled, error }: { id: string; value: unknown; onChange: (v: number | undefined) => void; disabled: boolean; error: boolean }) {
  return (
    <InputNumber
      id={id}
      disabled={disabled}
      min={0.1}
      max={99.9}
      step={5}
      suffix="%"
      status={error ? "error" : undefined}
      value={typeof value === "number" ? Math.round(value * 1000) / 10 : null}
      onChange={(v) => onChange(typeof v === "number" ? fromPercent(v) : undefined)}
      style={{ width: 160 }}
    />
  );
}

const QUEUE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** A task's assignee: the contact's owner, a queue (`queue:<name>`) or a user (`user:<id>`). */
function AssigneeInput({ id, label, value, onChange, disabled }: { id: string; label: string; value: unknown; onChange: (v: string) => void; disabled: boolean }) {
  const { t } = useI18n();
  const owners = useLeadOwnerList();
  const queueId = useId();
  const raw = typeof value === "string" && value ? value : "owner";
  const mode = raw.startsWith("queue:") ? "queue" : raw.startsWith("user:") ? "user" : "owner";
  const queue = mode === "queue" ? raw.slice("queue:".length) : "";
  const user = mode === "user" ? Number(raw.slice("user:".length)) || null : null;
  const userOptions = (owners.data?.data ?? []).map((o) => ({ value: o.id, label: `${o.name || o.email} (${t(`role.${o.role}`)})` }));
  if (user !== null && !userOptions.some((o) => o.value === user)) userOptions.unshift({ value: user, label: `#${user}` });
  return (
    <div className="ji-assignee">
      <Radio.Group
        id={id}
        aria-label={label}
        disabled={disabled}
        value={mode}
        onChange={(e) => {
          const next = e.target.value as string;
          if (next === "owner") onChange("owner");
          else if (next === "queue") onChange(`queue:${queue || "sales"}`);
          else onChange(user !== null ? `user:${user}` : userOptions[0] ? `user:${userOptions[0].value}` : "owner");
        }}
        options={[
          { value: "owner", label: t("journeys.assignee.owner") },
          { value: "queue", label: t("journeys.assignee.queue") },
          { value: "user", label: t("journeys.assignee.user"), disabled: !userOptions.length && mode !== "user" },
        ]}
      />
      {mode === "queue" ? (
        <div className="ji-row">
          <label htmlFor={queueId} className="ji-sublabel">
            {t("journeys.assignee.queueName")}
          </label>
          <Input
            id={queueId}
            disabled={disabled}
            value={queue}
            maxLength={64}
            status={queue && !QUEUE_PATTERN.test(queue) ? "error" : undefined}
            onChange={(e) => onChange(`queue:${e.target.value.trim()}`)}
          />
        </div>
      ) : null}
      {mode === "user" ? (
        <Select
          aria-label={t("journeys.assignee.user")}
          disabled={disabled}
          value={user ?? undefined}
          onChange={(v: number) => onChange(`user:${v}`)}
          options={userOptions}
          showSearch={{ optionFilterProp: "label" }}
          loading={owners.isPending}
          style={{ width: "100%" }}
        />
      ) : null}
    </div>
  );
}

/** Time zone note for local times: the contact's zone, else the workspace's. */
function ZoneNote() {
  const { t } = useI18n();
  const { workspace } = useSession();
  return <div className="ji-hint text-secondary">{t("journeys.zoneNote", { zone: workspace?.time_zone ?? "UTC" })}</div>;
}

// --- generic fields from the schema --------------------------------------------------------

interface FieldsProps {
  schema: JsonSchema;
  defName: string;
  value: Obj;
  onChange: (next: Obj) => void;
  readOnly: boolean;
  reference: SegmentReference;
  topics: Topic[];
  /** Field names not drawn here (the node's type, its branches, fields drawn elsewhere). */
  skip: string[];
  errorField: string | null;
  errorText: string | null;
}

function errorFor(p: Pick<FieldsProps, "errorField" | "errorText">, name: string): string | null {
  if (p.errorField === null || !p.errorText) return null;
  return p.errorField === name || p.errorField.startsWith(`${name}.`) || p.errorField.startsWith(`${name}[`) ? p.errorText : null;
}

function EventMatchFields({ value, onChange, label }: { value: Obj; onChange: (next: Obj) => void; label: string }) {
  const { t } = useI18n();
  return (
    <div className="ji-event">
      <EventInput value={typeof value.event === "string" ? value.event : ""} onChange={(e) => onChange({ ...value, event: e ?? "" })} label={t("journeys.eventName", { label })} />
      <WhereEditor
        value={Array.isArray(value.where) ? (value.where as PropertyFilter[]) : []}
        onChange={(w) => onChange({ ...value, where: w })}
        label={label}
        event={typeof value.event === "string" ? value.event : null}
      />
    </div>
  );
}

function SchemaFields(p: FieldsProps) {
  const { t } = useI18n();
  const text = useFieldText();
  const { schema, defName, value, onChange, readOnly, reference, topics } = p;
  const fields = fieldsOf(schema, defName).filter((f) => !p.skip.includes(f.name) && f.name !== "type");
  const set = (name: string, v: unknown) => onChange({ ...value, [name]: v });
  const hasEvent = fields.some((f) => f.name === "event") && fields.some((f) => f.name === "where");

  return (
    <>
      {hasEvent ? (
        <Group label={t("journeys.field.event")}>
          <EventMatchFields value={value} onChange={onChange} label={t("journeys.field.event")} />
          {errorFor(p, "event") || errorFor(p, "where") ? (
            <div className="field-error" role="alert">
              {errorFor(p, "event") ?? errorFor(p, "where")}
            </div>
          ) : null}
        </Group>
      ) : null}
      {fields.map((f) => {
        if (hasEvent && (f.name === "event" || f.name === "where")) return null;
        const label = text.label(f, defName);
        const hint = text.hint(f, defName);
        const error = errorFor(p, f.name);
        return (
          <FieldInput key={f.name} f={f} label={label} hint={hint} error={error} value={value[f.name]} onChange={(v) => set(f.name, v)} whole={value} onWhole={onChange} readOnly={readOnly} reference={reference} topics={topics} defName={defName} schema={schema} />
        );
      })}
    </>
  );
}

function FieldInput({
  f,
  label,
  hint,
  error,
  value,
  onChange,
  whole,
  onWhole,
  readOnly,
  reference,
  topics,
  defName,
  schema,
}: {
  f: FieldSchema;
  label: string;
  hint: string | null;
  error: string | null;
  value: unknown;
  onChange: (v: unknown) => void;
  whole: Obj;
  onWhole: (next: Obj) => void;
  readOnly: boolean;
  reference: SegmentReference;
  topics: Topic[];
  defName: string;
  schema: JsonSchema;
}) {
  const { t } = useI18n();
  const id = useId();
  const name = f.name;
  const field = (control: ReactNode, withLabel = true) => (
    <Field label={label} hint={hint} error={error} htmlFor={withLabel ? id : undefined}>
      {control}
    </Field>
  );

  // purpose-built widgets, by field name
  switch (name) {
    case "template_id": {
      const channel = defName === "NotifySalesNode" ? "email" : String(whole.channel ?? "email");
      return field(<TemplatePicker id={id} channel={channel} value={value} onChange={(v) => onChange(v ?? undefined)} disabled={readOnly} />);
    }
    case "channel":
      if (defName === "SendNode") {
        const options = Array.isArray(f.schema.enum) ? (f.schema.enum as string[]) : [];
        return field(
          <Select
            id={id}
            disabled={readOnly}
            value={typeof value === "string" ? value : undefined}
            // another channel: the template chosen was for the old one
            onChange={(v: string) => onWhole({ ...whole, channel: v, template_id: undefined })}
            options={options.map((c) => ({ value: c, label: channelLabel(c, t) }))}
            style={{ width: "100%" }}
          />,
        );
      }
      break;
    case "topic_id":
      return field(
        <Select
          id={id}
          disabled={readOnly}
          allowClear
          value={typeof value === "number" ? value : undefined}
          onChange={(v) => onChange(v ?? null)}
          options={topics
            .filter((tp) => !tp.channel || tp.channel === whole.channel)
            .map((tp) => ({ value: tp.id, label: tp.name }))}
          placeholder={t("journeys.noTopic")}
          style={{ width: "100%" }}
        />,
      );
    case "segment_id":
    case "exclude_segment_id":
      return field(<SegmentPicker id={id} reference={reference} value={value} onChange={(v) => onChange(v ?? (f.nullable ? null : undefined))} disabled={readOnly} allowClear={f.nullable} />);
    case "tag":
      return field(<TagInput id={id} reference={reference} value={value} onChange={onChange} disabled={readOnly} multiple={false} />);
    case "add_tags":
    case "remove_tags":
      return field(<TagInput id={id} reference={reference} value={value} onChange={onChange} disabled={readOnly} multiple />);
    case "script":
      if (defName === "TaskNode") {
        return field(
          <Input.TextArea
            id={id}
            disabled={readOnly}
            value={typeof value === "string" ? value : ""}
            maxLength={typeof f.schema.maxLength === "number" ? f.schema.maxLength : undefined}
            autoSize={{ minRows: 3, maxRows: 12 }}
            onChange={(e) => onChange(e.target.value === "" ? null : e.target.value)}
          />,
        );
      }
      break;
    case "assignee":
      if (defName === "TaskNode") return field(<AssigneeInput id={id} label={label} value={value} onChange={onChange} disabled={readOnly} />, false);
      break;
    case "model":
      if (defName === "ScoreTrigger") return field(<ScoreModelPicker id={id} value={value} onChange={onChange} disabled={readOnly} />);
      if (defName === "PredictedTrigger") return field(<PredictiveModelPicker id={id} value={value} onChange={onChange} disabled={readOnly} />);
      break;
    case "threshold":
      if (defName === "PredictedTrigger") return field(<PercentInput id={id} value={value} onChange={onChange} disabled={readOnly} error={Boolean(error)} />);
      break;
    case "owners":
      return field(
        <Select
          id={id}
          mode="tags"
          disabled={readOnly}
          value={Array.isArray(value) ? (value as string[]) : []}
          onChange={(v: string[]) => onChange(v.map((x) => x.trim()).filter(Boolean))}
          tokenSeparators={[",", " "]}
          open={false}
          placeholder={t("journeys.ownersPlaceholder")}
          style={{ width: "100%" }}
        />,
      );
    case "attribute":
      return field(<AttributeInput id={id} reference={reference} value={value} onChange={onChange} disabled={readOnly} dates={defName === "DateTrigger" || defName === "WaitUntilDateNode"} />);
    case "lifecycle_stage":
      return field(<StageInput id={id} value={value} onChange={onChange} disabled={readOnly} />);
    case "offer_keys":
      return field(<OfferPicker id={id} value={value} onChange={onChange} disabled={readOnly} />);
    case "time":
      return (
        <>
          {field(<TimeInput id={id} value={value} onChange={onChange} disabled={readOnly} />)}
        </>
      );
    case "at":
      return (
        <>
          {field(<TimeInput id={id} value={value} onChange={onChange} disabled={readOnly} seconds />)}
          <ZoneNote />
        </>
      );
    case "weekdays":
      return (
        <>
          {field(<WeekdaysInput value={value} onChange={onChange} disabled={readOnly} label={label} />, false)}
          <ZoneNote />
        </>
      );
    case "condition":
      return field(
        <div className="ji-condition">
          <ConditionEditor value={(value as Condition) ?? { type: "all", conditions: [] }} onChange={onChange} path="root" />
        </div>,
        false,
      );
    case "set_traits":
    case "payload":
      return field(<JsonInput value={value ?? {}} onChange={(v) => onChange(v && typeof v === "object" && !Array.isArray(v) ? v : {})} label={label} />, false);
    case "reentry_after":
      if (whole.reentry !== "after") return null;
      break;
    default:
      break;
  }

  // durations ({amount, unit}): amount and unit
  const ref = typeof f.schema.$ref === "string" ? f.schema.$ref : "";
  if (ref.endsWith("/Duration")) {
    const d = value && typeof value === "object" ? (value as Duration) : null;
    return field(
      <div className="ji-row">
        {f.nullable ? (
          <Switch
            checked={d !== null}
            disabled={readOnly}
            aria-label={t("journeys.useField", { label })}
            onChange={(on) => onChange(on ? { amount: 1, unit: "days" } : null)}
          />
        ) : null}
        {d !== null || !f.nullable ? <DurationInput value={d} onChange={onChange} label={label} status={error ? "error" : undefined} /> : null}
      </div>,
      false,
    );
  }

  const kind = fieldKind(f);
  const { min, max } = limits(f.schema);
  switch (kind) {
    case "enum": {
      const options = (f.schema.enum as unknown[]).map((v) => {
        const key = `journeys.enum.${name}.${String(v)}`;
        return { value: String(v), label: isMessageKey(key) ? t(key) : String(v) };
      });
      return field(
        <Select
          id={id}
          disabled={readOnly}
          allowClear={f.nullable}
          value={value === null || value === undefined ? undefined : String(value)}
          onChange={(v) => {
            if (name === "reentry") {
              // reentry_after goes with "after", and only with it
              onWhole({ ...whole, reentry: v, reentry_after: v === "after" ? (whole.reentry_after ?? { amount: 1, unit: "years" }) : null });
            } else onChange(v ?? null);
          }}
          options={options}
          style={{ width: "100%" }}
        />,
      );
    }
    case "boolean":
      return field(<Switch id={id} disabled={readOnly} checked={value === true} onChange={(v) => onChange(v)} />);
    case "integer":
    case "number":
      return field(
        <InputNumber
          id={id}
          disabled={readOnly}
          min={min}
          max={max}
          precision={kind === "integer" ? 0 : undefined}
          value={typeof value === "number" ? value : null}
          onChange={(v) => onChange(v ?? (f.nullable ? null : undefined))}
          style={{ width: 160 }}
        />,
      );
    case "time":
      return field(<TimeInput id={id} value={value} onChange={onChange} disabled={readOnly} />);
    case "string":
      return field(
        <Input
          id={id}
          disabled={readOnly}
          value={typeof value === "string" ? value : value === null || value === undefined ? "" : String(value)}
          maxLength={typeof f.schema.maxLength === "number" ? f.schema.maxLength : undefined}
          onChange={(e) => onChange(e.target.value === "" && f.nullable ? null : e.target.value)}
        />,
      );
    case "strings":
      return field(
        <Select
          id={id}
          mode="tags"
          disabled={readOnly}
          value={Array.isArray(value) ? (value as string[]) : []}
          onChange={(v: string[]) => onChange(v.length || !f.nullable ? v : null)}
          open={false}
          style={{ width: "100%" }}
        />,
      );
    case "ref": {
      const sub = ref.slice("#/$defs/".length);
      const obj = value && typeof value === "object" ? (value as Obj) : null;
      return (
        <Group label={label}>
          {f.nullable ? (
            <Switch
              checked={obj !== null}
              disabled={readOnly}
              aria-label={t("journeys.useField", { label })}
              onChange={(on) => onChange(on ? {} : null)}
            />
          ) : null}
          {hint ? <div className="ji-hint text-secondary">{hint}</div> : null}
          {obj !== null ? (
            <SchemaFields schema={schema} defName={sub} value={obj} onChange={onChange} readOnly={readOnly} reference={reference} topics={topics} skip={[]} errorField={null} errorText={null} />
          ) : null}
          {error ? (
            <div className="field-error" role="alert">
              {error}
            </div>
          ) : null}
        </Group>
      );
    }
    default:
      // `to` (text, number or yes/no), lists of objects: as they are written, in JSON
      if (name === "to") {
        return field(
          <Input
            id={id}
            disabled={readOnly}
            value={value === null || value === undefined ? "" : String(value)}
            onChange={(e) => onChange(e.target.value === "" ? null : e.target.value)}
          />,
        );
      }
      return field(<JsonInput value={value} onChange={onChange} label={label} />, false);
  }
}

// --- kind-specific editors -------------------------------------------------------------------

function CasesEditor({ node, onChange, readOnly }: { node: JourneyNode; onChange: (n: JourneyNode) => void; readOnly: boolean }) {
  const { t } = useI18n();
  const cases = Array.isArray(node.cases) ? (node.cases as Obj[]) : [];
  const set = (i: number, c: Obj) => onChange({ ...node, cases: cases.map((old, j) => (j === i ? c : old)) });
  return (
    <Group label={t("journeys.field.cases")}>
      <div className="ji-hint text-secondary">{t("journeys.hint.cases")}</div>
      {cases.map((c, i) => {
        const label = t("journeys.caseN", { n: i + 1 });
        return (
          <div key={i} className="ji-case" role="group" aria-label={label}>
            <div className="ji-row">
              <Input
                aria-label={t("journeys.caseName", { label })}
                disabled={readOnly}
                value={typeof c.name === "string" ? c.name : ""}
                onChange={(e) => set(i, { ...c, name: e.target.value })}
                maxLength={64}
              />
              {readOnly || cases.length <= 1 ? null : (
                <Button type="text" danger icon={<DeleteOutlined />} aria-label={t("journeys.removeCase", { label })} onClick={() => onChange({ ...node, cases: cases.filter((_, j) => j !== i) })} />
              )}
            </div>
            <ConditionEditor value={(c.condition as Condition) ?? { type: "all", conditions: [] }} onChange={(cond) => set(i, { ...c, condition: cond })} path={`root`} />
          </div>
        );
      })}
      {readOnly || cases.length >= 20 ? null : (
        <Button
          type="dashed"
          icon={<PlusOutlined />}
          onClick={() => onChange({ ...node, cases: [...cases, { name: `case_${cases.length + 1}`, condition: { type: "all", conditions: [] }, next: null }] })}
        >
          {t("journeys.addCase")}
        </Button>
      )}
    </Group>
  );
}

/** A task's outcomes: each a branch of the node (its handle on the canvas), at least one. */
function OutcomesEditor({ node, onChange, readOnly }: { node: JourneyNode; onChange: (n: JourneyNode) => void; readOnly: boolean }) {
  const { t } = useI18n();
  const outcomes = Array.isArray(node.outcomes) ? (node.outcomes as Obj[]) : [];
  const names = outcomes.map((o) => (typeof o.name === "string" ? o.name.trim() : ""));
  const set = (i: number, o: Obj) => onChange({ ...node, outcomes: outcomes.map((old, j) => (j === i ? o : old)) });
  return (
    <Group label={t("journeys.field.outcomes")}>
      <div className="ji-hint text-secondary">{t("journeys.hint.outcomes")}</div>
      {outcomes.map((o, i) => {
        const label = t("journeys.outcomeN", { n: i + 1 });
        const name = names[i] ?? "";
        const problem = !name
          ? t("journeys.outcomeEmpty")
          : name === "timeout"
            ? t("journeys.outcomeTimeout")
            : names.indexOf(name) !== i
              ? t("journeys.outcomeTwice")
              : null;
        return (
          <div key={i} className="ji-case" role="group" aria-label={label}>
            <div className="ji-row">
              <Input
                aria-label={t("journeys.outcomeName", { label })}
                disabled={readOnly}
                value={typeof o.name === "string" ? o.name : ""}
                onChange={(e) => set(i, { ...o, name: e.target.value })}
                maxLength={64}
                status={problem ? "error" : undefined}
              />
              {readOnly || outcomes.length <= 1 ? null : (
                <Button type="text" danger icon={<DeleteOutlined />} aria-label={t("journeys.removeOutcome", { label })} onClick={() => onChange({ ...node, outcomes: outcomes.filter((_, j) => j !== i) })} />
              )}
            </div>
            {problem && !readOnly ? <div className="field-error">{problem}</div> : null}
          </div>
        );
      })}
      {readOnly || outcomes.length >= 20 ? null : (
        <Button type="dashed" icon={<PlusOutlined />} onClick={() => onChange({ ...node, outcomes: [...outcomes, { name: `outcome_${outcomes.length + 1}`, next: null }] })}>
          {t("journeys.addOutcome")}
        </Button>
      )}
    </Group>
  );
}

function SplitEditor({ node, onChange, readOnly }: { node: JourneyNode; onChange: (n: JourneyNode) => void; readOnly: boolean }) {
  const { t, lang } = useI18n();
  const branches = Array.isArray(node.branches) ? (node.branches as Obj[]) : [];
  const byPercent = branches.every((b) => typeof b.percent === "number" || b.weight === undefined || b.weight === null);
  const total = branches.reduce((n, b) => n + (Number(byPercent ? b.percent : b.weight) || 0), 0);
  const set = (i: number, b: Obj) => onChange({ ...node, branches: branches.map((old, j) => (j === i ? b : old)) });
  const pct = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const switchMode = (percent: boolean) => {
    const n = branches.length || 1;
    onChange({
      ...node,
      branches: branches.map((b) => {
        const { weight: _w, percent: _p, ...rest } = b;
        void _w;
        void _p;
        return percent ? { ...rest, percent: Math.round((100 / n) * 10) / 10 } : { ...rest, weight: 1 };
      }),
    });
  };
  const experiment = node.experiment && typeof node.experiment === "object" ? (node.experiment as Obj) : null;
  return (
    <>
      <Group label={t("journeys.field.branches")}>
        <Radio.Group
          aria-label={t("journeys.shareMode")}
          disabled={readOnly}
          value={byPercent ? "percent" : "weight"}
          onChange={(e) => switchMode(e.target.value === "percent")}
          optionType="button"
          size="small"
          options={[
            { value: "percent", label: t("journeys.byPercent") },
            { value: "weight", label: t("journeys.byWeight") },
          ]}
        />
        {branches.map((b, i) => {
          const label = t("journeys.branchN", { n: i + 1 });
          const share = Number(byPercent ? b.percent : b.weight) || 0;
          return (
            <div key={i} className="ji-split-row" role="group" aria-label={label}>
              <Input aria-label={t("journeys.branchName", { label })} disabled={readOnly} value={typeof b.name === "string" ? b.name : ""} onChange={(e) => set(i, { ...b, name: e.target.value })} maxLength={64} />
              <InputNumber
                aria-label={byPercent ? t("journeys.branchPercent", { label }) : t("journeys.branchWeight", { label })}
                disabled={readOnly}
                min={0}
                max={byPercent ? 100 : undefined}
                value={share}
                suffix={byPercent ? "%" : undefined}
                onChange={(v) => set(i, byPercent ? { ...b, percent: v ?? 0 } : { ...b, weight: v ?? 0 })}
                style={{ width: 110 }}
              />
              <span className="text-secondary ji-share">{byPercent ? "" : total ? `${pct.format((share / total) * 100)}%` : ""}</span>
              {b.next === null || b.next === undefined ? <span className="ji-holdout">{t("journeys.holdout")}</span> : null}
              {readOnly || branches.length <= 2 ? null : (
                <Button type="text" danger icon={<DeleteOutlined />} aria-label={t("journeys.removeBranch", { label })} onClick={() => onChange({ ...node, branches: branches.filter((_, j) => j !== i) })} />
              )}
            </div>
          );
        })}
        {byPercent ? (
          <div className={Math.abs(total - 100) > 1e-6 ? "field-error" : "text-secondary"}>{t("journeys.percentTotal", { total: pct.format(total) })}</div>
        ) : null}
        <div className="ji-hint text-secondary">{t("journeys.hint.holdout")}</div>
        {readOnly || branches.length >= 20 ? null : (
          <Button
            type="dashed"
            icon={<PlusOutlined />}
            onClick={() =>
              onChange({
                ...node,
                branches: [...branches, { name: String.fromCharCode(65 + (branches.length % 26)), ...(byPercent ? { percent: 0 } : { weight: 1 }), next: null }],
              })
            }
          >
            {t("journeys.addBranch")}
          </Button>
        )}
      </Group>
      <Group label={t("journeys.field.experiment")}>
        <div className="ji-row">
          <Switch
            id="ji-experiment"
            disabled={readOnly}
            checked={experiment !== null}
            onChange={(on) => onChange({ ...node, experiment: on ? { metric: "conversion", window_hours: 72, min_per_branch: null, goal_event: null } : null })}
          />
          <label htmlFor="ji-experiment">{t("journeys.experimentOn")}</label>
        </div>
        <div className="ji-hint text-secondary">{t("journeys.hint.experiment")}</div>
        {experiment ? <ExperimentFields value={experiment} onChange={(e) => onChange({ ...node, experiment: e })} readOnly={readOnly} /> : null}
      </Group>
    </>
  );
}

function ExperimentFields({ value, onChange, readOnly }: { value: Obj; onChange: (v: Obj) => void; readOnly: boolean }) {
  const { t } = useI18n();
  const ids = { metric: useId(), window: useId(), min: useId(), goal: useId() };
  return (
    <>
      <Field label={t("journeys.field.metric")} htmlFor={ids.metric}>
        <Select
          id={ids.metric}
          disabled={readOnly}
          value={String(value.metric ?? "conversion")}
          onChange={(v) => onChange({ ...value, metric: v })}
          options={["open", "click", "conversion", "revenue"].map((m) => ({ value: m, label: t(`journeys.metric.${m}` as never) }))}
          style={{ width: "100%" }}
        />
      </Field>
      <Field label={t("journeys.field.window_hours")} hint={t("journeys.hint.window_hours")} htmlFor={ids.window}>
        <InputNumber id={ids.window} disabled={readOnly} min={1} max={2160} value={typeof value.window_hours === "number" ? value.window_hours : null} onChange={(v) => onChange({ ...value, window_hours: v })} style={{ width: 160 }} />
      </Field>
      <Field label={t("journeys.field.min_per_branch")} hint={t("journeys.hint.min_per_branch")} htmlFor={ids.min}>
        <InputNumber id={ids.min} disabled={readOnly} min={1} precision={0} value={typeof value.min_per_branch === "number" ? value.min_per_branch : null} onChange={(v) => onChange({ ...value, min_per_branch: v ?? null })} style={{ width: 160 }} />
      </Field>
      {value.metric === "conversion" || value.metric === "revenue" ? (
        <Field label={t("journeys.field.goal_event")} hint={t("journeys.hint.goal_event")} htmlFor={ids.goal}>
          <Input id={ids.goal} disabled={readOnly} value={typeof value.goal_event === "string" ? value.goal_event : ""} onChange={(e) => onChange({ ...value, goal_event: e.target.value || null })} />
        </Field>
      ) : null}
    </>
  );
}

/** Where each branch leads: the keyboard's way to connect nodes. */
function PathsEditor({ definition, id, node, onChange, readOnly, onSelectNode }: { definition: Definition; id: string; node: JourneyNode; onChange: (n: JourneyNode) => void; readOnly: boolean; onSelectNode: (id: string) => void }) {
  const { t } = useI18n();
  const others = Object.keys(nodesOf(definition)).filter((n) => n !== id);
  const branches = branchesOf(node);
  if (!branches.length) return null;
  return (
    <Group label={t("journeys.paths")}>
      {branches.map((b) => {
        const label = branchLabel(b, t);
        return (
          <div key={b.handle} className="ji-path">
            <span className="ji-path-label" id={`path-${id}-${b.handle}`}>
              {label}
            </span>
            <Select
              aria-labelledby={`path-${id}-${b.handle}`}
              disabled={readOnly}
              value={b.target ?? ""}
              onChange={(v: string) => onChange(setBranch(node, b.handle, v || null))}
              options={[
                { value: "", label: b.kind === "split" ? t("journeys.endsHoldout") : t("journeys.endsHere") },
                ...others.map((n) => ({ value: n, label: `${n} · ${kindLabel(nodesOf(definition)[n]?.type ?? "", t)}` })),
              ]}
              showSearch={{ optionFilterProp: "label" }}
              style={{ flex: 1, minWidth: 0 }}
            />
            {b.target ? (
              <Button size="small" type="link" onClick={() => onSelectNode(b.target as string)} aria-label={t("journeys.goToNode", { id: b.target })}>
                {t("journeys.goTo")}
              </Button>
            ) : null}
          </div>
        );
      })}
    </Group>
  );
}

function RenameField({ id, onRename, readOnly }: { id: string; onRename: (from: string, to: string) => string | null; readOnly: boolean }) {
  const { t } = useI18n();
  const inputId = useId();
  return (
    <Field label={t("journeys.nodeId")} hint={t("journeys.hint.nodeId")} htmlFor={inputId}>
      <Input
        key={id}
        id={inputId}
        disabled={readOnly}
        defaultValue={id}
        maxLength={64}
        onBlur={(e) => {
          const to = e.target.value.trim();
          if (to && to !== id) {
            const problem = onRename(id, to);
            if (problem) e.target.value = id;
          }
        }}
        onPressEnter={(e) => (e.target as HTMLInputElement).blur()}
      />
    </Field>
  );
}

// --- the inspector -------------------------------------------------------------------------

export function Inspector(props: InspectorProps) {
  const { schema, reference, topics, definition, selectedId, readOnly, error, onChange } = props;
  const { t } = useI18n();
  const env = useMemo(
    () => builderEnv(reference, { readOnly, errors: new Map(), incomplete: new Set(), topics, selfId: null }),
    [reference, readOnly, topics],
  );
  const nodes = nodesOf(definition);
  const mine = error && error.nodeId === selectedId ? error : null;

  let body: ReactNode;
  if (selectedId === TRIGGER_NODE_ID) {
    const trigger = (definition.trigger ?? { type: "tag_added" }) as Obj;
    const kind = String(trigger.type ?? "");
    const defName = triggerDefName(schema, kind);
    const entry = (definition.entry ?? {}) as Obj;
    const goal = definition.goal && typeof definition.goal === "object" ? (definition.goal as Obj) : null;
    const exitOn = Array.isArray(definition.exit_on) ? (definition.exit_on as Obj[]) : [];
    const sectionError = (s: string) => (mine && mine.section === s ? mine.text : null);
    body = (
      <>
        <h2 className="ji-title">{t("journeys.trigger")}</h2>
        <Group label={t("journeys.triggerKind")}>
          <Select
            aria-label={t("journeys.triggerKind")}
            disabled={readOnly}
            value={kind}
            onChange={(v: string) => {
              // keep what the new kind shares (the segment, the attribute …)
              const fresh = defaultTrigger(v);
              for (const k of Object.keys(fresh)) if (k !== "type" && k in trigger) fresh[k] = trigger[k];
              if ((v === "segment_entered" || v === "segment_exited" || v === "schedule") && typeof trigger.segment_id === "number") fresh.segment_id = trigger.segment_id;
              onChange({ ...definition, trigger: fresh });
            }}
            options={TRIGGER_KINDS.map((k) => ({ value: k, label: triggerLabel(k, t) }))}
            style={{ width: "100%" }}
          />
          <div className="ji-hint text-secondary">{t(`journeys.triggerHint.${kind}` as never)}</div>
          {defName ? (
            <SchemaFields
              schema={schema}
              defName={defName}
              value={trigger}
              onChange={(next) => onChange({ ...definition, trigger: next })}
              readOnly={readOnly}
              reference={reference}
              topics={topics}
              skip={[]}
              errorField={mine?.section === "trigger" ? mine.field : null}
              errorText={mine?.section === "trigger" ? mine.text : null}
            />
          ) : null}
          {mine?.section === "trigger" && (mine.field === "" || mine.field === "start") ? (
            <div className="field-error" role="alert">
              {mine.text}
            </div>
          ) : null}
        </Group>
        <Group label={t("journeys.entry")}>
          <SchemaFields
            schema={schema}
            defName="EntryRules"
            value={entry}
            onChange={(next) => onChange({ ...definition, entry: next })}
            readOnly={readOnly}
            reference={reference}
            topics={topics}
            skip={[]}
            errorField={mine?.section === "entry" ? mine.field : null}
            errorText={sectionError("entry")}
          />
          {sectionError("entry") && mine?.field === "" ? (
            <div className="field-error" role="alert">
              {sectionError("entry")}
            </div>
          ) : null}
        </Group>
        <Group label={t("journeys.goal")}>
          <div className="ji-row">
            <Switch
              id="ji-goal"
              disabled={readOnly}
              checked={goal !== null}
              onChange={(on) => onChange({ ...definition, goal: on ? { event: "", where: [] } : null })}
            />
            <label htmlFor="ji-goal">{t("journeys.goalOn")}</label>
          </div>
          <div className="ji-hint text-secondary">{t("journeys.hint.goal")}</div>
          {goal ? <EventMatchFields value={goal} onChange={(g) => onChange({ ...definition, goal: g })} label={t("journeys.goal")} /> : null}
          {sectionError("goal") ? (
            <div className="field-error" role="alert">
              {sectionError("goal")}
            </div>
          ) : null}
        </Group>
        <Group label={t("journeys.exitOn")}>
          <div className="ji-hint text-secondary">{t("journeys.hint.exitOn")}</div>
          {exitOn.map((m, i) => {
            const label = t("journeys.exitRuleN", { n: i + 1 });
            return (
              <div key={i} className="ji-case" role="group" aria-label={label}>
                <EventMatchFields value={m} onChange={(next) => onChange({ ...definition, exit_on: exitOn.map((old, j) => (j === i ? next : old)) })} label={label} />
                {readOnly ? null : (
                  <Button type="text" danger icon={<DeleteOutlined />} aria-label={t("journeys.removeExitRule", { label })} onClick={() => onChange({ ...definition, exit_on: exitOn.filter((_, j) => j !== i) })} />
                )}
              </div>
            );
          })}
          {sectionError("exit_on") ? (
            <div className="field-error" role="alert">
              {sectionError("exit_on")}
            </div>
          ) : null}
          {readOnly ? null : (
            <Button type="dashed" icon={<PlusOutlined />} onClick={() => onChange({ ...definition, exit_on: [...exitOn, { event: "", where: [] }] })}>
              {t("journeys.addExitRule")}
            </Button>
          )}
        </Group>
      </>
    );
  } else if (selectedId && nodes[selectedId]) {
    const node = nodes[selectedId];
    const defName = nodeDefName(schema, node.type);
    const set = (next: JourneyNode) => onChange({ ...definition, nodes: { ...nodes, [selectedId]: next } });
    const skip = ["next", "yes", "no", "timeout_next", "none_next", "otherwise", "cases", "branches", "experiment", "outcomes"];
    body = (
      <>
        <h2 className="ji-title">{kindLabel(node.type, t)}</h2>
        <div className="ji-hint text-secondary">{t(`journeys.kindHint.${node.type}` as never)}</div>
        {mine && (mine.field === "" || !defName) ? (
          <div className="field-error" role="alert">
            {mine.text}
          </div>
        ) : null}
        <RenameField id={selectedId} onRename={props.onRename} readOnly={readOnly} />
        {defName ? (
          <SchemaFields
            schema={schema}
            defName={defName}
            value={node}
            onChange={(next) => set(next as JourneyNode)}
            readOnly={readOnly}
            reference={reference}
            topics={topics}
            skip={skip}
            errorField={mine ? mine.field : null}
            errorText={mine ? mine.text : null}
          />
        ) : null}
        {node.type === "branch" ? <CasesEditor node={node} onChange={set} readOnly={readOnly} /> : null}
        {node.type === "split" ? <SplitEditor node={node} onChange={set} readOnly={readOnly} /> : null}
        {node.type === "task" ? <OutcomesEditor node={node} onChange={set} readOnly={readOnly} /> : null}
        {mine && /^(cases|branches|experiment|outcomes)/.test(mine.field) ? (
          <div className="field-error" role="alert">
            {mine.text}
          </div>
        ) : null}
        <PathsEditor definition={definition} id={selectedId} node={node} onChange={set} readOnly={readOnly} onSelectNode={props.onSelectNode} />
      </>
    );
  } else {
    body = <p className="text-secondary ji-empty">{t("journeys.inspectorEmpty")}</p>;
  }

  return (
    <BuilderProvider env={env}>
      <div className="journey-inspector">{body}</div>
    </BuilderProvider>
  );
}
