import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Form, Input, message as antMessage, Select, Spin, Tag } from "antd";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { SESSION_KEY, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/settings";
import { settingsKeys, useIsAdmin, type WorkspaceChange, type WorkspaceSettings } from "./common";
import { codeAndName, countries, currencies, timeZones, zoneOffset } from "./intlLists";
import "./settings.css";

interface Draft {
  name: string;
  time_zone: string;
  default_country: string | null;
  currency: string | null;
}

type Field = keyof Draft;

/** The field a 422 names by its code; other errors are the form's. */
const FIELD_OF_CODE: Record<string, Field> = {
  invalid_name: "name",
  invalid_timezone: "time_zone",
  invalid_country: "default_country",
  invalid_currency: "currency",
};

function draftOf(ws: WorkspaceSettings): Draft {
  return { name: ws.name, time_zone: ws.time_zone, default_country: ws.default_country, currency: ws.currency };
}

/** Only what changed, as `PATCH /workspace` takes it. */
export function workspaceChange(before: WorkspaceSettings, draft: Draft): WorkspaceChange {
  const change: WorkspaceChange = {};
  if (draft.name.trim() !== before.name) change.name = draft.name.trim();
  if (draft.time_zone !== before.time_zone) change.time_zone = draft.time_zone;
  if (draft.default_country !== before.default_country) change.default_country = draft.default_country;
  if (draft.currency !== before.currency) change.currency = draft.currency;
  return change;
}

function WorkspaceForm({ workspace }: { workspace: WorkspaceSettings }) {
  const { t, lang } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const [draft, setDraft] = useState<Draft>(() => draftOf(workspace));
  const [nameMissing, setNameMissing] = useState(false);
  const zoneOptions = useMemo(
    () =>
      timeZones(workspace.time_zone).map((zone) => {
        const offset = zoneOffset(zone);
        return { value: zone, label: offset ? `${zone} (${offset})` : zone };
      }),
    [workspace.time_zone],
  );
  const countryList = useMemo(() => countries(lang), [lang]);
  const currencyList = useMemo(() => currencies(lang), [lang]);

  const save = useMutation({
    mutationFn: (change: WorkspaceChange) => unwrap(api.PATCH("/api/v1/workspace", { body: change })),
    onSuccess: (saved) => {
      queryClient.setQueryData(settingsKeys.workspace(ws), saved);
      setDraft(draftOf(saved));
      // the header's workspace name and every date's time zone come from the session
      void queryClient.invalidateQueries({ queryKey: SESSION_KEY });
      void queryClient.invalidateQueries({ queryKey: settingsKeys.policy(ws) });
      void message.success(t("workspace.saved"));
    },
  });

  const failed = save.error instanceof ApiError && save.error.status === 422 ? FIELD_OF_CODE[save.error.code] : undefined;
  const fieldError = (field: Field): string | undefined => {
    if (field === "name" && nameMissing) return t("workspace.nameRequired");
    return failed === field && save.error instanceof ApiError ? save.error.message : undefined;
  };
  const change = workspaceChange(workspace, draft);
  const dirty = Object.keys(change).length > 0;

  const submit = () => {
    if (!draft.name.trim()) {
      setNameMissing(true);
      return;
    }
    setNameMissing(false);
    save.mutate(change);
  };
  const set = (patch: Partial<Draft>) => {
    save.reset();
    setDraft((d) => ({ ...d, ...patch }));
  };
  const status = (field: Field) => (fieldError(field) ? ("error" as const) : undefined);

  return (
    <>
      {messageHolder}
      <Form layout="vertical" component="form" className="settings-form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
        <Form.Item label={t("workspace.name")} htmlFor="ws-name" required validateStatus={status("name")} help={fieldError("name")}>
          <Input id="ws-name" value={draft.name} maxLength={200} onChange={(e) => set({ name: e.target.value })} />
        </Form.Item>
        <Form.Item
          label={t("workspace.timeZone")}
          htmlFor="ws-time-zone"
          extra={fieldError("time_zone") ? undefined : t("workspace.timeZoneHint")}
          validateStatus={status("time_zone")}
          help={fieldError("time_zone")}
        >
          <Select
            id="ws-time-zone"
            showSearch={{ optionFilterProp: "label" }}
            value={draft.time_zone}
            onChange={(time_zone: string) => set({ time_zone })}
            options={zoneOptions}
            virtual
          />
        </Form.Item>
        <Form.Item
          label={t("workspace.country")}
          htmlFor="ws-country"
          extra={fieldError("default_country") ? undefined : t("workspace.countryHint")}
          validateStatus={status("default_country")}
          help={fieldError("default_country")}
        >
          <Select
            id="ws-country"
            showSearch={{ optionFilterProp: "label" }}
            allowClear
            placeholder={t("workspace.noCountry")}
            value={draft.default_country ?? undefined}
            onChange={(code?: string) => set({ default_country: code ?? null })}
            options={countryList.map((c) => ({ value: c.code, label: `${c.name} (${c.code})` }))}
          />
        </Form.Item>
        <Form.Item
          label={t("workspace.currency")}
          htmlFor="ws-currency"
          extra={fieldError("currency") ? undefined : t("workspace.currencyHint")}
          validateStatus={status("currency")}
          help={fieldError("currency")}
        >
          <Select
            id="ws-currency"
            showSearch={{ optionFilterProp: "label" }}
            allowClear
            placeholder={t("workspace.noCurrency")}
            value={draft.currency ?? undefined}
            onChange={(code?: string) => set({ currency: code ?? null })}
            options={currencyList.map((c) => ({ value: c.code, label: c.name !== c.code ? `${c.code} — ${c.name}` : c.code }))}
          />
        </Form.Item>
        {save.error && !failed ? (
          <Alert type="error" showIcon className="page-alert" title={t("workspace.saveFailed")} description={errorText(save.error, t)} />
        ) : null}
        <Button type="primary" htmlType="submit" loading={save.isPending} disabled={!dirty}>
          {t("common.save")}
        </Button>
      </Form>
    </>
  );
}

/** What a role that cannot change the workspace sees: the same settings, as text. */
function WorkspaceSummary({ workspace }: { workspace: WorkspaceSettings }) {
  const { t, lang } = useI18n();
  const offset = zoneOffset(workspace.time_zone);
  return (
    <dl className="settings-summary">
      <dt>{t("workspace.name")}</dt>
      <dd>{workspace.name}</dd>
      <dt>{t("workspace.timeZone")}</dt>
      <dd>{offset ? `${workspace.time_zone} (${offset})` : workspace.time_zone}</dd>
      <dt>{t("workspace.country")}</dt>
      <dd>{codeAndName(workspace.default_country, countries(lang)) || t("workspace.noCountry")}</dd>
      <dt>{t("workspace.currency")}</dt>
      <dd>{codeAndName(workspace.currency, currencies(lang)) || t("workspace.noCurrency")}</dd>
    </dl>
  );
}

export default function WorkspacePage() {
  const { t } = useI18n();
  const isAdmin = useIsAdmin();
  const ws = useWorkspaceKey();
  const query = useQuery({
    queryKey: settingsKeys.workspace(ws),
    queryFn: () => unwrap(api.GET("/api/v1/workspace")),
  });
  const workspace = query.data;

  return (
    <>
      <div className="page-head">
        <PageTitle title={t("workspace.title")}>{t("workspace.title")}</PageTitle>
      </div>
      <p className="text-secondary page-intro">{t("workspace.intro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.isPending ? <Spin className="page-spin" /> : null}
      {workspace ? (
        <>
          <p className="text-secondary">
            {workspace.sandbox ? <Tag className="tag-sandbox">{t("workspace.sandbox")}</Tag> : null}
            {t("workspace.created")} <DateTime value={workspace.created_at} />
          </p>
          {isAdmin ? <WorkspaceForm key={workspace.id} workspace={workspace} /> : <WorkspaceSummary workspace={workspace} />}
          {!isAdmin ? <p className="text-secondary">{t("settings.adminsOnly")}</p> : null}
        </>
      ) : null}
    </>
  );
}
