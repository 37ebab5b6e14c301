import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Button,
  Checkbox,
  Drawer,
  Form,
  Input,
  InputNumber,
  message as antMessage,
  Modal,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  type TableColumnsType,
} from "antd";
import {
  CheckCircleOutlined,
  CopyOutlined,
  DeleteOutlined,
  EditOutlined,
  KeyOutlined,
  MinusCircleOutlined,
  PlusOutlined,
  SafetyCertificateOutlined,
} from "@ant-design/icons";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { isMessageKey, useI18n } from "../../i18n";
import "../../i18n/settings";
import {
  emptySecrets,
  fieldsOf,
  secretsBody,
  settingsBody,
  settingsValues,
  settingText,
  type FieldSpec,
  type FieldValue,
  type FormValues,
  type Problems,
} from "./channelForm";
import {
  errorPath,
  settingsKeys,
  useIsAdmin,
  type Channel,
  type ChannelKind,
  type Provider,
  type ProviderName,
} from "./common";
import "./settings.css";

type Verified = { ok: true } | { ok: false; text: string };

export function useFieldText() {
  const { t } = useI18n();
  return {
    label: (f: FieldSpec) => {
      const key = `channels.field.${f.name}`;
      return isMessageKey(key) ? t(key) : f.title;
    },
    hint: (f: FieldSpec, secret: boolean) => {
      const key = secret ? `channels.secretHint.${f.name}` : `channels.hint.${f.name}`;
      return isMessageKey(key) ? t(key) : f.description;
    },
  };
}

/** Header rows (name, value) of a `map` field. */
function PairsInput({
  id,
  value,
  onChange,
  label,
  secret,
}: {
  id: string;
  value: [string, string][];
  onChange: (rows: [string, string][]) => void;
  label: string;
  secret: boolean;
}) {
  const { t } = useI18n();
  const set = (i: number, row: [string, string]) => onChange(value.map((r, j) => (j === i ? row : r)));
  return (
    <div id={id}>
      {value.map(([name, text], i) => (
        <div className="pairs-row" key={i}>
          <Input
            aria-label={t("channels.headerNameN", { field: label, n: i + 1 })}
            placeholder={t("channels.headerName")}
            value={name}
            autoComplete="off"
            onChange={(e) => set(i, [e.target.value, text])}
          />
          {secret ? (
            <Input.Password
              aria-label={t("channels.headerValueN", { field: label, n: i + 1 })}
              placeholder={t("channels.headerValue")}
              value={text}
              autoComplete="new-password"
              onChange={(e) => set(i, [name, e.target.value])}
            />
          ) : (
            <Input
              aria-label={t("channels.headerValueN", { field: label, n: i + 1 })}
              placeholder={t("channels.headerValue")}
              value={text}
              autoComplete="off"
              onChange={(e) => set(i, [name, e.target.value])}
            />
          )}
          <Button
            icon={<MinusCircleOutlined />}
            aria-label={t("channels.removeHeader", { field: label, n: i + 1 })}
            onClick={() => onChange(value.filter((_, j) => j !== i))}
          />
        </div>
      ))}
      <Button size="small" icon={<PlusOutlined />} onClick={() => onChange([...value, ["", ""]])}>
        {t("channels.addHeader")}
      </Button>
    </div>
  );
}

/**
 * One input per schema field. Secrets are write-only: their inputs start empty whatever is
 * stored, and say whether a value is set ("leave blank to keep it").
 */
