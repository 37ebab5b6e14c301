import { useMemo, useState } from "react";
import { AutoComplete, Button, DatePicker, Input, InputNumber, Select, Space } from "antd";
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import dayjs, { type Dayjs } from "dayjs";
import type { OperatorRef } from "../../../api/types";
import { useI18n } from "../../../i18n";
import { useEventProperties } from "../queries";
import { Labelled, useBuilder, useLabels } from "./BuilderContext";
import {
  convertValue,
  findOperator,
  PROPERTY_TYPES,
  propertyOperators,
  propertyTypeOf,
  withOperator,
  type Duration,
  type PropertyFilter,
  type PropertyType,
  type ValueShape,
  type Window,
} from "./model";

type Status = "" | "error" | "warning";

/** An ISO instant in UTC (what the API reads) from a picked date. */
export function isoFromDayjs(d: Dayjs | null): string | null {
  return d ? d.toDate().toISOString().replace(/\.000Z$/, "Z") : null;
}

function dayjsFrom(value: unknown): Dayjs | null {
  if (typeof value !== "string" || !value) return null;
  const d = dayjs(value);
  return d.isValid() ? d : null;
}

export function DurationInput({
  value,
  onChange,
  label,
  status,
}: {
  value: Duration | null | undefined;
  onChange: (next: Duration) => void;
  label: string;
  status?: Status;
}) {
  const { t } = useI18n();
  const { units, readOnly } = useBuilder();
  const labels = useLabels();
  const unit = value?.unit ?? "days";
  return (
    <Space.Compact className="duration-input">
      <Labelled label={t("builder.durationAmount", { label })}>
        {(id) => (
          <InputNumber
            id={id}
            min={0}
            precision={0}
            disabled={readOnly}
            status={status || (value?.amount === null || value?.amount === undefined ? "warning" : "")}
            value={value?.amount ?? null}
            onChange={(amount) => onChange({ unit, amount: amount as number })}
            style={{ width: 90 }}
          />
        )}
      </Labelled>
      <Labelled label={t("builder.durationUnit", { label })}>
        {(id) => (
          <Select
            id={id}
            disabled={readOnly}
            value={unit}
            onChange={(u) => onChange({ amount: value?.amount ?? 1, unit: u as Duration["unit"] })}
            options={units.map((u) => ({ value: u, label: labels.unit(u) }))}
            popupMatchSelectWidth={false}
            style={{ minWidth: 96 }}
          />
        )}
      </Labelled>
    </Space.Compact>
  );
}

/** An event name: the workspace's names offered, any text allowed; empty means any event. */
export function EventInput({
  value,
  onChange,
  label,
}: {
  value: string | null | undefined;
  onChange: (next: string | null) => void;
  label: string;
}) {
  const { t } = useI18n();
  const { ref, readOnly } = useBuilder();
  return (
    <Labelled label={label}>
      {(id) => (
        <AutoComplete
          id={id}
          disabled={readOnly}
          value={value ?? ""}
          onChange={(v: string) => onChange(v === "" ? null : v)}
          options={ref.events.map((e) => ({ value: e }))}
          filterOption={(input, option) => String(option?.value ?? "").toLowerCase().includes(input.toLowerCase())}
          placeholder={t("builder.anyEvent")}
          allowClear
          style={{ minWidth: 200 }}
        />
      )}
    </Labelled>
  );
}

/**
 * An event property's name: typed freely, or picked from the properties seen on the event's
 * latest occurrences (with the type they hold, which `onPick` receives).
 */
export function PropertyInput({
  id,
  event,
  value,
  onChange,
  onPick,
  width,
}: {
  id: string;
  event: string | null | undefined;
  value: string;
  onChange: (next: string) => void;
  onPick?: (name: string, types: string[]) => void;
  width: number;
}) {
  const { t } = useI18n();
  const { readOnly } = useBuilder();
  const seen = useEventProperties(event);
  const properties = seen.data?.properties ?? [];
  return (
    <AutoComplete
      id={id}
      disabled={readOnly}
      value={value}
      status={value.trim() ? "" : "warning"}
      placeholder={t("builder.propertyPlaceholder")}
      onChange={(v: string) => {
        // picked (or typed in full): the property's type comes with it
        const found = properties.find((p) => p.name === v);
        if (found && onPick && v !== value) onPick(v, found.types);
        else onChange(v);
      }}
      options={properties.map((p) => ({ value: p.name }))}
      filterOption={(input, option) => String(option?.value ?? "").toLowerCase().includes(input.toLowerCase())}
      popupMatchSelectWidth={false}
      style={{ width }}
    />
  );
}

