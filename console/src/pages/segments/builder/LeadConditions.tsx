// The builder's forms for the lead management conditions (docs/segments.md):
// `predicted` — a predictive model's probability, shown and typed as a percent, stored as
// the 0–1 the API takes; `account` — the contact's B2B account: tests on the account
// (attributes, traits, members' score roll-ups), an optional count of members matching a
// nested condition, and whether the contact belongs to such an account or to none.
import type { ComponentType } from "react";
import { AutoComplete, Button, Checkbox, InputNumber, Select, Space } from "antd";
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { useI18n } from "../../../i18n";
import { usePredictiveModels } from "../../predictive/queries";
import { useScoreModels } from "../../scoring/queries";
import { Labelled, useBuilder, useLabels } from "./BuilderContext";
import { OperatorSelect, ValueInput } from "./inputs";
import {
  convertValue,
  findOperator,
  newCondition,
  operatorsFor,
  PROPERTY_TYPES,
  propertyTypeOf,
  withOperator,
  type Condition,
  type PropertyType,
} from "./model";

interface LeafProps {
  value: Condition;
  onChange: (next: Condition) => void;
  label: string;
}

// --- predicted ---------------------------------------------------------------------------

/** 0.6 → 60 (what the percent field shows); null stays null. */
export const toPercent = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? Math.round(v * 100 * 100) / 100 : null;
/** 60 → 0.6 (what the API takes); null stays null. */
export const fromPercent = (v: number | null): number | null =>
  v === null || !Number.isFinite(v) ? null : Math.round(v * 100) / 10000;

function PercentInput({ value, onChange, label }: { value: unknown; onChange: (v: number | null) => void; label: string }) {
  const { readOnly } = useBuilder();
  const shown = toPercent(value);
  return (
    <Labelled label={label}>
      {(id) => (
        <InputNumber
          id={id}
          min={0}
          max={100}
          step={5}
          precision={2}
          disabled={readOnly}
          status={shown === null ? "warning" : ""}
          value={shown}
          onChange={(v) => onChange(fromPercent(typeof v === "number" ? v : null))}
          suffix="%"
          style={{ width: 120 }}
        />
      )}
    </Labelled>
  );
}

/** `{type: "predicted", model: key, operator, value: 0–1}`: the value edited as a percent. */
/**
 * A score or predictive model by key (`{ data: [{ key, name }] }` from its list query); a key
 * no longer in the list stays shown as missing, and an empty choice is marked.
 */
export function ModelPicker({
  label,
  models,
  value,
  missing,
  placeholder,
  onChange,
}: {
  label: string;
  models: { data?: { data: { key: string; name: string }[] }; isPending: boolean };
  value: string | undefined;
  missing: (key: string) => string;
  placeholder: string;
  onChange: (key: string) => void;
}) {
  const { readOnly } = useBuilder();
  const options = (models.data?.data ?? []).map((m) => ({ value: m.key, label: `${m.name} (${m.key})` }));
  if (value !== undefined && models.data && !options.some((o) => o.value === value)) {
    options.unshift({ value, label: missing(value) });
  }
  return (
    <Labelled label={label}>
      {(id) => (
        <Select
          id={id}
          showSearch={{ optionFilterProp: "label" }}
          disabled={readOnly}
          status={value ? "" : "warning"}
          value={value}
          loading={models.isPending}
          placeholder={placeholder}
          onChange={onChange}
          options={options}
          popupMatchSelectWidth={false}
          style={{ minWidth: 180 }}
        />
      )}
    </Labelled>
  );
}

export function PredictedFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { ref } = useBuilder();
  const models = usePredictiveModels();
  const key = typeof value.model === "string" && value.model ? value.model : undefined;
  const operator = String(value.operator ?? "");
  // a probability is compared with one number or between two
  const operators = operatorsFor(ref, "number").filter((o) => o.value === "one" || o.value === "pair");
  const shape = findOperator(ref, operator)?.value;
  const pair = Array.isArray(value.value) ? (value.value as unknown[]) : [null, null];
  return (
    <>
      <ModelPicker
        label={t("builder.predictiveModel", { label })}
        models={models}
        value={key}
        missing={(k) => t("builder.predictiveModelMissing", { key: k })}
        placeholder={t("builder.predictiveModelPlaceholder")}
        onChange={(model) => onChange({ ...value, model })}
      />
      <span>{t("builder.probabilityIs")}</span>
      <OperatorSelect
        operators={operators}
        value={operator}
        onChange={(k) => onChange(withOperator(value, ref, k, "number"))}
        label={t("builder.operator", { label })}
      />
      {shape === "pair" ? (
        <Space size={4} wrap>
          <PercentInput
            value={pair[0]}
            onChange={(v) => onChange({ ...value, value: [v, pair[1] ?? null] })}
            label={t("builder.valueFrom", { label: t("builder.probability", { label }) })}
          />
          <span aria-hidden="true">{t("builder.and")}</span>
          <PercentInput
            value={pair[1]}
            onChange={(v) => onChange({ ...value, value: [pair[0] ?? null, v] })}
            label={t("builder.valueTo", { label: t("builder.probability", { label }) })}
          />
        </Space>
      ) : (
        <PercentInput value={value.value} onChange={(v) => onChange({ ...value, value: v })} label={t("builder.probability", { label })} />
      )}
    </>
  );
}