export function SchemaFields({
  fields,
  values,
  onChange,
  prefix,
  secret,
  isSet,
  errors,
  fieldText,
}: {
  fields: FieldSpec[];
  values: FormValues;
  onChange: (name: string, value: FieldValue) => void;
  prefix: string;
  secret: boolean;
  isSet?: (name: string) => boolean;
  errors: Record<string, string | undefined>;
  /** Labels and hints of the fields (default: the channel catalog's, else the schema's) */
  fieldText?: ReturnType<typeof useFieldText>;
}) {
  const { t } = useI18n();
  const channelText = useFieldText();
  const text = fieldText ?? channelText;
  return (
    <>
      {fields.map((f) => {
        const id = `${prefix}-${f.name}`;
        const value = values[f.name] ?? null;
        const label = text.label(f);
        const stored = secret && isSet?.(f.name);
        const placeholder = secret
          ? stored
            ? t("channels.secretKept")
            : f.required
              ? undefined
              : f.name === "signing_secret"
                ? t("channels.secretGenerated")
                : t("channels.secretNotSet")
          : f.example
            ? t("channels.example", { example: f.example })
            : undefined;
        const error = errors[f.name];
        let input;
        switch (f.kind) {
          case "boolean":
            input = <Switch id={id} checked={value === true} onChange={(v) => onChange(f.name, v)} />;
            break;
          case "integer":
          case "number":
            input = (
              <InputNumber
                id={id}
                value={typeof value === "number" ? value : null}
                min={f.min ?? (f.above !== undefined ? f.above : undefined)}
                max={f.max}
                precision={f.kind === "integer" ? 0 : undefined}
                placeholder={f.default !== undefined && f.default !== null ? String(f.default) : undefined}
                onChange={(v) => onChange(f.name, v ?? null)}
                style={{ width: 180 }}
              />
            );
            break;
          case "enum":
            input = (
              <Select
                id={id}
                value={typeof value === "string" && value ? value : undefined}
                allowClear={f.nullable}
                onChange={(v?: string) => onChange(f.name, v ?? "")}
                options={(f.options ?? []).map((o) => ({ value: o, label: o }))}
              />
            );
            break;
          case "map":
            input = (
              <PairsInput id={id} label={label} secret={secret} value={Array.isArray(value) ? value : []} onChange={(rows) => onChange(f.name, rows)} />
            );
            break;
          case "text":
          case "json":
            input = (
              <Input.TextArea
                id={id}
                value={typeof value === "string" ? value : ""}
                placeholder={placeholder}
                autoSize={{ minRows: 3, maxRows: 10 }}
                spellCheck={false}
                autoComplete="off"
                className="key-value"
                onChange={(e) => onChange(f.name, e.target.value)}
              />
            );
            break;
          default:
            input = secret ? (
              <Input.Password
                id={id}
                value={typeof value === "string" ? value : ""}
                placeholder={placeholder}
                autoComplete="new-password"
                onChange={(e) => onChange(f.name, e.target.value)}
              />
            ) : (
              <Input
                id={id}
                value={typeof value === "string" ? value : ""}
                placeholder={placeholder}
                maxLength={f.maxLength}
                autoComplete="off"
                onChange={(e) => onChange(f.name, e.target.value)}
              />
            );
        }
        const hint = text.hint(f, secret);
        return (
          <Form.Item
            key={f.name}
            label={label}
            htmlFor={f.kind === "map" ? undefined : id}
            required={f.required && !stored}
            validateStatus={error ? "error" : undefined}
            help={error}
            extra={
              error ? undefined : (
                <>
                  {hint}
                  {secret ? (
                    <span className="secret-note">
                      {stored ? t("channels.secretIsSet") : t("channels.secretIsNotSet")}
                    </span>
                  ) : null}
                </>
              )
            }
          >
            {input}
          </Form.Item>
        );
      })}
    </>
  );
}

/** Settings most channels keep at their defaults: shown folded, under "Advanced". */
const ADVANCED = new Set(["helo_name", "connections", "verify_tls", "ca_pem", "timeout", "max_messages_per_connection", "base_url"]);

function isAdvanced(f: FieldSpec): boolean {
  return ADVANCED.has(f.name) && !f.required;
}

interface Draft {
  name: string;
  provider: string;
  is_default: boolean;
  rate_limit: number | null;
  settings: FormValues;
  secrets: FormValues;
}

