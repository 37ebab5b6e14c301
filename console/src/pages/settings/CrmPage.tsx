import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  AutoComplete,
  Button,
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
import {
  CheckCircleOutlined,
  DeleteOutlined,
  EditOutlined,
  KeyOutlined,
  MinusCircleOutlined,
  PlusOutlined,
  SafetyCertificateOutlined,
  SyncOutlined,
} from "@ant-design/icons";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { isMessageKey, useI18n, type MessageKey } from "../../i18n";
import { useSegments } from "../segments/queries";
import { emptySecrets, fieldsOf, secretsBody, settingsBody, settingsValues, settingText, type FieldSpec, type FormValues, type Problems } from "./channelForm";
import { SchemaFields, SecretRevealModal } from "./ChannelsPage";
import { errorPath, useIsAdmin } from "./common";
import {
  ACCOUNT_FIELDS,
  ACCOUNT_SETTINGS,
  accountScoreSources,
  CONTACT_FIELDS,
  isPaused,
  mappingBody,
  mappingErrorRow,
  scopeBody,
  scopeProblem,
  SYNC_SCOPES,
  type CrmConnection,
  type CrmProvider,
  type CrmProviderName,
  type MappingRow,
  type ScopeDraft,
  type SyncScope,
} from "./crmForm";
import "../../i18n/settings";
import "../../i18n/leadSettings";
import "./settings.css";

export const crmKeys = {
  connections: (ws: number | null) => ["crm-connections", ws] as const,
  providers: ["crm-providers"] as const,
};

type Verified = { ok: true } | { ok: false; text: string };

/** Labels and hints of the CRM settings: ours, else the channel catalog's, else the schema's. */
function useCrmFieldText() {
  const { t } = useI18n();
  const pick = (keys: string[], fallback: string) => {
    for (const key of keys) if (isMessageKey(key)) return t(key);
    return fallback;
  };
  return {
    label: (f: FieldSpec) => pick([`crm.field.${f.name}`, `channels.field.${f.name}`], f.title),
    hint: (f: FieldSpec, secret: boolean) =>
      pick(secret ? [`crm.secretHint.${f.name}`] : [`crm.hint.${f.name}`], f.description),
  };
}

export function useProviderName() {
  const { t } = useI18n();
  return (name: string) => (isMessageKey(`crm.provider.${name}`) ? t(`crm.provider.${name}` as MessageKey) : name);
}

function useAttributeNames() {
  const ws = useWorkspaceKey();
  return useQuery({
    queryKey: ["attributes", ws],
    queryFn: () => unwrap(api.GET("/api/v1/attributes")),
    staleTime: 60_000,
  });
}

/** The score models whose account roll-ups an account mapping may read (`scores.<key>.sum`). */
function useScoreModels() {
  const ws = useWorkspaceKey();
  return useQuery({
    queryKey: ["score-models", ws],
    queryFn: () => unwrap(api.GET("/api/v1/score-models")),
    staleTime: 60_000,
  });
}

function useStages() {
  const ws = useWorkspaceKey();
  return useQuery({
    queryKey: ["lifecycle-stages", ws],
    queryFn: () => unwrap(api.GET("/api/v1/contacts/lifecycle-stages")),
    staleTime: 60_000,
  });
}

/** The source fields a contact mapping offers: contact fields and custom attributes. */
function useContactSources() {
  const attributes = useAttributeNames();
  return useMemo(
    () => [...CONTACT_FIELDS.map((f) => ({ value: f })), ...(attributes.data?.data ?? []).map((a) => ({ value: `traits.${a.name}` }))],
    [attributes.data],
  );
}

/** The source fields an account mapping offers: account fields and score roll-ups (any `traits.<name>` may be typed). */
function useAccountSources() {
  const models = useScoreModels();
  return useMemo(
    () => [...ACCOUNT_FIELDS, ...accountScoreSources((models.data?.data ?? []).filter((m) => !m.is_default).map((m) => m.key))].map((value) => ({ value })),
    [models.data],
  );
}