// --- account -----------------------------------------------------------------------------

interface AccountFilter {
  attribute: string;
  operator: string;
  value?: unknown;
}

interface MemberCount {
  condition?: Condition | null;
  operator?: string;
  value?: number;
}

const ACCOUNT_FIELDS: Record<string, string> = {
  name: "string",
  domain: "string",
  external_id: "string",
  member_count: "number",
  created_at: "datetime",
  updated_at: "datetime",
};
const ROLLUPS = ["sum", "max", "engaged"] as const;

/** What an account test compares as: its field's type; a roll-up a number; a trait its value's type. */
export function accountAttributeType(attribute: string, value: unknown): string {
  const field = ACCOUNT_FIELDS[attribute];
  if (field) return field;
  if (/^score\.[^.]+\.(sum|max|engaged)$/.test(attribute)) return "number";
  if (attribute.startsWith("traits.")) return propertyTypeOf(value);
  return "string";
}

const isTrait = (attribute: string) => attribute.startsWith("traits.");

function AccountFilterRow({
  filter,
  onChange,
  onRemove,
  label,
}: {
  filter: AccountFilter;
  onChange: (f: AccountFilter) => void;
  onRemove: () => void;
  label: string;
}) {
  const { t } = useI18n();
  const { ref, readOnly } = useBuilder();
  const labels = useLabels();
  const scoreModels = useScoreModels();
  const type = accountAttributeType(filter.attribute, filter.value);
  const operators = operatorsFor(ref, type);
  const op = findOperator(ref, filter.operator);

  const fieldOptions = Object.keys(ACCOUNT_FIELDS).map((f) => ({ value: f, label: `${t(`builder.accountAttr.${f}` as "builder.accountAttr.name")} (${f})` }));
  const rollups = (scoreModels.data?.data ?? []).flatMap((m) =>
    ROLLUPS.map((r) => ({ value: `score.${m.key}.${r}`, label: t(`builder.accountAttr.score.${r}`, { model: m.name }) })),
  );
  const options = [
    { label: t("builder.accountAttrGroup.fields"), options: fieldOptions },
    ...(rollups.length ? [{ label: t("builder.accountAttrGroup.scores"), options: rollups }] : []),
  ];

  // a new attribute: an operator and a value of its type
  const retype = (attribute: string, value: unknown): AccountFilter => {
    const next = accountAttributeType(attribute, value);
    const valid = operatorsFor(ref, next);
    let node: AccountFilter = { ...filter, attribute, value };
    if (!valid.some((o) => o.key === filter.operator) || next !== type) node = withOperator({ ...node, operator: "" }, ref, valid[0]?.key ?? "eq", next);
    return node;
  };
  const changeTraitType = (next: PropertyType) => {
    const valid = operatorsFor(ref, next);
    const key = valid.some((o) => o.key === filter.operator) ? filter.operator : (valid[0]?.key ?? "eq");
    const shape = findOperator(ref, key)?.value;
    let value = shape === "none" ? undefined : convertValue(filter.value, next);
    if (next === "number" && (value === null || value === undefined) && shape !== "none") value = 0;
    onChange({ ...filter, operator: key, value });
  };

  return (
    <div className="where-row" role="group" aria-label={label}>
      <Labelled label={t("builder.accountAttribute", { label })}>
        {(id) => (
          <AutoComplete
            id={id}
            disabled={readOnly}
            value={filter.attribute}
            status={filter.attribute.trim() ? "" : "warning"}
            onChange={(v: string) => onChange(v === filter.attribute ? filter : retype(v, filter.value))}
            options={options}
            filterOption={(input, option) => {
              const o = option as { value?: unknown; label?: unknown } | undefined;
              const needle = input.toLowerCase();
              return String(o?.value ?? "").toLowerCase().includes(needle) || String(o?.label ?? "").toLowerCase().includes(needle);
            }}
            placeholder={t("builder.accountAttributePlaceholder")}
            popupMatchSelectWidth={false}
            style={{ minWidth: 220 }}
          />
        )}
      </Labelled>
      {isTrait(filter.attribute) ? (
        <Labelled label={t("builder.propertyType", { label })}>
          {(id) => (
            <Select<PropertyType>
              id={id}
              disabled={readOnly || op?.value === "none"}
              value={propertyTypeOf(filter.value)}
              onChange={changeTraitType}
              options={PROPERTY_TYPES.map((p) => ({ value: p, label: labels.valueType(p) }))}
              popupMatchSelectWidth={false}
              style={{ minWidth: 90 }}
            />
          )}
        </Labelled>
      ) : null}
      <OperatorSelect
        operators={operators}
        value={filter.operator}
        onChange={(key) => onChange(withOperator(filter, ref, key, type))}
        label={t("builder.operator", { label })}
      />
      <ValueInput
        shape={op?.value}
        type={type}
        value={filter.value}
        onChange={(v) => onChange({ ...filter, value: v })}
        label={t("builder.value", { label })}
      />
      {readOnly ? null : (
        <Button type="text" icon={<DeleteOutlined />} aria-label={t("builder.removeFilter", { label })} onClick={onRemove} />
      )}
    </div>
  );
}

