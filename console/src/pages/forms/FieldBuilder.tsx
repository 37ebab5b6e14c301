import { useRef, useState } from "react";
import { AutoComplete, Button, Checkbox, Dropdown, Input, Select, Space, Tooltip } from "antd";
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, HolderOutlined, PlusOutlined } from "@ant-design/icons";
import { useI18n, type MessageKey } from "../../i18n";
import {
  FIELD_TYPES,
  PROFILE_FIELDS,
  UTM_NAMES,
  move,
  moveTo,
  newField,
  uid,
  type DraftConsent,
  type DraftField,
  type FieldType,
} from "./model";

export interface TopicOption {
  id: number;
  name: string;
}

const PROBLEM_KEYS: Record<string, MessageKey> = {
  name: "fb.field.error.name",
  duplicate: "fb.field.error.duplicate",
  options: "fb.field.error.options",
  type: "fb.field.error.type",
};

interface Props {
  fields: DraftField[];
  onFields: (next: DraftField[]) => void;
  consent: DraftConsent[];
  onConsent: (next: DraftConsent[]) => void;
  topics: TopicOption[];
  attributes: string[];
  readOnly: boolean;
  problems: Map<string, string>;
  showProblems: boolean;
}

/** The fields and consent boxes of a form: add, edit, reorder (drag, or the up/down buttons), remove. */
export function FieldBuilder({ fields, onFields, consent, onConsent, topics, attributes, readOnly, problems, showProblems }: Props) {
  const { t } = useI18n();
  const [dragging, setDragging] = useState<number | null>(null);
  const [announce, setAnnounce] = useState("");
  const list = useRef<HTMLOListElement>(null);
  const update = (i: number, change: Partial<DraftField>) => onFields(fields.map((f, j) => (j === i ? { ...f, ...change } : f)));
  const label = (f: DraftField, i: number) => f.label?.trim() || f.name || t("fb.field.n", { n: i + 1 });

  const shift = (i: number, delta: number) => {
    const moved = move(fields, i, delta);
    if (moved === fields) return;
    onFields(moved);
    setAnnounce(t("fb.moved", { field: label(fields[i]!, i), position: i + delta + 1, total: fields.length }));
    // keep the focus on the same button of the moved field
    const which = delta < 0 ? "up" : "down";
    requestAnimationFrame(() => {
      const target = list.current?.querySelector<HTMLButtonElement>(`[data-field="${fields[i]!.uid}"] [data-move="${which}"]:not([disabled])`)
        ?? list.current?.querySelector<HTMLButtonElement>(`[data-field="${fields[i]!.uid}"] [data-move]:not([disabled])`);
      target?.focus();
    });
  };

  const nameOptions = (type: FieldType) => {
    if (type === "email") return [{ value: "email" }];
    if (type === "tel") return [{ value: "phone" }];
    if (type === "hidden") return UTM_NAMES.map((n) => ({ value: n }));
    const profile = type === "text" ? ["first_name", "last_name"] : [];
    return [...profile, ...attributes.filter((a) => !PROFILE_FIELDS[a])].map((n) => ({ value: n }));
  };

  return (
    <div className="field-builder">
      <h2 className="section-title" id="builder-fields">{t("fb.fields")}</h2>
      <p className="visually-hidden" aria-live="polite">{announce}</p>
      <ol className="field-list" ref={list} aria-labelledby="builder-fields">
        {fields.map((f, i) => {
          const problem = showProblems ? problems.get(f.uid) : undefined;
          const id = `field-${f.uid}`;
          return (
            <li
              key={f.uid}
              data-field={f.uid}
              className={`field-row${dragging === i ? " is-dragging" : ""}`}
              onDragOver={(e) => {
                if (dragging !== null) e.preventDefault();
              }}
              onDrop={(e) => {
                e.preventDefault();
                if (dragging !== null && dragging !== i) {
                  onFields(moveTo(fields, dragging, i));
                  setAnnounce(t("fb.moved", { field: label(fields[dragging]!, dragging), position: i + 1, total: fields.length }));
                }
                setDragging(null);
              }}
            >
              <div className="field-row-head">
                {!readOnly ? (
                  <span
                    className="drag-handle"
                    draggable
                    aria-hidden="true"
                    title={t("fb.drag")}
                    onDragStart={(e) => {
                      e.dataTransfer.effectAllowed = "move";
                      e.dataTransfer.setData("text/plain", f.uid);
                      setDragging(i);
                    }}
                    onDragEnd={() => setDragging(null)}
                  >
                    <HolderOutlined />
                  </span>
                ) : null}
                <strong className="field-row-title">{t("fb.field.n", { n: i + 1 })}: {t(`fb.type.${f.type}` as MessageKey)}</strong>
                {!readOnly ? (
                  <Space size={4} className="field-row-actions">
                    <Tooltip title={t("fb.up")}>
                      <Button size="small" icon={<ArrowUpOutlined />} data-move="up" disabled={i === 0} aria-label={t("fb.upField", { field: label(f, i) })} onClick={() => shift(i, -1)} />
                    </Tooltip>
                    <Tooltip title={t("fb.down")}>
                      <Button size="small" icon={<ArrowDownOutlined />} data-move="down" disabled={i === fields.length - 1} aria-label={t("fb.downField", { field: label(f, i) })} onClick={() => shift(i, 1)} />
                    </Tooltip>
                    <Tooltip title={t("fb.remove")}>
                      <Button size="small" danger icon={<DeleteOutlined />} aria-label={t("fb.removeField", { field: label(f, i) })} onClick={() => onFields(fields.filter((_, j) => j !== i))} />
                    </Tooltip>
                  </Space>
                ) : null}
              </div>
              <div className="field-row-body">
                <div className="field-cell">
                  <label htmlFor={`${id}-type`}>{t("fb.field.type")}</label>
                  <Select
                    id={`${id}-type`}
                    value={f.type}
                    disabled={readOnly}
                    onChange={(type: FieldType) => {
                      const fresh = newField(type, fields.filter((_, j) => j !== i).map((x) => x.name));
                      update(i, { type, name: PROFILE_FIELDS[f.name] && PROFILE_FIELDS[f.name] !== type ? fresh.name : type === "email" || type === "tel" ? fresh.name : f.name, options: fresh.options, value: null, required: type === "hidden" ? false : f.required });
                    }}
                    options={FIELD_TYPES.map((type) => ({ value: type, label: t(`fb.type.${type}` as MessageKey) }))}
                  />
                </div>
                {f.type !== "hidden" ? (
                  <div className="field-cell field-cell-wide">
                    <label htmlFor={`${id}-label`}>{t("fb.field.label")}</label>
                    <Input id={`${id}-label`} value={f.label ?? ""} maxLength={500} disabled={readOnly} onChange={(e) => update(i, { label: e.target.value })} />
                  </div>
                ) : null}
                <div className="field-cell">
                  <label htmlFor={`${id}-name`}>{t("fb.field.name")}</label>
                  <AutoComplete
                    id={`${id}-name`}
                    value={f.name}
                    disabled={readOnly || f.type === "email" || f.type === "tel"}
                    options={nameOptions(f.type)}
                    onChange={(v: string) => update(i, { name: v.toLowerCase() })}
                    status={problem ? "error" : undefined}
                    aria-describedby={problem ? `${id}-problem` : undefined}
                  />
                </div>
                {f.type === "hidden" ? (
                  <div className="field-cell">
                    <label htmlFor={`${id}-value`}>{t("fb.field.default")}</label>
                    <Input id={`${id}-value`} value={f.value ?? ""} maxLength={1000} disabled={readOnly} onChange={(e) => update(i, { value: e.target.value })} />
                  </div>
                ) : (
                  <div className="field-cell field-cell-check">
                    <Checkbox checked={!!f.required} disabled={readOnly} onChange={(e) => update(i, { required: e.target.checked })}>
                      {t("fb.field.required")}
                    </Checkbox>
                  </div>
                )}
                {f.type === "select" ? (
                  <div className="field-cell field-cell-full">
                    <label htmlFor={`${id}-options`}>{t("fb.field.options")}</label>
                    <Input.TextArea
                      id={`${id}-options`}
                      value={(f.options ?? []).join("\n")}
                      disabled={readOnly}
                      autoSize={{ minRows: 2, maxRows: 8 }}
                      onChange={(e) => update(i, { options: e.target.value.split("\n") })}
                    />
                  </div>
                ) : null}
              </div>
              <p className="text-secondary field-hint">
                {f.type === "hidden" ? t("fb.hidden.hint", { name: f.name || "utm_source" }) : PROFILE_FIELDS[f.name] ? t("fb.mapsProfile") : t("fb.mapsTrait", { name: f.name || "…" })}
              </p>
              {problem ? (
                <p className="field-error" id={`${id}-problem`} role="alert">
                  {t(PROBLEM_KEYS[problem] ?? "fb.field.error.name", { name: f.name })}
                </p>
              ) : null}
            </li>
          );
        })}
      </ol>
      {!readOnly ? (
        <Dropdown
          trigger={["click"]}
          menu={{
            items: FIELD_TYPES.map((type) => ({ key: type, label: t(`fb.type.${type}` as MessageKey) })),
            onClick: ({ key }) => onFields([...fields, newField(key as FieldType, fields.map((f) => f.name))]),
          }}
        >
          <Button icon={<PlusOutlined />}>{t("fb.addField")}</Button>
        </Dropdown>
      ) : null}

      <h2 className="section-title" id="builder-consent">{t("fb.consent")}</h2>
      <p className="text-secondary field-hint">{t("fb.consent.hint")}</p>
      <ol className="field-list" aria-labelledby="builder-consent">
        {consent.map((c, i) => {
          const id = `consent-${c.uid}`;
          const set = (change: Partial<DraftConsent>) => onConsent(consent.map((x, j) => (j === i ? { ...x, ...change } : x)));
          return (
            <li key={c.uid} className="field-row">
              <div className="field-row-head">
                <strong className="field-row-title">{t("fb.consent.n", { n: i + 1 })}</strong>
                {!readOnly ? (
                  <Button size="small" danger icon={<DeleteOutlined />} aria-label={t("fb.removeConsent", { n: i + 1 })} onClick={() => onConsent(consent.filter((_, j) => j !== i))} />
                ) : null}
              </div>
              <div className="field-row-body">
                <div className="field-cell">
                  <label htmlFor={`${id}-topic`}>{t("fb.consent.topic")}</label>
                  <Select
                    id={`${id}-topic`}
                    value={c.topic_id || undefined}
                    disabled={readOnly}
                    onChange={(v: number) => set({ topic_id: v, label: c.label || t("fb.consent.defaultLabel", { topic: topics.find((x) => x.id === v)?.name ?? "" }) })}
                    options={topics.map((x) => ({ value: x.id, label: x.name, disabled: consent.some((o, j) => j !== i && o.topic_id === x.id) }))}
                    placeholder={t("fb.consent.pickTopic")}
                  />
                </div>
                <div className="field-cell field-cell-wide">
                  <label htmlFor={`${id}-label`}>{t("fb.consent.label")}</label>
                  <Input.TextArea id={`${id}-label`} value={c.label} maxLength={2000} disabled={readOnly} autoSize={{ minRows: 1, maxRows: 4 }} onChange={(e) => set({ label: e.target.value })} />
                </div>
                <div className="field-cell">
                  <label htmlFor={`${id}-version`}>{t("fb.consent.version")}</label>
                  <Input id={`${id}-version`} value={c.wording_version ?? "1"} maxLength={64} disabled={readOnly} onChange={(e) => set({ wording_version: e.target.value })} />
                </div>
                <div className="field-cell field-cell-check">
                  <Checkbox checked={!!c.required} disabled={readOnly} onChange={(e) => set({ required: e.target.checked })}>
                    {t("fb.consent.required")}
                  </Checkbox>
                </div>
              </div>
            </li>
          );
        })}
      </ol>
      {!readOnly ? (
        <Button
          icon={<PlusOutlined />}
          disabled={topics.length === 0 || consent.length >= Math.min(20, topics.length)}
          onClick={() => onConsent([...consent, { uid: uid(), topic_id: 0, label: "", wording_version: "1", required: false }])}
        >
          {t("fb.addConsent")}
        </Button>
      ) : null}
      {topics.length === 0 ? <p className="text-secondary field-hint">{t("fb.noTopics")}</p> : null}
    </div>
  );
}