function ChannelForm({
  channel,
  providers,
  onDone,
}: {
  channel: Channel | null;
  providers: Provider[];
  onDone: (saved?: Channel) => void;
}) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const first = channel?.provider ?? providers.find((p) => p.name === "smtp")?.name ?? providers[0]?.name ?? "";
  const specsOf = (name: string) => {
    const p = providers.find((x) => x.name === name);
    return { settings: fieldsOf(p?.settings_schema), secrets: fieldsOf(p?.secrets_schema) };
  };
  const [draft, setDraft] = useState<Draft>(() => {
    const specs = specsOf(first);
    return {
      name: channel?.name ?? "",
      provider: first,
      is_default: channel?.is_default ?? false,
      rate_limit: channel?.rate_limit ?? null,
      settings: settingsValues(specs.settings, channel?.settings),
      secrets: emptySecrets(specs.secrets),
    };
  });
  const specs = useMemo(() => specsOf(draft.provider), [draft.provider, providers]); // eslint-disable-line react-hooks/exhaustive-deps
  const provider = providers.find((p) => p.name === draft.provider);
  const isSet = (name: string) => channel?.secrets_set.includes(name) ?? false;
  const [problems, setProblems] = useState<{ settings: Problems; secrets: Problems; name: boolean }>({
    settings: {},
    secrets: {},
    name: false,
  });

  const save = useMutation({
    mutationFn: (body: { settings: Record<string, unknown>; secrets: Record<string, unknown> }) => {
      if (channel) {
        return unwrap(
          api.PATCH("/api/v1/channels/{channel_id}", {
            params: { path: { channel_id: channel.id } },
            body: {
              name: draft.name.trim(),
              settings: body.settings,
              // a blank secret is not sent: the stored one stays
              ...(Object.keys(body.secrets).length ? { secrets: body.secrets } : {}),
              ...(draft.is_default && !channel.is_default ? { is_default: true } : {}),
              rate_limit: draft.rate_limit,
            },
          }),
        );
      }
      return unwrap(
        api.POST("/api/v1/channels", {
          body: {
            name: draft.name.trim(),
            provider: draft.provider as ProviderName,
            settings: body.settings,
            secrets: body.secrets,
            is_default: draft.is_default,
            rate_limit: draft.rate_limit,
          },
        }),
      );
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: settingsKeys.channels(ws) });
      onDone(saved);
    },
  });

  // where the server's refusal belongs: "settings.host: …" on that field, a taken name on the name
  const path = errorPath(save.error);
  const nameTaken = save.error instanceof ApiError && save.error.code === "channel_exists";
  const serverField = (section: "settings" | "secrets", name: string) =>
    path === `${section}.${name}` || path?.startsWith(`${section}.${name}.`) || path?.startsWith(`${section}.${name}[`)
      ? (save.error as ApiError).message
      : undefined;
  const fieldErrors = (section: "settings" | "secrets") => {
    const out: Record<string, string | undefined> = {};
    for (const f of specs[section]) {
      const problem = problems[section][f.name];
      out[f.name] = problem ? t(problem.key) : serverField(section, f.name);
    }
    return out;
  };
  const mapped =
    nameTaken ||
    path === "name" ||
    specs.settings.some((f) => serverField("settings", f.name)) ||
    specs.secrets.some((f) => serverField("secrets", f.name));
  const nameError = problems.name
    ? t("channels.nameRequired")
    : nameTaken
      ? t("channels.exists")
      : path === "name" && save.error instanceof ApiError
        ? save.error.message
        : undefined;

  const settingErrors = fieldErrors("settings");
  const advanced = specs.settings.filter(isAdvanced);

  const submit = () => {
    const s = settingsBody(specs.settings, draft.settings);
    const x = secretsBody(specs.secrets, draft.secrets, isSet);
    const next = { settings: s.problems, secrets: x.problems, name: !draft.name.trim() };
    setProblems(next);
    if (next.name || Object.keys(s.problems).length || Object.keys(x.problems).length) return;
    save.mutate({ settings: s.body, secrets: x.body });
  };
  const set = (patch: Partial<Draft>) => {
    save.reset();
    setDraft((d) => ({ ...d, ...patch }));
  };
  const chooseProvider = (name: string) => {
    const next = specsOf(name);
    set({ provider: name, settings: settingsValues(next.settings), secrets: emptySecrets(next.secrets) });
    setProblems({ settings: {}, secrets: {}, name: problems.name });
  };

  return (
    <Form layout="vertical" component="form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
      <Form.Item label={t("channels.name")} htmlFor="channel-name" required validateStatus={nameError ? "error" : undefined} help={nameError}>
        <Input id="channel-name" value={draft.name} maxLength={100} autoComplete="off" onChange={(e) => set({ name: e.target.value })} />
      </Form.Item>
      <Form.Item
        label={t("channels.provider")}
        htmlFor="channel-provider"
        extra={provider ? `${t(`channels.kind.${provider.kind as ChannelKind}`)} · ${provider.description}` : undefined}
      >
        <Select
          id="channel-provider"
          value={draft.provider}
          disabled={channel !== null}
          onChange={chooseProvider}
          options={providers.map((p) => ({
            value: p.name,
            label: `${t(`channels.kind.${p.kind as ChannelKind}`)} — ${p.name}`,
          }))}
        />
      </Form.Item>
      <Form.Item extra={channel?.is_default ? t("channels.isDefaultHint") : t("channels.defaultHint")}>
        <Checkbox checked={draft.is_default} disabled={channel?.is_default} onChange={(e) => set({ is_default: e.target.checked })}>
          {t("channels.makeDefault")}
        </Checkbox>
      </Form.Item>
      <Form.Item label={t("channels.rateLimit")} htmlFor="channel-rate" extra={t("channels.rateLimitHint")}>
        <InputNumber
          id="channel-rate"
          min={0.01}
          value={draft.rate_limit}
          placeholder={t("policy.noLimit")}
          onChange={(v) => set({ rate_limit: v ?? null })}
          style={{ width: 180 }}
        />
      </Form.Item>
      {specs.settings.length ? (
        <section aria-labelledby="channel-settings-title">
          <h2 id="channel-settings-title" className="section-title">
            {t("channels.settings")}
          </h2>
          <SchemaFields
            fields={specs.settings.filter((f) => !isAdvanced(f))}
            values={draft.settings}
            prefix="setting"
            secret={false}
            errors={settingErrors}
            onChange={(name, value) => set({ settings: { ...draft.settings, [name]: value } })}
          />
          {advanced.length ? (
            <details className="advanced-fields" open={advanced.some((f) => settingErrors[f.name]) || undefined}>
              <summary>{t("channels.advanced")}</summary>
              <SchemaFields
                fields={advanced}
                values={draft.settings}
                prefix="setting"
                secret={false}
                errors={settingErrors}
                onChange={(name, value) => set({ settings: { ...draft.settings, [name]: value } })}
              />
            </details>
          ) : null}
        </section>
      ) : null}
      {specs.secrets.length ? (
        <section aria-labelledby="channel-secrets-title">
          <h2 id="channel-secrets-title" className="section-title">
            {t("channels.secrets")}
          </h2>
          <p className="text-secondary">{channel ? t("channels.secretsEditIntro") : t("channels.secretsIntro")}</p>
          <SchemaFields
            fields={specs.secrets}
            values={draft.secrets}
            prefix="secret"
            secret
            isSet={isSet}
            errors={fieldErrors("secrets")}
            onChange={(name, value) => set({ secrets: { ...draft.secrets, [name]: value } })}
          />
        </section>
      ) : null}
      {!specs.settings.length && !specs.secrets.length ? <p className="text-secondary">{t("channels.nothingToConfigure")}</p> : null}
      {save.error && !mapped ? (
        <Alert type="error" showIcon className="page-alert" title={t("channels.saveFailed")} description={errorText(save.error, t)} />
      ) : null}
      <Space>
        <Button type="primary" htmlType="submit" loading={save.isPending}>
          {channel ? t("common.save") : t("channels.create")}
        </Button>
        <Button onClick={() => onDone()}>{t("common.cancel")}</Button>
      </Space>
    </Form>
  );
}