/** One value of a type: text, number, yes/no or a date and time. */
export function ScalarInput({
  type,
  value,
  onChange,
  label,
  status,
}: {
  type: string;
  value: unknown;
  onChange: (next: unknown) => void;
  label: string;
  status?: Status;
}) {
  const { t } = useI18n();
  const { readOnly } = useBuilder();
  const blank = value === null || value === undefined || value === "";
  const st = status || (blank ? "warning" : "");
  return (
    <Labelled label={label}>
      {(id) => {
        if (type === "number") {
          return (
            <InputNumber
              id={id}
              disabled={readOnly}
              status={st}
              value={typeof value === "number" ? value : null}
              onChange={(v) => onChange(v)}
              style={{ width: 130 }}
            />
          );
        }
        if (type === "boolean") {
          return (
            <Select
              id={id}
              disabled={readOnly}
              value={value === true ? "true" : value === false ? "false" : undefined}
              onChange={(v) => onChange(v === "true")}
              options={[
                { value: "true", label: t("builder.bool.true") },
                { value: "false", label: t("builder.bool.false") },
              ]}
              style={{ minWidth: 100 }}
            />
          );
        }
        if (type === "datetime") {
          return (
            <DatePicker
              id={id}
              disabled={readOnly}
              status={st}
              showTime={{ format: "HH:mm" }}
              format="YYYY-MM-DD HH:mm"
              value={dayjsFrom(value)}
              onChange={(d) => onChange(isoFromDayjs(d))}
            />
          );
        }
        return (
          <Input
            id={id}
            disabled={readOnly}
            status={st}
            value={typeof value === "string" ? value : value === null || value === undefined ? "" : String(value)}
            onChange={(e) => onChange(e.target.value)}
            style={{ width: 180 }}
          />
        );
      }}
    </Labelled>
  );
}

/** The value of an operator, shaped by the operator's `value` (none, one, list, pair, …). */
export function ValueInput({
  shape,
  type,
  value,
  onChange,
  label,
  status,
}: {
  shape: ValueShape | undefined;
  type: string;
  value: unknown;
  onChange: (next: unknown) => void;
  label: string;
  status?: Status;
}) {
  const { t } = useI18n();
  const { readOnly } = useBuilder();
  const pair = Array.isArray(value) ? value : [null, null];
  const setAt = (i: number, v: unknown) => onChange(pair.map((old, j) => (j === i ? v : old)));

  switch (shape) {
    case "none":
      return null;
    case undefined:
    case "one":
      return <ScalarInput type={type} value={value} onChange={onChange} label={label} status={status} />;
    case "list": {
      const list = Array.isArray(value) ? value : [];
      return (
        <Labelled label={label}>
          {(id) => (
            <Select
              id={id}
              mode="tags"
              disabled={readOnly}
              status={status || (list.length === 0 ? "warning" : "")}
              value={list.map((v) => String(v))}
              onChange={(vs: string[]) => {
                const converted = convertValue(vs, type === "number" ? "number" : "string") as unknown[];
                onChange(converted.filter((v) => v !== null && v !== ""));
              }}
              tokenSeparators={[","]}
              notFoundContent={null}
              placeholder={t("builder.valuesPlaceholder")}
              style={{ minWidth: 220 }}
            />
          )}
        </Labelled>
      );
    }
    case "pair":
      return (
        <Space size={4} wrap>
          <ScalarInput type={type} value={pair[0]} onChange={(v) => setAt(0, v)} label={t("builder.valueFrom", { label })} status={status} />
          <span aria-hidden="true">{t("builder.and")}</span>
          <ScalarInput type={type} value={pair[1]} onChange={(v) => setAt(1, v)} label={t("builder.valueTo", { label })} status={status} />
        </Space>
      );
    case "duration":
      return <DurationInput value={value as Duration} onChange={onChange} label={label} status={status} />;
    case "duration_pair":
      return (
        <Space size={4} wrap>
          <DurationInput value={pair[0] as Duration} onChange={(v) => setAt(0, v)} label={t("builder.valueFrom", { label })} status={status} />
          <span aria-hidden="true">{t("builder.and")}</span>
          <DurationInput value={pair[1] as Duration} onChange={(v) => setAt(1, v)} label={t("builder.valueTo", { label })} status={status} />
        </Space>
      );
    case "age_range":
      return (
        <Space size={4} wrap>
          {[0, 1].map((i) => (
            <Labelled key={i} label={t(i === 0 ? "builder.ageFrom" : "builder.ageTo", { label })}>
              {(id) => (
                <InputNumber
                  id={id}
                  min={0}
                  max={150}
                  precision={0}
                  disabled={readOnly}
                  status={status || (typeof pair[i] === "number" ? "" : "warning")}
                  value={typeof pair[i] === "number" ? (pair[i] as number) : null}
                  onChange={(v) => setAt(i, v)}
                  style={{ width: 80 }}
                />
              )}
            </Labelled>
          ))}
          <span>{t("builder.yearsOld")}</span>
        </Space>
      );
    default:
      return <JsonInput value={value} onChange={onChange} label={label} />;
  }
}