/** The account condition's first line: belongs to such an account, or to none. */
export function AccountFields({ value, onChange, label }: LeafProps) {
  const { t } = useI18n();
  const { readOnly } = useBuilder();
  return (
    <Labelled label={t("builder.accountPresence", { label })}>
      {(id) => (
        <Select
          id={id}
          disabled={readOnly}
          value={value.present === false ? "absent" : "present"}
          onChange={(v) => onChange({ ...value, present: v === "present" })}
          options={[
            { value: "present", label: t("builder.account.present") },
            { value: "absent", label: t("builder.account.absent") },
          ]}
          popupMatchSelectWidth={false}
          style={{ minWidth: 220 }}
        />
      )}
    </Labelled>
  );
}

type EditorComponent = ComponentType<{ value: Condition; onChange: (next: Condition) => void; onRemove?: () => void; path: string }>;

/** Under the first line: the account tests, then the optional member count. */
export function AccountDetails({ value, onChange, label, path, Editor }: LeafProps & { path: string; Editor: EditorComponent }) {
  const { t } = useI18n();
  const { ref, readOnly, countOps } = useBuilder();
  const labels = useLabels();
  const where = Array.isArray(value.where) ? (value.where as AccountFilter[]) : [];
  const members = (value.members as MemberCount | null | undefined) ?? null;
  const setWhere = (next: AccountFilter[]) => onChange({ ...value, where: next });
  const setMembers = (patch: Partial<MemberCount>) => onChange({ ...value, members: { ...(members ?? {}), ...patch } });
  const memberCondition = members?.condition ?? null;
  const membersLabel = t("builder.accountMembersFor", { label });
  return (
    <div className="condition-details">
      <div className="where-editor" role="group" aria-label={t("builder.accountWhere", { label })}>
        <div className="step-title">{where.length ? t("builder.accountWhereTitle") : t("builder.accountAny")}</div>
        {where.map((f, i) => (
          <AccountFilterRow
            key={i}
            filter={f}
            label={t("builder.accountFilterN", { label, n: i + 1 })}
            onChange={(next) => setWhere(where.map((old, j) => (j === i ? next : old)))}
            onRemove={() => setWhere(where.filter((_, j) => j !== i))}
          />
        ))}
        {readOnly ? null : (
          <Button
            size="small"
            type="dashed"
            icon={<PlusOutlined />}
            aria-label={t("builder.addAccountFilterTo", { label })}
            onClick={() => setWhere([...where, { attribute: "", operator: "eq", value: "" }])}
          >
            {t("builder.addAccountFilter")}
          </Button>
        )}
      </div>
      <div className="condition-head" style={{ marginTop: 8 }}>
        <Checkbox
          disabled={readOnly}
          checked={members !== null}
          aria-label={membersLabel}
          onChange={(e) => onChange({ ...value, members: e.target.checked ? { condition: null, operator: ">=", value: 1 } : null })}
        >
          {t("builder.accountMembers")}
        </Checkbox>
        {members ? (
          <>
            <Labelled label={t("builder.accountMembersOp", { label })}>
              {(id) => (
                <Select
                  id={id}
                  disabled={readOnly}
                  value={members.operator ?? ">="}
                  onChange={(o: string) => setMembers({ operator: o })}
                  options={countOps.map((o) => ({ value: o, label: labels.countOp(o) }))}
                  popupMatchSelectWidth={false}
                  style={{ minWidth: 130 }}
                />
              )}
            </Labelled>
            <Labelled label={t("builder.accountMembersCount", { label })}>
              {(id) => (
                <InputNumber
                  id={id}
                  min={0}
                  precision={0}
                  disabled={readOnly}
                  status={typeof members.value === "number" ? "" : "warning"}
                  value={members.value ?? null}
                  onChange={(v) => setMembers({ value: (v ?? undefined) as number })}
                  style={{ width: 80 }}
                />
              )}
            </Labelled>
            <span>{t("builder.accountMembersUnit")}</span>
          </>
        ) : null}
      </div>
      {members ? (
        <div className="condition-body">
          {memberCondition ? (
            <Editor
              value={memberCondition}
              path={`${path}.members.condition`}
              onChange={(c) => setMembers({ condition: c })}
              onRemove={() => setMembers({ condition: null })}
            />
          ) : (
            <Space wrap>
              <span className="text-secondary">{t("builder.accountEveryMember")}</span>
              {readOnly ? null : (
                <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => setMembers({ condition: newCondition("score", ref) })}>
                  {t("builder.accountMemberCondition")}
                </Button>
              )}
            </Space>
          )}
        </div>
      ) : null}
    </div>
  );
}