/** A webhook's signing secret, fetched when asked and shown in a modal mounted only while open. */
function SigningSecretModal({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  return (
    <SecretRevealModal
      name={channel.name}
      onClose={onClose}
      load={() =>
        unwrap(api.GET("/api/v1/channels/{channel_id}/signing-secret", { params: { path: { channel_id: channel.id } } }))
      }
    />
  );
}

/** A signing secret (a channel's, a CRM webhook's), fetched by `load` only when the user asks. */
export function SecretRevealModal({
  name,
  onClose,
  load,
}: {
  name: string;
  onClose: () => void;
  load: () => Promise<{ signing_secret?: string | null }>;
}) {
  const { t } = useI18n();
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const reveal = useMutation({
    mutationFn: load,
    onSuccess: (answer) => setSecret(answer.signing_secret ?? null),
  });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret ?? "");
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
  };
  return (
    <Modal
      open
      title={t("channels.signingTitle", { name })}
      onCancel={onClose}
      destroyOnHidden
      footer={<Button onClick={onClose}>{t("channels.close")}</Button>}
    >
      <p>{t("channels.signingIntro")}</p>
      {secret === null ? (
        <>
          {reveal.error ? <Alert type="error" showIcon className="page-alert" title={errorText(reveal.error, t)} /> : null}
          <Button icon={<KeyOutlined />} onClick={() => reveal.mutate()} loading={reveal.isPending}>
            {t("channels.signingShow")}
          </Button>
          <p className="text-secondary" style={{ marginTop: 8 }}>
            {t("channels.signingAudited")}
          </p>
        </>
      ) : (
        <>
          <label htmlFor="signing-secret" className="field-label">
            {t("channels.signingSecret")}
          </label>
          <Space.Compact style={{ width: "100%" }}>
            <Input id="signing-secret" readOnly value={secret} className="key-value" onFocus={(e) => e.target.select()} />
            <Button icon={<CopyOutlined />} onClick={() => void copy()}>
              {t("keys.copy")}
            </Button>
          </Space.Compact>
          <p role="status" aria-live="polite" className="text-secondary" style={{ marginTop: 8, minHeight: 22 }}>
            {copied === "yes" ? t("keys.copied") : copied === "failed" ? t("keys.copyFailed") : ""}
          </p>
        </>
      )}
    </Modal>
  );
}

