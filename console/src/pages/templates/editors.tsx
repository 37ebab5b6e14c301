import { useId, useState, type ReactNode } from "react";
import { Button, Form, Input, Radio, Space } from "antd";
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { useI18n, type MessageKey } from "../../i18n";
import { LiquidInput } from "./LiquidInput";
import type { TemplateChannel, TemplateFields } from "./model";
import { SmsCounter } from "./SmsCounter";

export interface FieldsEditorProps {
  fields: TemplateFields;
  onChange: (fields: TemplateFields) => void;
  /** A message per field (`subject`, `data`…): from the server, or a JSON field that does not parse. */
  errors: Record<string, string>;
  /** A JSON field's text parses (null) or not (the message). */
  onJsonError: (field: string, message: string | null) => void;
  readOnly: boolean;
  /** The plain-text part the server derived from the body, to start one's own from. */
  derivedText?: string;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** A field whose control is not a labelable element (a code editor): the label gets an id. */
function CodeField({
  label,
  labelId,
  error,
  help,
  required,
  children,
}: {
  label: string;
  labelId: string;
  error?: string;
  help?: ReactNode;
  required?: boolean;
  children: ReactNode;
}) {
  return (
    <Form.Item
      label={<span id={labelId}>{label}</span>}
      required={required}
      validateStatus={error ? "error" : undefined}
      help={error ? <span id={`${labelId}-error`}>{error}</span> : help}
    >
      {children}
    </Form.Item>
  );
}

function useIds(prefix: string) {
  const base = useId().replace(/:/g, "");
  return (name: string) => `${prefix}-${name}-${base}`;
}

export function EmailFields({ fields, onChange, errors, derivedText }: FieldsEditorProps) {
  const { t } = useI18n();
  const id = useIds("email");
  const format = fields.format === "html" ? "html" : "mjml";
  const ownText = typeof fields.text === "string";
  const set = (name: string, value: unknown) => onChange({ ...fields, [name]: value });
  return (
    <>
      <CodeField label={t("template.subject")} labelId={id("subject")} error={errors.subject} required>
        <LiquidInput
          singleLine
          value={str(fields.subject)}
          onChange={(v) => set("subject", v)}
          language="text"
          labelledBy={id("subject")}
          describedBy={errors.subject ? `${id("subject")}-error` : undefined}
          invalid={!!errors.subject}
          testId="field-subject"
        />
      </CodeField>
      <CodeField
        label={t("template.preheader")}
        labelId={id("preheader")}
        error={errors.preheader}
        help={<span id={`${id("preheader")}-help`}>{t("template.preheaderHint")}</span>}
      >
        <LiquidInput
          singleLine
          value={str(fields.preheader)}
          onChange={(v) => set("preheader", v)}
          language="text"
          labelledBy={id("preheader")}
          describedBy={errors.preheader ? `${id("preheader")}-error` : `${id("preheader")}-help`}
          invalid={!!errors.preheader}
          testId="field-preheader"
        />
      </CodeField>
      <Form.Item label={t("template.format")} htmlFor={id("format")}>
        <Radio.Group
          id={id("format")}
          optionType="button"
          value={format}
          onChange={(e) => set("format", e.target.value)}
          options={[
            { value: "mjml", label: "MJML" },
            { value: "html", label: "HTML" },
          ]}
        />
        <div className="text-secondary field-note">{format === "mjml" ? t("template.formatMjml") : t("template.formatHtml")}</div>
      </Form.Item>
      <CodeField
        label={t("template.body")}
        labelId={id("body")}
        error={errors.body}
        required
        help={<span id={`${id("body")}-help`}>{t("template.bodyHint")}</span>}
      >
        <LiquidInput
          value={str(fields.body)}
          onChange={(v) => set("body", v)}
          language={format}
          code
          labelledBy={id("body")}
          describedBy={errors.body ? `${id("body")}-error` : `${id("body")}-help`}
          invalid={!!errors.body}
          minLines={16}
          maxLines={32}
          testId="field-body"
        />
      </CodeField>
      <Form.Item label={t("template.text")} htmlFor={id("text-mode")}>
        <Radio.Group
          id={id("text-mode")}
          value={ownText ? "own" : "derived"}
          onChange={(e) => {
            if (e.target.value === "own") set("text", derivedText ?? "");
            else {
              const { text: _dropped, ...rest } = fields;
              onChange(rest);
            }
          }}
          options={[
            { value: "derived", label: t("template.textDerived") },
            { value: "own", label: t("template.textOwn") },
          ]}
        />
      </Form.Item>
      {ownText ? (
        <CodeField label={t("template.textPart")} labelId={id("text")} error={errors.text}>
          <LiquidInput
            value={str(fields.text)}
            onChange={(v) => set("text", v)}
            language="text"
            labelledBy={id("text")}
            describedBy={errors.text ? `${id("text")}-error` : undefined}
            invalid={!!errors.text}
            minLines={6}
            maxLines={20}
            testId="field-text"
          />
        </CodeField>
      ) : null}
    </>
  );
}

export function SmsFields({ fields, onChange, errors }: FieldsEditorProps) {
  const { t } = useI18n();
  const id = useIds("sms");
  const text = str(fields.text);
  return (
    <CodeField label={t("template.smsText")} labelId={id("text")} error={errors.text} required help={<SmsCounter id={id("count")} text={text} source />}>
      <LiquidInput
        value={text}
        onChange={(v) => onChange({ ...fields, text: v })}
        language="text"
        labelledBy={id("text")}
        describedBy={errors.text ? `${id("text")}-error` : id("count")}
        invalid={!!errors.text}
        minLines={5}
        maxLines={14}
        placeholder={t("template.smsPlaceholder")}
        testId="field-text"
      />
    </CodeField>
  );
}

/** Title and body (push, in-app). */
function TitleBody({ fields, onChange, errors, prefix }: FieldsEditorProps & { prefix: string }) {
  const { t } = useI18n();
  const id = useIds(prefix);
  return (
    <>
      <CodeField label={t("template.title")} labelId={id("title")} error={errors.title} required>
        <LiquidInput
          singleLine
          value={str(fields.title)}
          onChange={(v) => onChange({ ...fields, title: v })}
          language="text"
          labelledBy={id("title")}
          describedBy={errors.title ? `${id("title")}-error` : undefined}
          invalid={!!errors.title}
          testId="field-title"
        />
      </CodeField>
      <CodeField label={t("template.messageBody")} labelId={id("body")} error={errors.body} required>
        <LiquidInput
          value={str(fields.body)}
          onChange={(v) => onChange({ ...fields, body: v })}
          language="text"
          labelledBy={id("body")}
          describedBy={errors.body ? `${id("body")}-error` : undefined}
          invalid={!!errors.body}
          minLines={3}
          maxLines={10}
          testId="field-body"
        />
      </CodeField>
    </>
  );
}

export function PushFields(props: FieldsEditorProps) {
  const { t } = useI18n();
  const { fields, onChange, errors } = props;
  const id = useIds("push");
  return (
    <>
      <TitleBody {...props} prefix="push" />
      <CodeField
        label={t("template.image")}
        labelId={id("image")}
        error={errors.image}
        help={<span id={`${id("image")}-help`}>{t("template.imageHint")}</span>}
      >
        <LiquidInput
          singleLine
          value={str(fields.image)}
          onChange={(v) => onChange({ ...fields, image: v })}
          language="text"
          labelledBy={id("image")}
          describedBy={errors.image ? `${id("image")}-error` : `${id("image")}-help`}
          invalid={!!errors.image}
          placeholder="https://"
        />
      </CodeField>
      <KeyValueField
        label={t("template.pushData")}
        hint={t("template.pushDataHint")}
        value={fields.data}
        onChange={(data) => onChange({ ...fields, data })}
        error={errors.data}
        readOnly={props.readOnly}
      />
    </>
  );
}

export function WechatFields(props: FieldsEditorProps) {
  const { t } = useI18n();
  const { fields, onChange, errors, readOnly } = props;
  const id = useIds("wechat");
  return (
    <>
      <Form.Item
        label={t("template.wechatTemplateId")}
        htmlFor={id("template")}
        required
        validateStatus={errors.template_id ? "error" : undefined}
        help={errors.template_id ?? t("template.wechatTemplateIdHint")}
      >
        <Input
          id={id("template")}
          value={str(fields.template_id)}
          readOnly={readOnly}
          onChange={(e) => onChange({ ...fields, template_id: e.target.value })}
          autoComplete="off"
          spellCheck={false}
        />
      </Form.Item>
      <CodeField
        label={t("template.wechatUrl")}
        labelId={id("url")}
        error={errors.url}
        help={<span id={`${id("url")}-help`}>{t("template.wechatUrlHint")}</span>}
      >
        <LiquidInput
          singleLine
          value={str(fields.url)}
          onChange={(v) => onChange({ ...fields, url: v })}
          language="text"
          labelledBy={id("url")}
          describedBy={errors.url ? `${id("url")}-error` : `${id("url")}-help`}
          invalid={!!errors.url}
          placeholder="https://"
        />
      </CodeField>
      <KeyValueField
        label={t("template.wechatData")}
        hint={t("template.wechatDataHint")}
        value={fields.data}
        onChange={(data) => onChange({ ...fields, data })}
        error={errors.data}
        readOnly={readOnly}
      />
    </>
  );
}

export function InappFields(props: FieldsEditorProps) {
  const { t } = useI18n();
  return (
    <>
      <TitleBody {...props} prefix="inapp" />
      <JsonField
        name="data"
        label={t("template.inappData")}
        hint={t("template.inappDataHint")}
        value={props.fields.data ?? {}}
        onChange={(data) => props.onChange({ ...props.fields, data })}
        error={props.errors.data}
        onJsonError={props.onJsonError}
        objectOnly
      />
    </>
  );
}

export function WebhookFields(props: FieldsEditorProps) {
  const { t } = useI18n();
  return (
    <JsonField
      name="payload"
      label={t("template.payload")}
      hint={t("template.payloadHint")}
      value={props.fields.payload ?? {}}
      onChange={(payload) => props.onChange({ ...props.fields, payload })}
      error={props.errors.payload}
      onJsonError={props.onJsonError}
      required
    />
  );
}

export const FIELD_EDITORS: Record<TemplateChannel, (props: FieldsEditorProps) => ReactNode> = {
  email: EmailFields,
  sms: SmsFields,
  push: PushFields,
  wechat: WechatFields,
  inapp: InappFields,
  webhook: WebhookFields,
};

/** JSON whose strings may hold Liquid (in-app data, webhook payloads). */
function JsonField({
  name,
  label,
  hint,
  value,
  onChange,
  error,
  onJsonError,
  objectOnly,
  required,
}: {
  name: string;
  label: string;
  hint: string;
  value: unknown;
  onChange: (value: unknown) => void;
  error?: string;
  onJsonError: (field: string, message: string | null) => void;
  objectOnly?: boolean;
  required?: boolean;
}) {
  const { t } = useI18n();
  const id = useIds("json");
  const [text, setText] = useState(() => JSON.stringify(value, null, 2));
  const [parseError, setParseError] = useState<string | null>(null);
  const shown = parseError ?? error;
  return (
    <CodeField label={label} labelId={id(name)} error={shown} required={required} help={<span id={`${id(name)}-help`}>{hint}</span>}>
      <LiquidInput
        value={text}
        onChange={(next) => {
          setText(next);
          let problem: string | null = null;
          let parsed: unknown;
          try {
            parsed = JSON.parse(next);
            if (objectOnly && (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))) {
              problem = t("template.jsonObject");
            }
          } catch (err) {
            problem = t("template.jsonInvalid", { error: err instanceof Error ? err.message : String(err) });
          }
          setParseError(problem);
          onJsonError(name, problem);
          if (problem === null) onChange(parsed);
        }}
        language="text"
        code
        labelledBy={id(name)}
        describedBy={shown ? `${id(name)}-error` : `${id(name)}-help`}
        invalid={!!shown}
        minLines={6}
        maxLines={20}
        testId={`field-${name}`}
      />
    </CodeField>
  );
}

