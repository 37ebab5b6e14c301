import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Button,
  Checkbox,
  Form,
  Input,
  InputNumber,
  message as antMessage,
  Select,
  Space,
  Spin,
  Switch,
  Table,
  type TableColumnsType,
} from "antd";
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type I18n } from "../../i18n";
import "../../i18n/settings";
import {
  CHANNEL_KINDS,
  settingsKeys,
  useIsAdmin,
  type Channel,
  type ChannelKind,
  type FrequencyCap,
  type Policy,
  type QuietHours,
} from "./common";
import { zoneOffset } from "./intlLists";
import "./settings.css";

/** The channels quiet hours hold by default (the server's QUIET_CHANNELS). */
const QUIET_DEFAULT: ChannelKind[] = ["email", "sms", "push", "wechat"];

type Unit = "hours" | "days";

interface CapDraft {
  channel: ChannelKind | null;
  limit: number | null;
  amount: number | null;
  unit: Unit;
}

interface Draft {
  caps: CapDraft[];
  quiet: boolean;
  start: string;
  end: string;
  channels: ChannelKind[];
}

/** A cap's period as the user reads it: whole days in days, anything shorter in hours. */
export function periodOf(days: number): { amount: number; unit: Unit } {
  if (days >= 1 && Number.isInteger(days)) return { amount: days, unit: "days" };
  return { amount: Math.round(days * 24 * 1000) / 1000, unit: "hours" };
}

function draftOf(policy: Policy): Draft {
  const quiet = policy.quiet_hours ?? null;
  return {
    caps: (policy.frequency_caps ?? []).map((cap) => ({ channel: cap.channel ?? null, limit: cap.limit, ...periodOf(cap.days) })),
    quiet: quiet !== null,
    start: quiet?.start.slice(0, 5) ?? "21:00",
    end: quiet?.end.slice(0, 5) ?? "09:00",
    channels: quiet?.channels ?? QUIET_DEFAULT,
  };
}

/** The PUT body: no `timezone`, so the workspace's zone stays as it is. */
export function policyBody(d: Draft): { frequency_caps: FrequencyCap[]; quiet_hours: QuietHours | null } {
  return {
    frequency_caps: d.caps.map((cap) => ({
      channel: cap.channel,
      limit: cap.limit ?? 0,
      days: cap.unit === "hours" ? (cap.amount ?? 0) / 24 : (cap.amount ?? 0),
    })),
    quiet_hours: d.quiet ? { start: d.start, end: d.end, channels: d.channels } : null,
  };
}

function channelLabel(channel: ChannelKind | null | undefined, t: I18n["t"]): string {
  return channel ? t(`channels.kind.${channel}`) : t("policy.allChannels");
}

function capText(cap: FrequencyCap, t: I18n["t"]): string {
  const { amount, unit } = periodOf(cap.days);
  return t(unit === "days" ? "policy.capTextDays" : "policy.capTextHours", {
    limit: cap.limit,
    n: amount,
    channel: channelLabel(cap.channel, t),
  });
}

