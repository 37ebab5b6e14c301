import { AutoComplete, Button, Checkbox, Dropdown, Input, InputNumber, Select, type MenuProps } from "antd";
import { DeleteOutlined, DownOutlined, PlusOutlined } from "@ant-design/icons";
import type { ChannelKind } from "../../../api/types";
import { useI18n, type MessageKey } from "../../../i18n";
import { useScoreModels } from "../../scoring/queries";
import { Labelled, useBuilder, useLabels } from "./BuilderContext";
import { AccountDetails, AccountFields, ModelPicker, PredictedFields } from "./LeadConditions";
import {
  DurationInput,
  EventInput,
  JsonInput,
  OperatorSelect,
  PropertyInput,
  ValueInput,
  WhereEditor,
  WindowInput,
} from "./inputs";
import {
  changeKind,
  childOf,
  conditionNumber,
  conditionsOf,
  defaultValue,
  findOperator,
  isGroup,
  newCondition,
  operatorsFor,
  withOperator,
  type Condition,
  type Duration,
  type EventMatch,
  type PropertyFilter,
  type Window,
} from "./model";

export const CHANNELS: ChannelKind[] = ["email", "sms", "push", "wechat", "webhook", "inapp"];

const KIND_GROUPS: { key: MessageKey; kinds: string[] }[] = [
  { key: "builder.kindGroup.logic", kinds: ["all", "any", "not"] },
  {
    key: "builder.kindGroup.profile",
    kinds: ["attribute", "tag", "segment", "score", "predicted", "account", "subscription", "random_bucket"],
  },
  {
    key: "builder.kindGroup.behaviour",
    kinds: ["performed", "not_performed", "aggregate", "first_performed", "last_performed", "sequence"],
  },
];

/** The kinds of the reference in groups; kinds the console does not place go under "Other". */
function useKindGroups() {
  const { kinds } = useBuilder();
  const { t } = useI18n();
  const placed = new Set(KIND_GROUPS.flatMap((g) => g.kinds));
  const groups = KIND_GROUPS.map((g) => ({ label: t(g.key), kinds: g.kinds.filter((k) => kinds.includes(k)) }));
  const other = kinds.filter((k) => !placed.has(k));
  if (other.length) groups.push({ label: t("builder.kindGroup.other"), kinds: other });
  return groups.filter((g) => g.kinds.length > 0);
}

function KindSelect({ value, onChange, label }: { value: string; onChange: (kind: string) => void; label: string }) {
  const { readOnly } = useBuilder();
  const labels = useLabels();
  const groups = useKindGroups();
  return (
    <Labelled label={label}>
      {(id) => (
        <Select
          id={id}
          className="kind-select"
          disabled={readOnly}
          value={value}
          onChange={onChange}
          options={groups.map((g) => ({
            label: g.label,
            title: g.label,
            options: g.kinds.map((k) => ({ value: k, label: labels.kind(k) })),
          }))}
          popupMatchSelectWidth={false}
          style={{ minWidth: 190 }}
        />
      )}
    </Labelled>
  );
}

/** Moves the keyboard focus once React has rendered the change (a new or removed condition). */
function focusLater(selector: string) {
  window.setTimeout(() => document.querySelector<HTMLElement>(selector)?.focus(), 0);
}

/** "Add condition": a menu of every kind. */
function AddCondition({ onAdd, label, path }: { onAdd: (kind: string) => void; label: string; path: string }) {
  const { t } = useI18n();
  const labels = useLabels();
  const groups = useKindGroups();
  const items: MenuProps["items"] = groups.map((g, i) => ({
    type: "group",
    key: `group-${i}`,
    label: g.label,
    children: g.kinds.map((k) => ({ key: k, label: labels.kind(k) })),
  }));
  return (
    <Dropdown trigger={["click"]} autoFocus menu={{ items, onClick: ({ key }) => onAdd(key) }}>
      <Button type="dashed" icon={<PlusOutlined />} aria-haspopup="menu" aria-label={label} data-add-for={path}>
        {t("builder.addCondition")}
        <DownOutlined className="button-caret" />
      </Button>
    </Dropdown>
  );
}