/** Kairos field → CRM property rows, of contacts or (`kind` account) of accounts. */
function MappingEditor({
  kind = "contact",
  rows,
  onChange,
  problems,
  defaults,
  serverError,
}: {
  kind?: "contact" | "account";
  rows: MappingRow[];
  onChange: (rows: MappingRow[]) => void;
  problems: number[];
  defaults: MappingRow[];
  /** A 422 about the mapping: its message, and the row it names (null: the mapping as a whole). */
  serverError?: { row: number | null; text: string };
}) {
  const { t } = useI18n();
  const contactSources = useContactSources();
  const accountSources = useAccountSources();
  const sources = kind === "account" ? accountSources : contactSources;
  const k = (suffix: string) => `crm.${kind === "account" ? "accountMapping" : "mapping"}${suffix}` as MessageKey;
  const rowError = (i: number, side: string) =>
    (problems.includes(i) && !side.trim()) || serverError?.row === i ? ("error" as const) : undefined;
  const set = (i: number, patch: Partial<MappingRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="plain-fieldset">
      <legend className="section-title crm-legend">{t(k(""))}</legend>
      <p className="text-secondary">{t(k("Intro"))}</p>
      <div className="mapping-head" aria-hidden="true">
        <span>{t(k("Source"))}</span>
        <span>{t(k("Target"))}</span>
      </div>
      {rows.map((row, i) => (
        <div className="pairs-row" key={i}>
          <AutoComplete
            aria-label={t(k("SourceN"), { n: i + 1 })}
            value={row.source}
            options={sources}
            style={{ flex: 1 }}
            status={rowError(i, row.source)}
            onChange={(v: string) => set(i, { source: v })}
            filterOption={(input, o) => String(o?.value ?? "").toLowerCase().includes(input.toLowerCase())}
          />
          <span aria-hidden="true" className="mapping-arrow">
            →
          </span>
          <Input
            aria-label={t(k("TargetN"), { n: i + 1 })}
            value={row.target}
            style={{ flex: 1 }}
            status={rowError(i, row.target)}
            onChange={(e) => set(i, { target: e.target.value })}
          />
          <Button icon={<MinusCircleOutlined />} aria-label={t(k("Remove"), { n: i + 1 })} onClick={() => onChange(rows.filter((_, j) => j !== i))} />
        </div>
      ))}
      {problems.length ? (
        <p className="field-error" role="alert">
          {t("crm.mappingIncomplete")}
        </p>
      ) : null}
      {serverError ? (
        <p className="field-error" role="alert">
          {serverError.text}
        </p>
      ) : null}
      <Space>
        <Button size="small" icon={<PlusOutlined />} onClick={() => onChange([...rows, { source: "", target: "" }])}>
          {t(k("Add"))}
        </Button>
        <Button size="small" onClick={() => onChange(defaults.map((d) => ({ ...d })))}>
          {t(k("Default"))}
        </Button>
      </Space>
    </fieldset>
  );
}

interface Draft {
  name: string;
  provider: CrmProviderName;
  enabled: boolean;
  settings: FormValues;
  secrets: FormValues;
  mapping: MappingRow[];
  scope: ScopeDraft;
  push: boolean;
  pull: boolean;
  pollMinutes: number | null;
  pushAccounts: boolean;
  accountMapping: MappingRow[];
}