/** Any JSON value, for shapes and kinds the console has no form for. */
export function JsonInput({
  value,
  onChange,
  label,
}: {
  value: unknown;
  onChange: (next: unknown) => void;
  label: string;
}) {
  const { t } = useI18n();
  const { readOnly } = useBuilder();
  const shown = useMemo(() => JSON.stringify(value ?? null, null, 2), [value]);
  const [draft, setDraft] = useState<string | null>(null);
  const [invalid, setInvalid] = useState(false);
  return (
    <div className="json-input">
      <Labelled label={label}>
        {(id) => (
          <Input.TextArea
            id={id}
            disabled={readOnly}
            value={draft ?? shown}
            status={invalid ? "error" : ""}
            autoSize={{ minRows: 2, maxRows: 12 }}
            onChange={(e) => {
              setDraft(e.target.value);
              try {
                onChange(JSON.parse(e.target.value));
                setInvalid(false);
              } catch {
                setInvalid(true);
              }
            }}
            onBlur={() => {
              if (!invalid) setDraft(null);
            }}
            style={{ fontFamily: "monospace", minWidth: 320 }}
          />
        )}
      </Labelled>
      {invalid ? <div className="field-error">{t("builder.jsonInvalid")}</div> : null}
    </div>
  );
}

/** An operator among those the reference allows here. */
export function OperatorSelect({
  operators,
  value,
  onChange,
  label,
}: {
  operators: OperatorRef[];
  value: string;
  onChange: (key: string) => void;
  label: string;
}) {
  const { readOnly } = useBuilder();
  const labels = useLabels();
  const known = operators.some((o) => o.key === value);
  const options = operators.map((o) => ({ value: o.key, label: labels.op(o) }));
  if (value && !known) options.unshift({ value, label: labels.opKey(value) });
  return (
    <Labelled label={label}>
      {(id) => (
        <Select
          id={id}
          disabled={readOnly}
          status={value && !known ? "error" : ""}
          value={value || undefined}
          onChange={onChange}
          options={options}
          popupMatchSelectWidth={false}
          style={{ minWidth: 150 }}
        />
      )}
    </Labelled>
  );
}

type WindowMode = "ever" | "last" | "between";

function windowMode(w: Window | undefined): WindowMode {
  if (w?.last) return "last";
  if (w?.since || w?.until) return "between";
  return "ever";
}

/** A time window: ever, the last N units, or between two dates (either may be left open). */
export function WindowInput({
  value,
  onChange,
  label,
}: {
  value: Window | undefined;
  onChange: (next: Window) => void;
  label: string;
}) {
  const { t } = useI18n();
  const { readOnly } = useBuilder();
  const mode = windowMode(value);
  const choose = (next: WindowMode) => {
    if (next === "ever") onChange({});
    if (next === "last") onChange({ last: { amount: 7, unit: "days" } });
    if (next === "between") onChange({ since: isoFromDayjs(dayjs().subtract(30, "day").startOf("day")), until: null });
  };
  return (
    <Space size={4} wrap>
      <Labelled label={label}>
        {(id) => (
          <Select<WindowMode>
            id={id}
            disabled={readOnly}
            value={mode}
            onChange={choose}
            options={[
              { value: "ever", label: t("builder.window.ever") },
              { value: "last", label: t("builder.window.last") },
              { value: "between", label: t("builder.window.between") },
            ]}
            popupMatchSelectWidth={false}
            style={{ minWidth: 120 }}
          />
        )}
      </Labelled>
      {mode === "last" ? (
        <DurationInput value={value?.last} onChange={(last) => onChange({ last })} label={label} />
      ) : null}
      {mode === "between" ? (
        <>
          <Labelled label={t("builder.window.since", { label })}>
            {(id) => (
              <DatePicker
                id={id}
                disabled={readOnly}
                showTime={{ format: "HH:mm" }}
                format="YYYY-MM-DD HH:mm"
                placeholder={t("builder.window.open")}
                value={dayjsFrom(value?.since)}
                onChange={(d) => onChange({ since: isoFromDayjs(d), until: value?.until ?? null })}
              />
            )}
          </Labelled>
          <span aria-hidden="true">→</span>
          <Labelled label={t("builder.window.until", { label })}>
            {(id) => (
              <DatePicker
                id={id}
                disabled={readOnly}
                showTime={{ format: "HH:mm" }}
                format="YYYY-MM-DD HH:mm"
                placeholder={t("builder.window.open")}
                value={dayjsFrom(value?.until)}
                onChange={(d) => onChange({ since: value?.since ?? null, until: isoFromDayjs(d) })}
              />
            )}
          </Labelled>
        </>
      ) : null}
    </Space>
  );
}