interface EditorProps {
  value: Condition;
  onChange: (next: Condition) => void;
  onRemove?: () => void;
  path: string;
}

/** One condition of the tree (a group recursively), with its kind, fields and errors. */
export function ConditionEditor({ value, onChange, onRemove, path }: EditorProps) {
  const { t } = useI18n();
  const { ref, readOnly, errors, incomplete } = useBuilder();
  const number = conditionNumber(path);
  const label = number ? t("builder.condition", { n: number }) : t("builder.root");
  const error = errors.get(path);
  const group = isGroup(value);
  const not = value.type === "not";

  const remove =
    onRemove && !readOnly ? (
      <Button
        type="text"
        danger
        icon={<DeleteOutlined />}
        aria-label={t("builder.remove", { label })}
        onClick={onRemove}
        className="condition-remove"
      />
    ) : null;

  return (
    <div
      role="group"
      aria-label={label}
      data-path={path}
      className={`condition ${group || not ? "condition-group" : "condition-leaf"}${error ? " condition-error" : ""}`}
    >
      <div className="condition-head">
        {number ? <span className="condition-number" aria-hidden="true">{number}</span> : null}
        <KindSelect
          value={value.type}
          onChange={(kind) => onChange(changeKind(value, kind, ref))}
          label={t("builder.kind", { label })}
        />
        {group ? (
          <span className="text-secondary">
            {t(value.type === "all" ? "builder.group.all" : "builder.group.any")}
          </span>
        ) : null}
        {not ? <span className="text-secondary">{t("builder.group.not")}</span> : null}
        {!group && !not ? <LeafFields value={value} onChange={onChange} label={label} /> : null}
        {remove}
      </div>
      {!group && !not ? <LeafDetails value={value} onChange={onChange} label={label} path={path} /> : null}
      {group ? <GroupBody value={value} onChange={onChange} path={path} label={label} /> : null}
      {not ? <NotBody value={value} onChange={onChange} path={path} /> : null}
      {error ? (
        <div className="field-error" role="alert">
          {error}
        </div>
      ) : incomplete.has(path) && !readOnly ? (
        <div className="field-warning">{t("builder.incomplete")}</div>
      ) : null}
    </div>
  );
}

function GroupBody({ value, onChange, path, label }: { value: Condition; onChange: (c: Condition) => void; path: string; label: string }) {
  const { t } = useI18n();
  const { ref, readOnly } = useBuilder();
  const children = conditionsOf(value);
  const set = (next: Condition[]) => onChange({ ...value, conditions: next });
  return (
    <div className="condition-body">
      {children.length === 0 ? (
        <p className="text-secondary condition-empty">
          {t(value.type === "all" ? "builder.emptyAll" : "builder.emptyAny")}
        </p>
      ) : (
        <ol className="condition-list">
          {children.map((child, i) => (
            <li key={i}>
              <ConditionEditor
                value={child}
                path={`${path}.conditions[${i}]`}
                onChange={(c) => set(children.map((old, j) => (j === i ? c : old)))}
                onRemove={() => {
                  set(children.filter((_, j) => j !== i));
                  focusLater(`[data-add-for="${path}"]`);
                }}
              />
            </li>
          ))}
        </ol>
      )}
      {readOnly ? null : (
        <AddCondition
          path={path}
          label={path === "root" ? t("builder.addCondition") : t("builder.addConditionTo", { label })}
          onAdd={(kind) => {
            set([...children, newCondition(kind, ref)]);
            // To the new condition's first field (its type).
            focusLater(`[data-path="${path}.conditions[${children.length}]"] input`);
          }}
        />
      )}
    </div>
  );
}

function NotBody({ value, onChange, path }: { value: Condition; onChange: (c: Condition) => void; path: string }) {
  const { ref } = useBuilder();
  const child = childOf(value) ?? newCondition("attribute", ref);
  return (
    <div className="condition-body">
      <ConditionEditor value={child} path={`${path}.condition`} onChange={(c) => onChange({ ...value, condition: c })} />
    </div>
  );
}

interface LeafProps {
  value: Condition;
  onChange: (next: Condition) => void;
  label: string;
}