/** The channel's settings as text, with which secrets are set (never their values). */
function ChannelDetails({ channel, provider }: { channel: Channel; provider: Provider | undefined }) {
  const { t } = useI18n();
  const text = useFieldText();
  const fields = fieldsOf(provider?.settings_schema);
  const names = fields.length ? fields.map((f) => f.name) : Object.keys(channel.settings);
  const secretFields = fieldsOf(provider?.secrets_schema);
  return (
    <dl className="settings-summary">
      {names.map((name) => {
        const spec = fields.find((f) => f.name === name);
        const value = settingText(channel.settings[name]);
        return (
          <div key={name} style={{ display: "contents" }}>
            <dt>{spec ? text.label(spec) : name}</dt>
            <dd>{value || <span className="text-secondary">{t("common.none")}</span>}</dd>
          </div>
        );
      })}
      {secretFields.length ? (
        <>
          <dt>{t("channels.secrets")}</dt>
          <dd>
            {secretFields
              .map((f) => `${text.label(f)}: ${channel.secrets_set.includes(f.name) ? t("channels.secretIsSet") : t("channels.secretIsNotSet")}`)
              .join(" · ")}
          </dd>
        </>
      ) : null}
      <dt>{t("channels.reportUrl")}</dt>
      <dd className="report-url">{channel.report_url}</dd>
    </dl>
  );
}