/** An object of strings (push data, WeChat template data): one row per key. */
function KeyValueField({
  label,
  hint,
  value,
  onChange,
  error,
  readOnly,
}: {
  label: string;
  hint: string;
  value: unknown;
  onChange: (value: Record<string, string>) => void;
  error?: string;
  readOnly: boolean;
}) {
  const { t } = useI18n();
  const id = useIds("kv");
  // The rows are the source of truth once shown (the page remounts the editor on a reset).
  const [rows, setRows] = useState(() =>
    Object.entries(value && typeof value === "object" ? (value as Record<string, unknown>) : {}).map(([k, v]) => ({
      key: k,
      value: typeof v === "string" ? v : JSON.stringify(v),
    })),
  );
  const duplicates = rows.map((r) => r.key.trim()).filter((k, i, all) => k && all.indexOf(k) !== i);
  const emit = (next: { key: string; value: string }[]) => {
    setRows(next);
    const out: Record<string, string> = {};
    for (const r of next) if (r.key.trim()) out[r.key.trim()] = r.value;
    onChange(out);
  };
  const rowLabel = (n: number, part: MessageKey) => `${label} ${n}: ${t(part)}`;
  return (
    <Form.Item
      label={<span id={id("label")}>{label}</span>}
      validateStatus={error || duplicates.length ? "error" : undefined}
      help={duplicates.length ? t("template.duplicateKey", { key: duplicates[0] ?? "" }) : (error ?? hint)}
    >
      <div role="group" aria-labelledby={id("label")} className="kv-rows">
        {rows.map((row, i) => (
          <Space key={i} className="kv-row" align="start" wrap>
            <Input
              aria-label={rowLabel(i + 1, "template.key")}
              className="kv-key"
              value={row.key}
              readOnly={readOnly}
              spellCheck={false}
              onChange={(e) => emit(rows.map((r, j) => (j === i ? { ...r, key: e.target.value } : r)))}
            />
            <Input
              aria-label={rowLabel(i + 1, "template.value")}
              className="kv-value"
              value={row.value}
              readOnly={readOnly}
              onChange={(e) => emit(rows.map((r, j) => (j === i ? { ...r, value: e.target.value } : r)))}
            />
            {readOnly ? null : (
              <Button
                type="text"
                icon={<DeleteOutlined />}
                aria-label={t("template.removeRow", { n: i + 1 })}
                onClick={() => emit(rows.filter((_, j) => j !== i))}
              />
            )}
          </Space>
        ))}
        {readOnly ? null : (
          <Button size="small" icon={<PlusOutlined />} onClick={() => setRows([...rows, { key: "", value: "" }])}>
            {t("template.addRow")}
          </Button>
        )}
      </div>
    </Form.Item>
  );
}