/** The fields on the condition's first line. */
function LeafFields({ value, onChange, label }: LeafProps) {
  switch (value.type) {
    case "attribute":
      return <AttributeFields value={value} onChange={onChange} label={label} />;
    case "tag":
      return <TagFields value={value} onChange={onChange} label={label} />;
    case "performed":
      return <PerformedFields value={value} onChange={onChange} label={label} />;
    case "not_performed":
      return <NotPerformedFields value={value} onChange={onChange} label={label} />;
    case "aggregate":
      return <AggregateFields value={value} onChange={onChange} label={label} />;
    case "first_performed":
    case "last_performed":
      return <FirstLastFields value={value} onChange={onChange} label={label} />;
    case "sequence":
      return <SequenceFields value={value} onChange={onChange} label={label} />;
    case "segment":
      return <SegmentFields value={value} onChange={onChange} label={label} />;
    case "subscription":
      return <SubscriptionFields value={value} onChange={onChange} label={label} />;
    case "random_bucket":
      return <RandomBucketFields value={value} onChange={onChange} label={label} />;
    case "score":
      return <ScoreFields value={value} onChange={onChange} label={label} />;
    case "predicted":
      return <PredictedFields value={value} onChange={onChange} label={label} />;
    case "account":
      return <AccountFields value={value} onChange={onChange} label={label} />;
    default:
      return null;
  }
}

/** What comes under the first line: property filters, sequence steps, a JSON editor. */
function LeafDetails({ value, onChange, label, path }: LeafProps & { path: string }) {
  const { t } = useI18n();
  const labels = useLabels();
  const { kinds } = useBuilder();
  const where = (
    <WhereEditor
      value={value.where as PropertyFilter[] | undefined}
      onChange={(w) => onChange({ ...value, where: w })}
      label={label}
      event={value.event as string | null | undefined}
    />
  );
  switch (value.type) {
    case "performed":
    case "not_performed":
    case "aggregate":
    case "first_performed":
    case "last_performed":
      return <div className="condition-details">{where}</div>;
    case "sequence":
      return <SequenceSteps value={value} onChange={onChange} label={label} />;
    case "attribute":
    case "tag":
    case "segment":
    case "subscription":
    case "random_bucket":
    case "score":
    case "predicted":
      return null;
    case "account":
      return <AccountDetails value={value} onChange={onChange} label={label} path={path} Editor={ConditionEditor} />;
    default:
      return (
        <div className="condition-details">
          <p className="text-secondary">
            {t(kinds.includes(value.type) ? "builder.noForm" : "builder.unknownKind", { kind: labels.kind(value.type) })}
          </p>
          <JsonInput
            value={value}
            onChange={(v) => {
              if (typeof v === "object" && v !== null && "type" in v) onChange(v as Condition);
            }}
            label={t("builder.json", { label })}
          />
        </div>
      );
  }
}

function AttributeFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { ref, readOnly } = useBuilder();
  const attribute = String(value.attribute ?? "");
  const field = ref.fields.find((f) => f.name === attribute);
  const type = field?.type ?? "string";
  const operators = operatorsFor(ref, type);
  const operator = String(value.operator ?? "");
  const sources = ["field", "attribute", "computed_trait"] as const;
  const options = sources
    .map((source) => ({
      label: t(`builder.source.${source}`),
      title: t(`builder.source.${source}`),
      options: ref.fields
        .filter((f) => f.source === source)
        .map((f) => ({ value: f.name, label: f.label ? `${f.label} (${f.name})` : f.name })),
    }))
    .filter((g) => g.options.length > 0);
  if (attribute && !field) options.unshift({ label: t("builder.source.unknown"), title: "", options: [{ value: attribute, label: attribute }] });

  const chooseField = (name: string) => {
    const nextType = ref.fields.find((f) => f.name === name)?.type ?? "string";
    const valid = operatorsFor(ref, nextType);
    const keep = valid.some((o) => o.key === operator) && nextType === type;
    const key = keep ? operator : (valid[0]?.key ?? "eq");
    const shape = findOperator(ref, key)?.value;
    const next: Condition = { ...value, attribute: name, operator: key };
    if (!keep) {
      const v = defaultValue(shape, nextType);
      if (v === undefined) delete next.value;
      else next.value = v;
    }
    onChange(next);
  };

  return (
    <>
      <Labelled label={t("builder.field", { label })}>
        {(id) => (
          <Select
            id={id}
            showSearch={{ optionFilterProp: "label" }}
            disabled={readOnly}
            status={attribute ? "" : "warning"}
            value={attribute || undefined}
            placeholder={t("builder.fieldPlaceholder")}
            onChange={chooseField}
            options={options}
            popupMatchSelectWidth={false}
            style={{ minWidth: 180 }}
          />
        )}
      </Labelled>
      <OperatorSelect
        operators={operators}
        value={operator}
        onChange={(key) => onChange(withOperator(value, ref, key, type))}
        label={t("builder.operator", { label })}
      />
      <ValueInput
        shape={findOperator(ref, operator)?.value}
        type={type}
        value={value.value}
        onChange={(v) => onChange({ ...value, value: v })}
        label={t("builder.value", { label })}
      />
    </>
  );
}

function TagFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { ref, readOnly } = useBuilder();
  const tag = String(value.tag ?? "");
  return (
    <>
      <Labelled label={t("builder.tagPresence", { label })}>
        {(id) => (
          <Select
            id={id}
            disabled={readOnly}
            value={value.present === false ? "absent" : "present"}
            onChange={(v) => onChange({ ...value, present: v === "present" })}
            options={[
              { value: "present", label: t("builder.tag.present") },
              { value: "absent", label: t("builder.tag.absent") },
            ]}
            popupMatchSelectWidth={false}
            style={{ minWidth: 140 }}
          />
        )}
      </Labelled>
      <Labelled label={t("builder.tag", { label })}>
        {(id) => (
          <AutoComplete
            id={id}
            disabled={readOnly}
            value={tag}
            status={tag.trim() ? "" : "warning"}
            onChange={(v: string) => onChange({ ...value, tag: v })}
            options={ref.tags.map((x) => ({ value: x }))}
            filterOption={(input, option) => String(option?.value ?? "").toLowerCase().includes(input.toLowerCase())}
            placeholder={t("builder.tagPlaceholder")}
            style={{ minWidth: 160 }}
          />
        )}
      </Labelled>
    </>
  );
}

function CountFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { countOps, readOnly } = useBuilder();
  const labels = useLabels();
  const count = (value.count as { op?: string; value?: number } | undefined) ?? { op: ">=", value: 1 };
  const op = count.op ?? ">=";
  return (
    <>
      <Labelled label={t("builder.countOp", { label })}>
        {(id) => (
          <Select
            id={id}
            disabled={readOnly}
            value={op}
            onChange={(o) => onChange({ ...value, count: { op: o, value: count.value ?? 1 } })}
            options={countOps.map((o) => ({ value: o, label: labels.countOp(o) }))}
            popupMatchSelectWidth={false}
            style={{ minWidth: 130 }}
          />
        )}
      </Labelled>
      <Labelled label={t("builder.countValue", { label })}>
        {(id) => (
          <InputNumber
            id={id}
            min={0}
            precision={0}
            disabled={readOnly}
            status={typeof count.value === "number" ? "" : "warning"}
            value={count.value ?? null}
            onChange={(v) => onChange({ ...value, count: { op, value: v as number } })}
            style={{ width: 80 }}
          />
        )}
      </Labelled>
      <span>{t("builder.times")}</span>
    </>
  );
}

function PerformedFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  return (
    <>
      <EventInput value={value.event as string | null} onChange={(e) => onChange({ ...value, event: e })} label={t("builder.event", { label })} />
      <CountFields value={value} onChange={onChange} label={label} />
      <WindowInput value={value.window as Window} onChange={(w) => onChange({ ...value, window: w })} label={t("builder.window", { label })} />
    </>
  );
}

function NotPerformedFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  return (
    <>
      <EventInput value={value.event as string | null} onChange={(e) => onChange({ ...value, event: e })} label={t("builder.event", { label })} />
      <WindowInput value={value.window as Window} onChange={(w) => onChange({ ...value, window: w })} label={t("builder.window", { label })} />
    </>
  );
}

function AggregateFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { ref, functions, readOnly } = useBuilder();
  const labels = useLabels();
  const operator = String(value.operator ?? "");
  const property = String(value.property ?? "");
  return (
    <>
      <Labelled label={t("builder.function", { label })}>
        {(id) => (
          <Select
            id={id}
            disabled={readOnly}
            value={String(value.function ?? "sum")}
            onChange={(fn) => onChange({ ...value, function: fn })}
            options={functions.map((f) => ({ value: f, label: labels.fn(f) }))}
            popupMatchSelectWidth={false}
            style={{ minWidth: 110 }}
          />
        )}
      </Labelled>
      <span>{t("builder.aggregateOf")}</span>
      <Labelled label={t("builder.aggregateProperty", { label })}>
        {(id) => (
          <PropertyInput
            id={id}
            event={value.event as string | null | undefined}
            value={property}
            onChange={(next) => onChange({ ...value, property: next })}
            width={140}
          />
        )}
      </Labelled>
      <span>{t("builder.aggregateOver")}</span>
      <EventInput value={value.event as string | null} onChange={(e) => onChange({ ...value, event: e })} label={t("builder.event", { label })} />
      <WindowInput value={value.window as Window} onChange={(w) => onChange({ ...value, window: w })} label={t("builder.window", { label })} />
      <OperatorSelect
        operators={operatorsFor(ref, "number")}
        value={operator}
        onChange={(key) => onChange(withOperator(value, ref, key, "number"))}
        label={t("builder.operator", { label })}
      />
      <ValueInput
        shape={findOperator(ref, operator)?.value}
        type="number"
        value={value.value}
        onChange={(v) => onChange({ ...value, value: v })}
        label={t("builder.value", { label })}
      />
    </>
  );
}

function FirstLastFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { ref } = useBuilder();
  const operator = String(value.operator ?? "");
  return (
    <>
      <EventInput value={value.event as string | null} onChange={(e) => onChange({ ...value, event: e })} label={t("builder.event", { label })} />
      <span>{t("builder.happened")}</span>
      <OperatorSelect
        operators={operatorsFor(ref, "datetime")}
        value={operator}
        onChange={(key) => onChange(withOperator(value, ref, key, "datetime"))}
        label={t("builder.operator", { label })}
      />
      <ValueInput
        shape={findOperator(ref, operator)?.value}
        type="datetime"
        value={value.value}
        onChange={(v) => onChange({ ...value, value: v })}
        label={t("builder.value", { label })}
      />
    </>
  );
}

function SequenceFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { expects, readOnly } = useBuilder();
  const labels = useLabels();
  const within = value.within as Duration | null | undefined;
  return (
    <>
      <Labelled label={t("builder.expect", { label })}>
        {(id) => (
          <Select
            id={id}
            disabled={readOnly}
            value={String(value.expect ?? "absent")}
            onChange={(e) => onChange({ ...value, expect: e })}
            options={expects.map((e) => ({ value: e, label: labels.expect(e) }))}
            popupMatchSelectWidth={false}
            style={{ minWidth: 190 }}
          />
        )}
      </Labelled>
      <Checkbox
        disabled={readOnly}
        checked={!!within}
        aria-label={t("builder.withinFor", { label })}
        onChange={(e) => onChange({ ...value, within: e.target.checked ? { amount: 1, unit: "days" } : null })}
      >
        {t("builder.within")}
      </Checkbox>
      {within ? (
        <DurationInput value={within} onChange={(d) => onChange({ ...value, within: d })} label={t("builder.withinDuration", { label })} />
      ) : null}
    </>
  );
}

function EventMatchEditor({ value, onChange, label }: { value: EventMatch; onChange: (m: EventMatch) => void; label: string }) {
  const { t } = useI18n();
  return (
    <>
      <EventInput value={value.event} onChange={(e) => onChange({ ...value, event: e })} label={t("builder.event", { label })} />
      <WhereEditor value={value.where} onChange={(w) => onChange({ ...value, where: w })} label={label} event={value.event} />
    </>
  );
}