export default function ChannelsPage() {
  const { t } = useI18n();
  const isAdmin = useIsAdmin();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [editing, setEditing] = useState<Channel | "new" | null>(null);
  const [signing, setSigning] = useState<Channel | null>(null);
  const [verified, setVerified] = useState<Record<number, Verified>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const query = useQuery({
    queryKey: settingsKeys.channels(ws),
    queryFn: () => unwrap(api.GET("/api/v1/channels")),
  });
  const providers = useQuery({
    queryKey: settingsKeys.providers,
    queryFn: () => unwrap(api.GET("/api/v1/channels/providers")),
    staleTime: Infinity,
  });
  const providerOf = (channel: Channel) => providers.data?.data.find((p) => p.name === channel.provider);

  const verify = useMutation({
    mutationFn: (channel: Channel) =>
      unwrap(api.POST("/api/v1/channels/{channel_id}/verify", { params: { path: { channel_id: channel.id } } })),
    onSuccess: (_, channel) => {
      setVerified((v) => ({ ...v, [channel.id]: { ok: true } }));
      void message.success(t("channels.verifiedOk", { name: channel.name }));
    },
    onError: (error, channel) => {
      setVerified((v) => ({ ...v, [channel.id]: { ok: false, text: errorText(error, t) } }));
    },
  });

  const resume = useMutation({
    mutationFn: (channel: Channel) =>
      unwrap(api.PATCH("/api/v1/channels/{channel_id}", { params: { path: { channel_id: channel.id } }, body: { resume: true } })),
    onSuccess: (saved) => {
      setFailure(null);
      void queryClient.invalidateQueries({ queryKey: settingsKeys.channels(ws) });
      void message.success(t("channels.resumed", { name: saved.name }));
    },
    onError: (error) => setFailure(error),
  });

  const remove = useMutation({
    mutationFn: (channel: Channel) =>
      unwrap(api.DELETE("/api/v1/channels/{channel_id}", { params: { path: { channel_id: channel.id } } })),
    onSuccess: (_, channel) => {
      setFailure(null);
      void queryClient.invalidateQueries({ queryKey: settingsKeys.channels(ws) });
      void message.success(t("channels.deleted", { name: channel.name }));
    },
    onError: (error) => setFailure(error),
  });

  const confirmDelete = (channel: Channel) =>
    void modal.confirm({
      title: t("channels.deleteConfirm", { name: channel.name }),
      content: t("channels.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => remove.mutateAsync(channel).catch(() => undefined),
    });

  const columns: TableColumnsType<Channel> = [
    {
      title: t("channels.col.name"),
      dataIndex: "name",
      render: (name: string, channel) => (
        <>
          {name}
          {channel.is_default ? (
            <Tag className="tag-default" style={{ marginInlineStart: 8 }}>
              {t("channels.default")}
            </Tag>
          ) : null}
        </>
      ),
    },
    { title: t("channels.col.kind"), dataIndex: "kind", render: (k: ChannelKind) => t(`channels.kind.${k}`) },
    { title: t("channels.col.provider"), dataIndex: "provider", render: (p: string) => <code>{p}</code> },
    {
      title: t("channels.col.status"),
      key: "status",
      render: (_: unknown, channel) => {
        const paused = channel.paused_until && new Date(channel.paused_until).getTime() > Date.now();
        const check = verified[channel.id];
        return (
          <Space orientation="vertical" size={2}>
            {paused ? (
              <span>
                <Tag className="tag-warn">{t("channels.paused")}</Tag>
                {t("channels.pausedUntil")} <DateTime value={channel.paused_until} />
                {channel.pause_reason ? <span className="verify-result text-secondary">{channel.pause_reason}</span> : null}
              </span>
            ) : (
              <Tag className="tag-ok">{t("channels.active")}</Tag>
            )}
            {check ? (
              check.ok ? (
                <span role="status" className="verified">
                  <CheckCircleOutlined /> {t("channels.verified")}
                </span>
              ) : (
                <span role="alert" className="verify-result field-error">
                  {t("channels.verifyFailed")} {check.text}
                </span>
              )
            ) : null}
          </Space>
        );
      },
    },
    {
      title: t("channels.col.rate"),
      dataIndex: "rate_limit",
      render: (rate: number | null) => (rate ? t("policy.perSecond", { n: rate }) : t("policy.noLimit")),
    },
    { title: t("channels.col.updated"), dataIndex: "updated_at", render: (v: string) => <DateTime value={v} /> },
  ];
  if (isAdmin) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, channel) => {
        const provider = providerOf(channel);
        const paused = channel.paused_until && new Date(channel.paused_until).getTime() > Date.now();
        return (
          <Space size={4} wrap>
            {provider?.verify ? (
              <Button
                size="small"
                icon={<SafetyCertificateOutlined />}
                loading={verify.isPending && verify.variables?.id === channel.id}
                aria-label={t("channels.verifyOf", { name: channel.name })}
                onClick={() => verify.mutate(channel)}
              >
                {t("channels.verify")}
              </Button>
            ) : null}
            {paused ? (
              <Button size="small" onClick={() => resume.mutate(channel)} aria-label={t("channels.resumeOf", { name: channel.name })}>
                {t("channels.resume")}
              </Button>
            ) : null}
            {channel.provider === "webhook" ? (
              <Button
                size="small"
                icon={<KeyOutlined />}
                aria-label={t("channels.signingOf", { name: channel.name })}
                onClick={() => setSigning(channel)}
              />
            ) : null}
            <Button size="small" icon={<EditOutlined />} aria-label={t("channels.edit", { name: channel.name })} onClick={() => setEditing(channel)} />
            <Button
              size="small"
              danger
              icon={<DeleteOutlined />}
              aria-label={t("channels.delete", { name: channel.name })}
              onClick={() => confirmDelete(channel)}
            />
          </Space>
        );
      },
    });
  }

  return (
    <>
      {modalHolder}
      {messageHolder}
      <div className="page-head">
        <PageTitle title={t("channels.title")}>{t("channels.title")}</PageTitle>
        {isAdmin ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")} disabled={!providers.data}>
            {t("channels.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("channels.intro")}</p>
      {failure ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          role="alert"
          closable={{ onClose: () => setFailure(null) }}
          title={t("channels.changeFailed")}
          description={errorText(failure, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {providers.isError ? <ErrorAlert error={providers.error} onRetry={() => void providers.refetch()} /> : null}
      <Table<Channel>
        rowKey="id"
        columns={columns}
        dataSource={query.data?.data ?? []}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("channels.empty") }}
        expandable={{
          expandedRowRender: (channel) => <ChannelDetails channel={channel} provider={providerOf(channel)} />,
        }}
      />
      {!isAdmin ? <p className="text-secondary">{t("settings.adminsOnly")}</p> : null}
      <Drawer
        open={editing !== null && isAdmin}
        onClose={() => setEditing(null)}
        title={editing === "new" ? t("channels.newTitle") : editing ? t("channels.editTitle", { name: editing.name }) : ""}
        size={600}
        destroyOnHidden
      >
        {editing !== null && providers.data ? (
          <ChannelForm
            key={editing === "new" ? "new" : editing.id}
            channel={editing === "new" ? null : editing}
            providers={providers.data.data}
            onDone={(saved) => {
              setEditing(null);
              if (saved) {
                setVerified(({ [saved.id]: _dropped, ...rest }) => rest);
                void message.success(t("channels.saved", { name: saved.name }));
              }
            }}
          />
        ) : null}
      </Drawer>
      {signing ? <SigningSecretModal channel={signing} onClose={() => setSigning(null)} /> : null}
    </>
  );
}