function CapsEditor({ caps, onChange }: { caps: CapDraft[]; onChange: (caps: CapDraft[]) => void }) {
  const { t } = useI18n();
  const update = (i: number, patch: Partial<CapDraft>) => onChange(caps.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  return (
    <>
      {caps.length === 0 ? <p className="text-secondary">{t("policy.noCaps")}</p> : null}
      {caps.map((cap, i) => {
        const n = i + 1;
        const limitBad = cap.limit === null || cap.limit < 1;
        const periodBad = cap.amount === null || cap.amount <= 0;
        return (
          <div className="settings-row" key={i} role="group" aria-label={t("policy.capN", { n })}>
            <Form.Item label={t("policy.capLimit")} htmlFor={`cap-${i}-limit`} validateStatus={limitBad ? "error" : undefined}>
              <InputNumber
                id={`cap-${i}-limit`}
                aria-label={t("policy.capLimitN", { n })}
                min={1}
                max={10000}
                precision={0}
                value={cap.limit}
                onChange={(limit) => update(i, { limit })}
                style={{ width: 110 }}
              />
            </Form.Item>
            <Form.Item label={t("policy.capPeriod")} htmlFor={`cap-${i}-period`} validateStatus={periodBad ? "error" : undefined}>
              <Space.Compact>
                <InputNumber
                  id={`cap-${i}-period`}
                  aria-label={t("policy.capPeriodN", { n })}
                  min={0}
                  value={cap.amount}
                  onChange={(amount) => update(i, { amount })}
                  style={{ width: 100 }}
                />
                <Select
                  aria-label={t("policy.capUnitN", { n })}
                  value={cap.unit}
                  onChange={(unit: Unit) => update(i, { unit })}
                  options={[
                    { value: "hours", label: t("policy.hours") },
                    { value: "days", label: t("policy.days") },
                  ]}
                  style={{ width: 100 }}
                />
              </Space.Compact>
            </Form.Item>
            <Form.Item label={t("policy.capChannel")} htmlFor={`cap-${i}-channel`}>
              <Select
                id={`cap-${i}-channel`}
                aria-label={t("policy.capChannelN", { n })}
                value={cap.channel ?? "all"}
                onChange={(v: ChannelKind | "all") => update(i, { channel: v === "all" ? null : v })}
                options={[
                  { value: "all", label: t("policy.allChannels") },
                  ...CHANNEL_KINDS.map((k) => ({ value: k, label: t(`channels.kind.${k}`) })),
                ]}
                style={{ minWidth: 140 }}
              />
            </Form.Item>
            <Form.Item label={<span className="visually-hidden">{t("common.actions")}</span>}>
              <Button
                icon={<DeleteOutlined />}
                danger
                aria-label={t("policy.removeCap", { n })}
                onClick={() => onChange(caps.filter((_, j) => j !== i))}
              />
            </Form.Item>
          </div>
        );
      })}
      <Button icon={<PlusOutlined />} onClick={() => onChange([...caps, { channel: null, limit: 2, amount: 7, unit: "days" }])}>
        {t("policy.addCap")}
      </Button>
    </>
  );
}

function PolicyForm({ policy }: { policy: Policy }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const [draft, setDraft] = useState<Draft>(() => draftOf(policy));
  const [checked, setChecked] = useState(false);

  const save = useMutation({
    mutationFn: (d: Draft) => unwrap(api.PUT("/api/v1/messaging/policy", { body: policyBody(d) })),
    onSuccess: (saved) => {
      queryClient.setQueryData(settingsKeys.policy(ws), saved);
      setDraft(draftOf(saved));
      setChecked(false);
      void message.success(t("policy.saved"));
    },
  });
  const set = (patch: Partial<Draft>) => {
    save.reset();
    setDraft((d) => ({ ...d, ...patch }));
  };
  const capsBad = draft.caps.some((c) => c.limit === null || c.limit < 1 || c.amount === null || c.amount <= 0);
  const quietBad = draft.quiet && (!draft.start || !draft.end || draft.start === draft.end || draft.channels.length === 0);

  const submit = () => {
    setChecked(true);
    if (capsBad || quietBad) return;
    save.mutate(draft);
  };

  return (
    <Form layout="vertical" component="form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
      {messageHolder}
      <section className="settings-section" aria-labelledby="caps-title">
        <h2 id="caps-title" className="section-title">
          {t("policy.caps")}
        </h2>
        <p className="text-secondary">{t("policy.capsIntro")}</p>
        <CapsEditor caps={draft.caps} onChange={(caps) => set({ caps })} />
        {checked && capsBad ? <p className="field-error" role="alert">{t("policy.capsInvalid")}</p> : null}
      </section>
      <section className="settings-section" aria-labelledby="quiet-title">
        <h2 id="quiet-title" className="section-title">
          {t("policy.quietHours")}
        </h2>
        <p className="text-secondary">{t("policy.quietIntro")}</p>
        <Form.Item>
          <Space>
            <Switch id="quiet-on" checked={draft.quiet} onChange={(quiet) => set({ quiet })} />
            <label htmlFor="quiet-on">{t("policy.quietOn")}</label>
          </Space>
        </Form.Item>
        {draft.quiet ? (
          <>
            <div className="settings-row">
              <Form.Item label={t("policy.quietStart")} htmlFor="quiet-start">
                <Input id="quiet-start" type="time" value={draft.start} onChange={(e) => set({ start: e.target.value })} style={{ width: 140 }} />
              </Form.Item>
              <Form.Item label={t("policy.quietEnd")} htmlFor="quiet-end" extra={t("policy.quietEndHint")}>
                <Input id="quiet-end" type="time" value={draft.end} onChange={(e) => set({ end: e.target.value })} style={{ width: 140 }} />
              </Form.Item>
            </div>
            <fieldset className="plain-fieldset">
              <legend className="field-label">{t("policy.quietChannels")}</legend>
              <Checkbox.Group
                value={draft.channels}
                onChange={(channels) => set({ channels: channels as ChannelKind[] })}
                options={CHANNEL_KINDS.map((k) => ({ value: k, label: t(`channels.kind.${k}`) }))}
              />
            </fieldset>
            {checked && quietBad ? <p className="field-error" role="alert">{t("policy.quietInvalid")}</p> : null}
          </>
        ) : null}
      </section>
      {save.error ? (
        <Alert type="error" showIcon className="page-alert" title={t("policy.saveFailed")} description={errorText(save.error, t)} />
      ) : null}
      <Button type="primary" htmlType="submit" loading={save.isPending}>
        {t("policy.save")}
      </Button>
    </Form>
  );
}

function PolicySummary({ policy }: { policy: Policy }) {
  const { t } = useI18n();
  const caps = policy.frequency_caps ?? [];
  const quiet = policy.quiet_hours;
  return (
    <>
      <section className="settings-section" aria-labelledby="caps-title">
        <h2 id="caps-title" className="section-title">
          {t("policy.caps")}
        </h2>
        <p className="text-secondary">{t("policy.capsIntro")}</p>
        {caps.length ? (
          <ul className="plain-list">
            {caps.map((cap, i) => (
              <li key={i}>{capText(cap, t)}</li>
            ))}
          </ul>
        ) : (
          <p>{t("policy.noCaps")}</p>
        )}
      </section>
      <section className="settings-section" aria-labelledby="quiet-title">
        <h2 id="quiet-title" className="section-title">
          {t("policy.quietHours")}
        </h2>
        <p>
          {quiet
            ? t("policy.quietText", {
                start: quiet.start.slice(0, 5),
                end: quiet.end.slice(0, 5),
                channels: (quiet.channels ?? QUIET_DEFAULT).map((c) => t(`channels.kind.${c}`)).join(t("policy.listSeparator")),
              })
            : t("policy.quietNone")}
        </p>
      </section>
    </>
  );
}

/** Each channel's provider rate limit (`PATCH /channels/{id}` `rate_limit`). */
function RateLimits({ isAdmin }: { isAdmin: boolean }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const [edits, setEdits] = useState<Record<number, number | null>>({});
  const channels = useQuery({
    queryKey: settingsKeys.channels(ws),
    queryFn: () => unwrap(api.GET("/api/v1/channels")),
  });
  const save = useMutation({
    mutationFn: ({ channel, rate }: { channel: Channel; rate: number | null }) =>
      unwrap(api.PATCH("/api/v1/channels/{channel_id}", { params: { path: { channel_id: channel.id } }, body: { rate_limit: rate } })),
    onSuccess: (saved) => {
      setEdits((e) => Object.fromEntries(Object.entries(e).filter(([id]) => Number(id) !== saved.id)));
      void queryClient.invalidateQueries({ queryKey: settingsKeys.channels(ws) });
      void message.success(t("policy.rateSaved", { name: saved.name }));
    },
  });

  const columns: TableColumnsType<Channel> = [
    { title: t("channels.col.name"), dataIndex: "name" },
    { title: t("channels.col.kind"), dataIndex: "kind", render: (k: ChannelKind) => t(`channels.kind.${k}`) },
    {
      title: t("policy.col.rate"),
      dataIndex: "rate_limit",
      render: (rate: number | null, channel) => {
        if (!isAdmin) return rate ? t("policy.perSecond", { n: rate }) : t("policy.noLimit");
        const value = channel.id in edits ? edits[channel.id] : rate;
        const changed = channel.id in edits && edits[channel.id] !== rate;
        return (
          <Space>
            <InputNumber
              aria-label={t("policy.rateOf", { name: channel.name })}
              min={0.01}
              placeholder={t("policy.noLimit")}
              value={value ?? null}
              onChange={(v) => setEdits((e) => ({ ...e, [channel.id]: v ?? null }))}
              style={{ width: 140 }}
            />
            <Button
              size="small"
              disabled={!changed}
              loading={save.isPending && save.variables?.channel.id === channel.id}
              onClick={() => save.mutate({ channel, rate: value ?? null })}
            >
              {t("common.save")}
            </Button>
          </Space>
        );
      },
    },
  ];
  return (
    <section className="settings-section" aria-labelledby="rates-title">
      {messageHolder}
      <h2 id="rates-title" className="section-title">
        {t("policy.rates")}
      </h2>
      <p className="text-secondary">{t("policy.ratesIntro")}</p>
      {save.error ? (
        <Alert type="error" showIcon className="page-alert" title={t("policy.rateFailed")} description={errorText(save.error, t)} />
      ) : null}
      {channels.isError ? <ErrorAlert error={channels.error} onRetry={() => void channels.refetch()} /> : null}
      <Table<Channel>
        rowKey="id"
        columns={columns}
        dataSource={channels.data?.data ?? []}
        loading={channels.isPending}
        pagination={false}
        size="small"
        locale={{ emptyText: t("policy.noChannels") }}
      />
    </section>
  );
}

export default function MessagingPolicyPage() {
  const { t } = useI18n();
  const isAdmin = useIsAdmin();
  const ws = useWorkspaceKey();
  const query = useQuery({
    queryKey: settingsKeys.policy(ws),
    queryFn: () => unwrap(api.GET("/api/v1/messaging/policy")),
  });
  const policy = query.data;
  const offset = policy ? zoneOffset(policy.timezone) : "";

  return (
    <>
      <div className="page-head">
        <PageTitle title={t("policy.title")}>{t("policy.title")}</PageTitle>
      </div>
      <p className="text-secondary page-intro">{t("policy.intro")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.isPending ? <Spin className="page-spin" /> : null}
      {policy ? (
        <>
          <p className="settings-section">
            {t("policy.timeZone", { zone: offset ? `${policy.timezone} (${offset})` : policy.timezone })}{" "}
            <Link to="/settings/workspace" className="inline-link">
              {t("policy.changeTimeZone")}
            </Link>
          </p>
          {isAdmin ? <PolicyForm key={ws} policy={policy} /> : <PolicySummary policy={policy} />}
        </>
      ) : null}
      <RateLimits isAdmin={isAdmin} />
      {!isAdmin ? <p className="text-secondary">{t("settings.adminsOnly")}</p> : null}
    </>
  );
}