function SequenceSteps({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { readOnly } = useBuilder();
  const first = (value.first as EventMatch | undefined) ?? { event: null, where: [] };
  const then = (value.then as EventMatch[] | undefined) ?? [];
  const firstLabel = t("builder.sequenceFirst", { label });
  return (
    <div className="condition-details sequence-steps">
      <div role="group" aria-label={firstLabel} className="sequence-step">
        <div className="step-title">{t("builder.sequenceFirstTitle")}</div>
        <div className="condition-head">
          <EventInput
            value={first.event}
            onChange={(e) => onChange({ ...value, first: { ...first, event: e } })}
            label={t("builder.event", { label: firstLabel })}
          />
          {/* The window is where the first event is looked for. */}
          <WindowInput value={value.window as Window} onChange={(w) => onChange({ ...value, window: w })} label={t("builder.window", { label })} />
        </div>
        <WhereEditor
          value={first.where}
          onChange={(w) => onChange({ ...value, first: { ...first, where: w } })}
          label={firstLabel}
          event={first.event}
        />
      </div>
      <div className="step-title">{t(value.expect === "present" ? "builder.sequenceThenPresent" : "builder.sequenceThenAbsent")}</div>
      <ol className="condition-list">
        {then.map((step, i) => {
          const stepLabel = t("builder.sequenceThen", { label, n: i + 1 });
          return (
            <li key={i} className="sequence-step">
              <div className="condition-head" role="group" aria-label={stepLabel}>
                <EventMatchEditor
                  value={step}
                  onChange={(m) => onChange({ ...value, then: then.map((old, j) => (j === i ? m : old)) })}
                  label={stepLabel}
                />
                {readOnly || then.length <= 1 ? null : (
                  <Button
                    type="text"
                    danger
                    icon={<DeleteOutlined />}
                    aria-label={t("builder.remove", { label: stepLabel })}
                    onClick={() => onChange({ ...value, then: then.filter((_, j) => j !== i) })}
                  />
                )}
              </div>
            </li>
          );
        })}
      </ol>
      {readOnly ? null : (
        <Button
          size="small"
          type="dashed"
          icon={<PlusOutlined />}
          aria-label={t("builder.addThenTo", { label })}
          onClick={() => onChange({ ...value, then: [...then, { event: null, where: [] }] })}
        >
          {t("builder.addThen")}
        </Button>
      )}
    </div>
  );
}

function SegmentFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { ref, readOnly, selfId } = useBuilder();
  const id = typeof value.segment_id === "number" && value.segment_id > 0 ? value.segment_id : undefined;
  const options = ref.segments
    .filter((s) => s.id !== selfId)
    .map((s) => ({ value: s.id, label: s.name }));
  if (id !== undefined && !options.some((o) => o.value === id)) {
    options.unshift({ value: id, label: t("builder.segmentMissing", { id }) });
  }
  return (
    <>
      <Labelled label={t("builder.membership", { label })}>
        {(htmlId) => (
          <Select
            id={htmlId}
            disabled={readOnly}
            value={value.member === false ? "out" : "in"}
            onChange={(v) => onChange({ ...value, member: v === "in" })}
            options={[
              { value: "in", label: t("builder.member.in") },
              { value: "out", label: t("builder.member.out") },
            ]}
            popupMatchSelectWidth={false}
            style={{ minWidth: 150 }}
          />
        )}
      </Labelled>
      <Labelled label={t("builder.segment", { label })}>
        {(htmlId) => (
          <Select
            id={htmlId}
            showSearch={{ optionFilterProp: "label" }}
            disabled={readOnly}
            status={id ? "" : "warning"}
            value={id}
            placeholder={t("builder.segmentPlaceholder")}
            onChange={(segmentId: number) => onChange({ ...value, segment_id: segmentId })}
            options={options}
            popupMatchSelectWidth={false}
            style={{ minWidth: 200 }}
          />
        )}
      </Labelled>
    </>
  );
}

function SubscriptionFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { topics, readOnly } = useBuilder();
  const labels = useLabels();
  const topic = typeof value.topic === "string" ? value.topic : undefined;
  const channel = typeof value.channel === "string" ? value.channel : undefined;
  const topicOptions = topics.map((tp) => ({ value: tp.key, label: tp.channel ? `${tp.name} (${labels.channel(tp.channel)})` : tp.name }));
  if (topic && !topics.some((tp) => tp.key === topic)) topicOptions.unshift({ value: topic, label: topic });
  return (
    <>
      <Labelled label={t("builder.subscribed", { label })}>
        {(id) => (
          <Select
            id={id}
            disabled={readOnly}
            value={value.subscribed === false ? "no" : "yes"}
            onChange={(v) => onChange({ ...value, subscribed: v === "yes" })}
            options={[
              { value: "yes", label: t("builder.subscribed.yes") },
              { value: "no", label: t("builder.subscribed.no") },
            ]}
            popupMatchSelectWidth={false}
            style={{ minWidth: 200 }}
          />
        )}
      </Labelled>
      <Labelled label={t("builder.channel", { label })}>
        {(id) => (
          <Select
            id={id}
            disabled={readOnly}
            allowClear
            value={channel}
            placeholder={t("builder.anyChannel")}
            status={channel || topic ? "" : "warning"}
            onChange={(v?: string) => onChange({ ...value, channel: v ?? null })}
            options={CHANNELS.map((c) => ({ value: c, label: labels.channel(c) }))}
            popupMatchSelectWidth={false}
            style={{ minWidth: 130 }}
          />
        )}
      </Labelled>
      <Labelled label={t("builder.topic", { label })}>
        {(id) => (
          <Select
            id={id}
            disabled={readOnly}
            allowClear
            showSearch={{ optionFilterProp: "label" }}
            value={topic}
            placeholder={t("builder.noTopic")}
            onChange={(v?: string) => onChange({ ...value, topic: v ?? null })}
            options={topicOptions}
            popupMatchSelectWidth={false}
            style={{ minWidth: 160 }}
          />
        )}
      </Labelled>
    </>
  );
}

function RandomBucketFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { readOnly } = useBuilder();
  return (
    <>
      <Labelled label={t("builder.percent", { label })}>
        {(id) => (
          <InputNumber
            id={id}
            min={0}
            max={100}
            disabled={readOnly}
            status={typeof value.percent === "number" ? "" : "warning"}
            value={typeof value.percent === "number" ? value.percent : null}
            onChange={(v) => onChange({ ...value, percent: v })}
            suffix="%"
            style={{ width: 100 }}
          />
        )}
      </Labelled>
      <span>{t("builder.percentOfContacts")}</span>
      <Labelled label={t("builder.salt", { label })}>
        {(id) => (
          <Input
            id={id}
            disabled={readOnly}
            value={String(value.salt ?? "")}
            placeholder={t("builder.saltPlaceholder")}
            onChange={(e) => onChange({ ...value, salt: e.target.value })}
            style={{ width: 160 }}
          />
        )}
      </Labelled>
    </>
  );
}

/** A score model's score (`{type: "score", model: key, operator, value}`), compared as a number. */
function ScoreFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { ref } = useBuilder();
  const models = useScoreModels();
  const key = typeof value.model === "string" && value.model ? value.model : undefined;
  const operator = String(value.operator ?? "");
  return (
    <>
      <ModelPicker
        label={t("builder.scoreModel", { label })}
        models={models}
        value={key}
        missing={(k) => t("builder.scoreModelMissing", { key: k })}
        placeholder={t("builder.scoreModelPlaceholder")}
        onChange={(model) => onChange({ ...value, model })}
      />
      <OperatorSelect
        operators={operatorsFor(ref, "number")}
        value={operator}
        onChange={(k) => onChange(withOperator(value, ref, k, "number"))}
        label={t("builder.operator", { label })}
      />
      <ValueInput
        shape={findOperator(ref, operator)?.value}
        type="number"
        value={value.value}
        onChange={(v) => onChange({ ...value, value: v })}
        label={t("builder.value", { label })}
      />
    </>
  );
}