/** Property filters of event conditions (`where`): property, compared as, operator, value. */
export function WhereEditor({
  value,
  onChange,
  label,
  event,
}: {
  value: PropertyFilter[] | undefined;
  onChange: (next: PropertyFilter[]) => void;
  label: string;
  /** The event filtered: its properties are offered. */
  event: string | null | undefined;
}) {
  const { t } = useI18n();
  const { ref, readOnly } = useBuilder();
  const labels = useLabels();
  const filters = value ?? [];
  const set = (i: number, f: PropertyFilter) => onChange(filters.map((old, j) => (j === i ? f : old)));

  const add = () => onChange([...filters, { property: "", operator: "eq", value: "" }]);

  return (
    <div className="where-editor" role="group" aria-label={t("builder.where", { label })}>
      {filters.map((f, i) => {
        const type = propertyTypeOf(f.value);
        const operators = propertyOperators(ref, type);
        const op = findOperator(ref, f.operator);
        const n = i + 1;
        const rowLabel = t("builder.filterN", { label, n });
        const retyped = (base: PropertyFilter, next: PropertyType) => {
          let node: PropertyFilter = { ...base };
          const valid = propertyOperators(ref, next);
          if (!valid.some((o) => o.key === f.operator)) node = withOperator(node, ref, valid[0]?.key ?? "eq", next);
          const shape = findOperator(ref, node.operator)?.value;
          if (shape !== "none") node.value = convertValue(node.value, next);
          // A filter without a value (is set) is compared as text; a type needs a value.
          if (shape === "none" && next !== "string") node = withOperator(node, ref, "eq", next);
          // the value carries the type: an empty number would read back as text
          if (next === "number" && (node.value === null || node.value === undefined)) node.value = 0;
          return node;
        };
        const changeType = (next: PropertyType) => set(i, retyped(f, next));
        const pick = (name: string, types: string[]) => {
          // a property that holds numbers (or yes/no) is compared as one
          const seenType = PROPERTY_TYPES.find((p) => p === types[0]);
          const named = { ...f, property: name };
          set(i, seenType && seenType !== type ? retyped(named, seenType) : named);
        };
        return (
          <div className="where-row" role="group" aria-label={rowLabel} key={i}>
            <Labelled label={t("builder.property", { label: rowLabel })}>
              {(id) => (
                <PropertyInput
                  id={id}
                  event={event}
                  value={f.property}
                  onChange={(property) => set(i, { ...f, property })}
                  onPick={pick}
                  width={150}
                />
              )}
            </Labelled>
            <Labelled label={t("builder.propertyType", { label: rowLabel })}>
              {(id) => (
                <Select<PropertyType>
                  id={id}
                  disabled={readOnly || op?.value === "none"}
                  value={type}
                  onChange={changeType}
                  options={PROPERTY_TYPES.map((p) => ({ value: p, label: labels.valueType(p) }))}
                  popupMatchSelectWidth={false}
                  style={{ minWidth: 90 }}
                />
              )}
            </Labelled>
            <OperatorSelect
              operators={operators}
              value={f.operator}
              onChange={(key) => set(i, withOperator(f, ref, key, type))}
              label={t("builder.operator", { label: rowLabel })}
            />
            <ValueInput
              shape={op?.value}
              type={type}
              value={f.value}
              onChange={(v) => set(i, { ...f, value: v })}
              label={t("builder.value", { label: rowLabel })}
            />
            {readOnly ? null : (
              <Button
                type="text"
                icon={<DeleteOutlined />}
                aria-label={t("builder.removeFilter", { label: rowLabel })}
                onClick={() => onChange(filters.filter((_, j) => j !== i))}
              />
            )}
          </div>
        );
      })}
      {readOnly ? null : (
        <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={add} aria-label={t("builder.addFilterTo", { label })}>
          {t("builder.addFilter")}
        </Button>
      )}
    </div>
  );
}