function ConnectionForm({
  connection,
  providers,
  onDone,
}: {
  connection: CrmConnection | null;
  providers: CrmProvider[];
  onDone: (saved?: CrmConnection) => void;
}) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const providerName = useProviderName();
  const fieldText = useCrmFieldText();
  const segments = useSegments();
  const stages = useStages();
  const specsOf = (name: string) => {
    const p = providers.find((x) => x.name === name);
    return { settings: fieldsOf(p?.settings_schema), secrets: fieldsOf(p?.secrets_schema), provider: p };
  };
  const [draft, setDraft] = useState<Draft>(() => {
    const first = (connection?.provider ?? providers[0]?.name ?? "webhook") as CrmProviderName;
    const specs = specsOf(first);
    return {
      name: connection?.name ?? "",
      provider: first,
      enabled: connection?.enabled ?? true,
      settings: settingsValues(specs.settings, connection?.settings),
      secrets: emptySecrets(specs.secrets),
      mapping: (connection?.field_mapping ?? specs.provider?.default_mapping ?? []).map((m) => ({ ...m })),
      scope: { scope: connection?.sync_scope ?? "all", segmentId: connection?.segment_id ?? null, stages: connection?.lifecycle_stages ?? [] },
      push: connection?.push_contacts ?? true,
      pull: connection?.pull_deals ?? (specs.provider?.deals ?? false),
      pollMinutes: connection ? Math.round(connection.poll_interval / 60) : 5,
      pushAccounts: connection?.push_accounts ?? true,
      accountMapping: (connection?.account_mapping ?? specs.provider?.default_account_mapping ?? []).map((m) => ({ ...m })),
    };
  });
  const specs = useMemo(() => specsOf(draft.provider), [draft.provider, providers]); // eslint-disable-line react-hooks/exhaustive-deps
  const isSet = (name: string) => connection?.secrets_set.includes(name) ?? false;
  const [problems, setProblems] = useState<{
    settings: Problems;
    secrets: Problems;
    name: boolean;
    mapping: number[];
    accountMapping: number[];
    scope: ReturnType<typeof scopeProblem>;
  }>({
    settings: {},
    secrets: {},
    name: false,
    mapping: [],
    accountMapping: [],
    scope: null,
  });
  // the rows the sent account mapping came from (a 422 names an entry by its sent index)
  const [sentAccountRows, setSentAccountRows] = useState<number[]>([]);

  const save = useMutation({
    mutationFn: (body: { settings: Record<string, unknown>; secrets: Record<string, unknown>; mapping: MappingRow[]; accountMapping: MappingRow[] }) => {
      const common = {
        name: draft.name.trim(),
        settings: body.settings,
        field_mapping: body.mapping,
        push_accounts: draft.pushAccounts,
        account_mapping: body.accountMapping,
        ...scopeBody(draft.scope),
        push_contacts: draft.push,
        pull_deals: specs.provider?.deals ? draft.pull : false,
        poll_interval: Math.min(86_400, Math.max(60, Math.round((draft.pollMinutes ?? 5) * 60))),
        enabled: draft.enabled,
      };
      if (connection) {
        return unwrap(
          api.PATCH("/api/v1/crm-connections/{connection_id}", {
            params: { path: { connection_id: connection.id } },
            // a blank secret is not sent: the stored one stays (secrets are replaced, never shown)
            body: { ...common, ...(Object.keys(body.secrets).length ? { secrets: body.secrets } : {}) },
          }),
        );
      }
      return unwrap(api.POST("/api/v1/crm-connections", { body: { ...common, provider: draft.provider, secrets: body.secrets } }));
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: crmKeys.connections(ws) });
      onDone(saved);
    },
  });

  const path = errorPath(save.error);
  const nameTaken = save.error instanceof ApiError && save.error.code === "crm_connection_exists";
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
  const accountMappingError =
    save.error instanceof ApiError && save.error.code === "invalid_account_mapping"
      ? { row: mappingErrorRow(path, "account_mapping", sentAccountRows), text: save.error.message }
      : undefined;
  const mapped =
    nameTaken ||
    accountMappingError !== undefined ||
    specs.settings.some((f) => serverField("settings", f.name)) ||
    specs.secrets.some((f) => serverField("secrets", f.name));
  const connectionSettings = specs.settings.filter((f) => !ACCOUNT_SETTINGS.has(f.name));
  const accountSettings = specs.settings.filter((f) => ACCOUNT_SETTINGS.has(f.name));
  const nameError = problems.name ? t("crm.nameRequired") : nameTaken ? t("crm.exists") : undefined;

  const submit = () => {
    const s = settingsBody(specs.settings, draft.settings);
    const x = secretsBody(specs.secrets, draft.secrets, isSet);
    const m = mappingBody(draft.mapping);
    const a = mappingBody(draft.accountMapping);
    const next = {
      settings: s.problems,
      secrets: x.problems,
      name: !draft.name.trim(),
      mapping: m.problems,
      accountMapping: a.problems,
      scope: scopeProblem(draft.scope),
    };
    setProblems(next);
    if (next.name || next.scope || m.problems.length || a.problems.length || Object.keys(s.problems).length || Object.keys(x.problems).length) return;
    setSentAccountRows(a.rows);
    save.mutate({ settings: s.body, secrets: x.body, mapping: m.mapping, accountMapping: a.mapping });
  };
  const set = (patch: Partial<Draft>) => {
    save.reset();
    setDraft((d) => ({ ...d, ...patch }));
  };
  const chooseProvider = (name: CrmProviderName) => {
    const next = specsOf(name);
    set({
      provider: name,
      settings: settingsValues(next.settings),
      secrets: emptySecrets(next.secrets),
      mapping: (next.provider?.default_mapping ?? []).map((m) => ({ ...m })),
      accountMapping: (next.provider?.default_account_mapping ?? []).map((m) => ({ ...m })),
      pull: next.provider?.deals ?? false,
    });
    setProblems((p) => ({ ...p, settings: {}, secrets: {}, mapping: [], accountMapping: [] }));
  };
  const setScope = (patch: Partial<ScopeDraft>) => set({ scope: { ...draft.scope, ...patch } });

  return (
    <Form layout="vertical" component="form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
      <Form.Item label={t("crm.name")} htmlFor="crm-name" required validateStatus={nameError ? "error" : undefined} help={nameError}>
        <Input id="crm-name" value={draft.name} maxLength={100} autoComplete="off" onChange={(e) => set({ name: e.target.value })} />
      </Form.Item>
      <Form.Item label={t("crm.providerLabel")} htmlFor="crm-provider" extra={specs.provider?.description}>
        <Select
          id="crm-provider"
          value={draft.provider}
          disabled={connection !== null}
          onChange={chooseProvider}
          options={providers.map((p) => ({ value: p.name, label: providerName(p.name) }))}
        />
      </Form.Item>
      <Form.Item label={t("crm.enabled")} htmlFor="crm-enabled" extra={t("crm.enabledHint")}>
        <Switch id="crm-enabled" checked={draft.enabled} onChange={(enabled) => set({ enabled })} />
      </Form.Item>
      {connectionSettings.length ? (
        <section aria-labelledby="crm-settings-title">
          <h2 id="crm-settings-title" className="section-title">
            {t("crm.settings")}
          </h2>
          <SchemaFields
            fields={connectionSettings}
            values={draft.settings}
            prefix="crm-setting"
            secret={false}
            errors={fieldErrors("settings")}
            fieldText={fieldText}
            onChange={(name, value) => set({ settings: { ...draft.settings, [name]: value } })}
          />
        </section>
      ) : null}
      {specs.secrets.length ? (
        <section aria-labelledby="crm-secrets-title">
          <h2 id="crm-secrets-title" className="section-title">
            {t("crm.secrets")}
          </h2>
          <p className="text-secondary">{connection ? t("crm.secretsEditIntro") : t("crm.secretsIntro")}</p>
          <SchemaFields
            fields={specs.secrets}
            values={draft.secrets}
            prefix="crm-secret"
            secret
            isSet={isSet}
            errors={fieldErrors("secrets")}
            fieldText={fieldText}
            onChange={(name, value) => set({ secrets: { ...draft.secrets, [name]: value } })}
          />
        </section>
      ) : null}
      <MappingEditor
        rows={draft.mapping}
        problems={problems.mapping}
        defaults={specs.provider?.default_mapping ?? []}
        onChange={(mapping) => set({ mapping })}
      />
      <fieldset className="plain-fieldset">
        <legend className="section-title crm-legend">{t("crm.scope")}</legend>
        <Radio.Group
          value={draft.scope.scope}
          onChange={(e) => setScope({ scope: e.target.value as SyncScope })}
          options={SYNC_SCOPES.map((s) => ({ value: s, label: t(`crm.scope.${s}` as MessageKey) }))}
        />
        {draft.scope.scope === "segment" ? (
          <Form.Item
            label={t("crm.segment")}
            htmlFor="crm-segment"
            style={{ marginTop: 12 }}
            validateStatus={problems.scope === "segment" ? "error" : undefined}
            help={problems.scope === "segment" ? t("crm.segmentRequired") : undefined}
          >
            <Select
              id="crm-segment"
              showSearch
              optionFilterProp="label"
              value={draft.scope.segmentId ?? undefined}
              loading={segments.isPending}
              options={(segments.data?.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
              onChange={(segmentId: number) => setScope({ segmentId })}
            />
          </Form.Item>
        ) : null}
        {draft.scope.scope === "lifecycle" ? (
          <Form.Item
            label={t("crm.stages")}
            htmlFor="crm-stages"
            style={{ marginTop: 12 }}
            validateStatus={problems.scope === "stages" ? "error" : undefined}
            help={problems.scope === "stages" ? t("crm.stagesRequired") : undefined}
          >
            <Select
              id="crm-stages"
              mode="tags"
              value={draft.scope.stages}
              options={(stages.data?.data ?? []).map((s) => ({ value: s.stage, label: s.stage }))}
              onChange={(v: string[]) => setScope({ stages: v })}
            />
          </Form.Item>
        ) : null}
      </fieldset>
      <fieldset className="plain-fieldset">
        <legend className="section-title crm-legend">{t("crm.directions")}</legend>
        <Form.Item label={t("crm.push")} htmlFor="crm-push" extra={t("crm.pushHint")}>
          <Switch id="crm-push" checked={draft.push} onChange={(push) => set({ push })} />
        </Form.Item>
        <Form.Item label={t("crm.pull")} htmlFor="crm-pull" extra={specs.provider?.deals ? t("crm.pullHint") : t("crm.pullUnsupported")}>
          <Switch id="crm-pull" checked={specs.provider?.deals ? draft.pull : false} disabled={!specs.provider?.deals} onChange={(pull) => set({ pull })} />
        </Form.Item>
        {specs.provider?.deals ? (
          <Form.Item label={t("crm.pollEvery")} htmlFor="crm-poll" extra={t("crm.pollHint")}>
            <InputNumber id="crm-poll" min={1} max={1440} precision={0} value={draft.pollMinutes} onChange={(v) => set({ pollMinutes: v ?? null })} suffix={t("crm.minutes")} style={{ width: 180 }} />
          </Form.Item>
        ) : null}
      </fieldset>
      <section aria-labelledby="crm-accounts-title">
        <h2 id="crm-accounts-title" className="section-title">
          {t("crm.accounts")}
        </h2>
        {isMessageKey(`crm.accountsIntro.${draft.provider}`) ? (
          <p className="text-secondary">{t(`crm.accountsIntro.${draft.provider}` as MessageKey)}</p>
        ) : null}
        <Form.Item label={t("crm.pushAccounts")} htmlFor="crm-push-accounts" extra={t("crm.pushAccountsHint")}>
          <Switch id="crm-push-accounts" checked={draft.pushAccounts} onChange={(pushAccounts) => set({ pushAccounts })} />
        </Form.Item>
        {draft.pushAccounts ? (
          <>
            {accountSettings.length ? (
              <SchemaFields
                fields={accountSettings}
                values={draft.settings}
                prefix="crm-setting"
                secret={false}
                errors={fieldErrors("settings")}
                fieldText={fieldText}
                onChange={(name, value) => set({ settings: { ...draft.settings, [name]: value } })}
              />
            ) : null}
            <MappingEditor
              kind="account"
              rows={draft.accountMapping}
              problems={problems.accountMapping}
              defaults={specs.provider?.default_account_mapping ?? []}
              serverError={accountMappingError}
              onChange={(accountMapping) => set({ accountMapping })}
            />
          </>
        ) : null}
      </section>
      {save.error && !mapped ? (
        <Alert type="error" showIcon className="page-alert" title={t("crm.saveFailed")} description={errorText(save.error, t)} />
      ) : null}
      <Space>
        <Button type="primary" htmlType="submit" loading={save.isPending}>
          {connection ? t("common.save") : t("crm.create")}
        </Button>
        <Button onClick={() => onDone()}>{t("common.cancel")}</Button>
      </Space>
    </Form>
  );
}

/** A connection's settings, secrets (set or not, never their values), mapping and scope. */
function ConnectionDetails({ connection, provider }: { connection: CrmConnection; provider: CrmProvider | undefined }) {
  const { t } = useI18n();
  const text = useCrmFieldText();
  const segments = useSegments();
  const fields = fieldsOf(provider?.settings_schema);
  const secretFields = fieldsOf(provider?.secrets_schema);
  const scope =
    connection.sync_scope === "segment"
      ? `${t("crm.scope.segment")}: ${segments.data?.data.find((s) => s.id === connection.segment_id)?.name ?? `#${connection.segment_id ?? ""}`}`
      : connection.sync_scope === "lifecycle"
        ? `${t("crm.scope.lifecycle")}: ${connection.lifecycle_stages.join(", ")}`
        : t("crm.scope.all");
  return (
    <dl className="settings-summary">
      {fields.map((f) => {
        const value = settingText(connection.settings[f.name]);
        return (
          <div key={f.name} style={{ display: "contents" }}>
            <dt>{text.label(f)}</dt>
            <dd>{value || <span className="text-secondary">{t("common.none")}</span>}</dd>
          </div>
        );
      })}
      {secretFields.length ? (
        <>
          <dt>{t("crm.secrets")}</dt>
          <dd>
            {secretFields
              .map((f) => `${text.label(f)}: ${connection.secrets_set.includes(f.name) ? t("channels.secretIsSet") : t("channels.secretIsNotSet")}`)
              .join(" · ")}
          </dd>
        </>
      ) : null}
      <dt>{t("crm.mapping")}</dt>
      <dd>{connection.field_mapping.map((m) => `${m.source} → ${m.target}`).join(", ") || t("common.none")}</dd>
      <dt>{t("crm.scope")}</dt>
      <dd>{scope}</dd>
      <dt>{t("crm.directions")}</dt>
      <dd>
        {[connection.push_contacts ? t("crm.push") : null, connection.pull_deals ? t("crm.pull") : null, connection.push_accounts ? t("crm.pushAccounts") : null]
          .filter(Boolean)
          .join(" · ") || t("common.none")}
      </dd>
      {connection.push_accounts ? (
        <>
          <dt>{t("crm.accountMapping")}</dt>
          <dd>{(connection.account_mapping ?? []).map((m) => `${m.source} → ${m.target}`).join(", ") || t("common.none")}</dd>
        </>
      ) : null}
    </dl>
  );
}

export default function CrmPage() {
  const { t } = useI18n();
  const isAdmin = useIsAdmin();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const providerName = useProviderName();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [editing, setEditing] = useState<CrmConnection | "new" | null>(null);
  const [signing, setSigning] = useState<CrmConnection | null>(null);
  const [verified, setVerified] = useState<Record<number, Verified>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const query = useQuery({ queryKey: crmKeys.connections(ws), queryFn: () => unwrap(api.GET("/api/v1/crm-connections")) });
  const providers = useQuery({
    queryKey: crmKeys.providers,
    queryFn: () => unwrap(api.GET("/api/v1/crm-connections/providers")),
    staleTime: Infinity,
  });
  const providerOf = (c: CrmConnection) => providers.data?.data.find((p) => p.name === c.provider);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: crmKeys.connections(ws) });

  const verify = useMutation({
    mutationFn: (c: CrmConnection) => unwrap(api.POST("/api/v1/crm-connections/{connection_id}/verify", { params: { path: { connection_id: c.id } } })),
    onSuccess: (_, c) => {
      setVerified((v) => ({ ...v, [c.id]: { ok: true } }));
      void message.success(t("crm.verifiedOk", { name: c.name }));
    },
    onError: (error, c) => setVerified((v) => ({ ...v, [c.id]: { ok: false, text: errorText(error, t) } })),
  });
  const resync = useMutation({
    mutationFn: (c: CrmConnection) => unwrap(api.POST("/api/v1/crm-connections/{connection_id}/resync", { params: { path: { connection_id: c.id } } })),
    onSuccess: (answer, c) => {
      setFailure(null);
      refresh();
      void message.success(t("crm.resynced", { name: c.name, n: answer.queued }));
    },
    onError: setFailure,
  });
  const resume = useMutation({
    mutationFn: (c: CrmConnection) =>
      unwrap(api.PATCH("/api/v1/crm-connections/{connection_id}", { params: { path: { connection_id: c.id } }, body: { resume: true } })),
    onSuccess: (saved) => {
      setFailure(null);
      refresh();
      void message.success(t("crm.resumed", { name: saved.name }));
    },
    onError: setFailure,
  });
  const remove = useMutation({
    mutationFn: (c: CrmConnection) => unwrap(api.DELETE("/api/v1/crm-connections/{connection_id}", { params: { path: { connection_id: c.id } } })),
    onSuccess: (_, c) => {
      setFailure(null);
      refresh();
      void message.success(t("crm.deleted", { name: c.name }));
    },
    onError: setFailure,
  });
  const confirmDelete = (c: CrmConnection) =>
    void modal.confirm({
      title: t("crm.deleteConfirm", { name: c.name }),
      content: t("crm.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => remove.mutateAsync(c).catch(() => undefined),
    });

  const columns: TableColumnsType<CrmConnection> = [
    { title: t("crm.col.name"), dataIndex: "name" },
    { title: t("crm.col.provider"), dataIndex: "provider", render: (p: string) => providerName(p) },
    {
      title: t("crm.col.status"),
      key: "status",
      render: (_: unknown, c) => {
        const check = verified[c.id];
        return (
          <Space orientation="vertical" size={2}>
            {!c.enabled ? (
              <Tag className="tag-warn">{t("crm.disabled")}</Tag>
            ) : isPaused(c) ? (
              <span>
                <Tag className="tag-warn">{t("crm.paused")}</Tag>
                {t("crm.pausedUntil")} <DateTime value={c.paused_until} />
                {c.pause_reason ? <span className="verify-result text-secondary">{c.pause_reason}</span> : null}
              </span>
            ) : (
              <Tag className="tag-ok">{t("crm.active")}</Tag>
            )}
            {c.last_error ? (
              <span className="verify-result field-error">{t("crm.lastError", { error: c.last_error })}</span>
            ) : null}
            {check ? (
              check.ok ? (
                <span role="status" className="verified">
                  <CheckCircleOutlined /> {t("crm.verified")}
                </span>
              ) : (
                <span role="alert" className="verify-result field-error">
                  {t("crm.verifyFailed")} {check.text}
                </span>
              )
            ) : null}
          </Space>
        );
      },
    },
    {
      title: t("crm.col.sync"),
      key: "sync",
      render: (_: unknown, c) =>
        c.counts ? (
          <span className="crm-counts">
            {t("crm.counts", { synced: c.counts.synced, queued: c.counts.queued + c.counts.sending, failed: c.counts.failed })}
          </span>
        ) : null,
    },
    {
      title: t("crm.col.lastSync"),
      dataIndex: "last_synced_at",
      render: (v: string | null | undefined) => (v ? <DateTime value={v} /> : <span className="text-secondary">{t("crm.never")}</span>),
    },
  ];
  if (isAdmin) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, c) => (
        <Space size={4} wrap>
          <Button
            size="small"
            icon={<SafetyCertificateOutlined />}
            loading={verify.isPending && verify.variables?.id === c.id}
            aria-label={t("crm.verifyOf", { name: c.name })}
            onClick={() => verify.mutate(c)}
          >
            {t("crm.verify")}
          </Button>
          {c.push_contacts ? (
            <Button
              size="small"
              icon={<SyncOutlined />}
              loading={resync.isPending && resync.variables?.id === c.id}
              aria-label={t("crm.resyncOf", { name: c.name })}
              onClick={() => resync.mutate(c)}
            >
              {t("crm.resync")}
            </Button>
          ) : null}
          {isPaused(c) ? (
            <Button size="small" aria-label={t("crm.resumeOf", { name: c.name })} onClick={() => resume.mutate(c)}>
              {t("crm.resume")}
            </Button>
          ) : null}
          {c.provider === "webhook" ? (
            <Button size="small" icon={<KeyOutlined />} aria-label={t("crm.signingOf", { name: c.name })} onClick={() => setSigning(c)} />
          ) : null}
          <Button size="small" icon={<EditOutlined />} aria-label={t("crm.edit", { name: c.name })} onClick={() => setEditing(c)} />
          <Button size="small" danger icon={<DeleteOutlined />} aria-label={t("crm.delete", { name: c.name })} onClick={() => confirmDelete(c)} />
        </Space>
      ),
    });
  }

  return (
    <>
      {modalHolder}
      {messageHolder}
      <div className="page-head">
        <PageTitle title={t("crm.title")}>{t("crm.title")}</PageTitle>
        {isAdmin ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")} disabled={!providers.data}>
            {t("crm.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("crm.intro")}</p>
      {failure ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          role="alert"
          closable={{ onClose: () => setFailure(null) }}
          title={t("crm.changeFailed")}
          description={errorText(failure, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {providers.isError ? <ErrorAlert error={providers.error} onRetry={() => void providers.refetch()} /> : null}
      <Table<CrmConnection>
        rowKey="id"
        columns={columns}
        dataSource={query.data?.data ?? []}
        loading={query.isPending}
        pagination={false}
        size="middle"
        locale={{ emptyText: t("crm.empty") }}
        expandable={{ expandedRowRender: (c) => <ConnectionDetails connection={c} provider={providerOf(c)} /> }}
      />
      {!isAdmin ? <p className="text-secondary">{t("crm.adminsOnly")}</p> : null}
      <Drawer
        open={editing !== null && isAdmin}
        onClose={() => setEditing(null)}
        title={editing === "new" ? t("crm.newTitle") : editing ? t("crm.editTitle", { name: editing.name }) : ""}
        size={640}
        destroyOnHidden
      >
        {editing !== null && providers.data ? (
          <ConnectionForm
            key={editing === "new" ? "new" : editing.id}
            connection={editing === "new" ? null : editing}
            providers={providers.data.data}
            onDone={(saved) => {
              setEditing(null);
              if (saved) {
                setVerified(({ [saved.id]: _dropped, ...rest }) => rest);
                void message.success(t("crm.saved", { name: saved.name }));
              }
            }}
          />
        ) : null}
      </Drawer>
      {signing ? (
        <SecretRevealModal
          name={signing.name}
          onClose={() => setSigning(null)}
          load={() =>
            unwrap(api.GET("/api/v1/crm-connections/{connection_id}/signing-secret", { params: { path: { connection_id: signing.id } } }))
          }
        />
      ) : null}
    </>
  );
}
