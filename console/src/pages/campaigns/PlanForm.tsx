import { useMemo, useState } from "react";
import { Alert, Button, Checkbox, DatePicker, Form, Input, InputNumber, Select, Space, Switch } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { ApiError } from "../../api/http";
import { errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import "../../i18n/audiences";
import { BuilderProvider, builderEnv } from "../segments/builder/BuilderContext";
import { EventInput, WhereEditor } from "../segments/builder/inputs";
import { useSegmentReference, useTopics } from "../segments/queries";
import { FIELD_OF_CODE, type PlanDraft } from "./planModel";
import { CHANNELS, useOfferList, useSegmentList, useTemplateList } from "./queries";

const CURRENCIES = ["CNY", "USD", "EUR", "GBP", "JPY", "HKD", "SGD", "AUD", "CAD", "KRW", "TWD", "CHF"];

function pickerValue(value: string | null): Dayjs | null {
  return value ? dayjs(value.replace(" ", "T")) : null;
}

/** A date-time picker whose value is a wall time of the workspace's zone ("YYYY-MM-DD HH:MM"). */
function WallDateTime({ id, value, onChange }: { id: string; value: string | null; onChange: (v: string | null) => void }) {
  return (
    <DatePicker
      id={id}
      showTime={{ format: "HH:mm", minuteStep: 5 }}
      format="YYYY-MM-DD HH:mm"
      value={pickerValue(value)}
      onChange={(d: Dayjs | null) => onChange(d ? d.format("YYYY-MM-DD HH:mm") : null)}
      style={{ width: 220 }}
    />
  );
}

/** The goal: an event (the workspace's names offered), its window and its property filters. */
function GoalFields({ draft, set }: { draft: PlanDraft; set: (p: Partial<PlanDraft>) => void }) {
  const { t } = useI18n();
  const reference = useSegmentReference();
  const topics = useTopics();
  const env = useMemo(
    () =>
      reference.data
        ? builderEnv(reference.data, { readOnly: false, errors: new Map(), incomplete: new Set(), topics: topics.data?.data ?? [], selfId: null })
        : null,
    [reference.data, topics.data],
  );
  if (!env) {
    return (
      <Input
        id="plan-goal-event"
        aria-label={t("campaign.field.goalEvent")}
        value={draft.goalEvent}
        onChange={(e) => set({ goalEvent: e.target.value })}
      />
    );
  }
  return (
    <BuilderProvider env={env}>
      <div className="plan-goal">
        <Space wrap align="end">
          <EventInput value={draft.goalEvent} onChange={(e) => set({ goalEvent: e ?? "" })} label={t("campaign.field.goalEvent")} />
          <label className="plan-inline-field">
            <span>{t("campaign.field.goalWindow")}</span>
            <InputNumber min={1} max={365} value={draft.goalWindow} onChange={(v) => set({ goalWindow: Number(v ?? 7) })} />
          </label>
        </Space>
        {draft.goalEvent.trim() ? (
          <WhereEditor
            value={draft.goalWhere}
            onChange={(goalWhere) => set({ goalWhere })}
            label={t("campaign.field.goalFilters")}
            event={draft.goalEvent}
          />
        ) : null}
      </div>
    </BuilderProvider>
  );
}

/**
 * The plan's form, for a new campaign and for editing one. `error` is the last save's
 * error: a code the API ties to a field is shown on it, others above the buttons.
 */
export function PlanForm({
  initial,
  zone,
  workspaceCurrency,
  submitLabel,
  saving,
  error,
  warning,
  onSubmit,
  onCancel,
}: {
  initial: PlanDraft;
  zone: string;
  workspaceCurrency: string | null;
  submitLabel: string;
  saving: boolean;
  error: unknown;
  warning?: string | null;
  onSubmit: (draft: PlanDraft) => void;
  onCancel?: () => void;
}) {
  const { t, lang } = useI18n();
  const [draft, setDraft] = useState<PlanDraft>(initial);
  const [nameMissing, setNameMissing] = useState(false);
  const segments = useSegmentList();
  const templates = useTemplateList();
  const offers = useOfferList();
  const number = new Intl.NumberFormat(lang);
  const set = (patch: Partial<PlanDraft>) => setDraft((d) => ({ ...d, ...patch }));

  const failedField = error instanceof ApiError ? FIELD_OF_CODE[error.code] : undefined;
  const fieldError = (field: keyof PlanDraft): string | undefined => {
    if (field === "name" && nameMissing) return t("campaign.nameRequired");
    return failedField === field && error instanceof ApiError ? error.message : undefined;
  };
  const status = (field: keyof PlanDraft) => (fieldError(field) ? ("error" as const) : undefined);
  const channelName = (c: string) => t(`campaign.channel.${c as (typeof CHANNELS)[number]}`);
  const segment = segments.data?.data.find((s) => s.id === draft.segment_id);
  const currencyOptions = [...new Set([workspaceCurrency, draft.currency, ...CURRENCIES].filter((c): c is string => Boolean(c)))];

  const submit = () => {
    if (!draft.name.trim()) {
      setNameMissing(true);
      return;
    }
    setNameMissing(false);
    onSubmit(draft);
  };

  return (
    <Form layout="vertical" component="form" className="plan-form" onSubmitCapture={(e) => (e.preventDefault(), submit())}>
      <Form.Item label={t("campaign.field.name")} htmlFor="plan-name" required validateStatus={status("name")} help={fieldError("name")}>
        <Input id="plan-name" value={draft.name} maxLength={200} onChange={(e) => set({ name: e.target.value })} />
      </Form.Item>
      <Form.Item label={t("campaign.field.description")} htmlFor="plan-description">
        <Input.TextArea id="plan-description" rows={2} value={draft.description} onChange={(e) => set({ description: e.target.value })} />
      </Form.Item>
      <fieldset className="plan-fieldset">
        <legend>{t("campaign.field.goal")}</legend>
        <p className="text-secondary plan-hint">{t("campaign.goalHint")}</p>
        {fieldError("goalEvent") ? <Alert type="error" showIcon title={fieldError("goalEvent")} className="plan-hint" /> : null}
        <GoalFields draft={draft} set={set} />
      </fieldset>
      <Form.Item
        label={t("campaign.field.segment")}
        htmlFor="plan-segment"
        validateStatus={status("segment_id")}
        help={fieldError("segment_id") ?? (segment ? t("campaign.segmentCount", { count: number.format(segment.member_count) }) : undefined)}
      >
        <Select
          id="plan-segment"
          allowClear
          showSearch={{ optionFilterProp: "label" }}
          loading={segments.isPending}
          placeholder={t("campaign.none")}
          value={draft.segment_id ?? undefined}
          onChange={(v?: number) => set({ segment_id: v ?? null })}
          options={(segments.data?.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
          style={{ maxWidth: 420 }}
        />
      </Form.Item>
      <Form.Item label={t("campaign.field.channels")} validateStatus={status("channels")} help={fieldError("channels")}>
        <Checkbox.Group
          aria-label={t("campaign.field.channels")}
          value={draft.channels}
          onChange={(v) => set({ channels: v as string[] })}
          options={CHANNELS.map((c) => ({ value: c, label: channelName(c) }))}
        />
      </Form.Item>
      <Space wrap align="start" size="large">
        <Form.Item label={t("campaign.field.budget")} htmlFor="plan-budget" validateStatus={status("budget")} help={fieldError("budget")}>
          <InputNumber id="plan-budget" min={0} step={100} value={draft.budget} onChange={(v) => set({ budget: v === null ? null : Number(v) })} style={{ width: 180 }} />
        </Form.Item>
        <Form.Item
          label={t("campaign.field.currency")}
          htmlFor="plan-currency"
          extra={workspaceCurrency ? t("campaign.currencyHint", { currency: workspaceCurrency }) : undefined}
        >
          <Select
            id="plan-currency"
            showSearch
            value={draft.currency ?? undefined}
            onChange={(v: string) => set({ currency: v })}
            options={currencyOptions.map((c) => ({ value: c, label: c }))}
            style={{ width: 120 }}
          />
        </Form.Item>
      </Space>
      {draft.channels.length ? (
        <fieldset className="plan-fieldset">
          <legend>{t("campaign.field.costs")}</legend>
          {fieldError("costs") ? <Alert type="error" showIcon title={fieldError("costs")} className="plan-hint" /> : null}
          <Space wrap size="large">
            {draft.channels.map((c) => (
              <label key={c} className="plan-inline-field">
                <span>{channelName(c)}</span>
                <InputNumber
                  aria-label={t("campaign.costFor", { channel: channelName(c) })}
                  min={0}
                  step={0.01}
                  value={draft.costs[c] ?? null}
                  onChange={(v) => set({ costs: { ...draft.costs, [c]: v === null ? null : Number(v) } })}
                  addonAfter={draft.currency ?? undefined}
                  style={{ width: 160 }}
                />
              </label>
            ))}
          </Space>
        </fieldset>
      ) : null}
      <Form.Item label={t("campaign.field.offer")} htmlFor="plan-offer" validateStatus={status("offer_id")} help={fieldError("offer_id")}>
        <Select
          id="plan-offer"
          allowClear
          showSearch={{ optionFilterProp: "label" }}
          placeholder={t("campaign.none")}
          value={draft.offer_id ?? undefined}
          onChange={(v?: number) => set({ offer_id: v ?? null })}
          options={(offers.data?.data ?? []).map((o) => ({ value: o.id, label: o.name }))}
          style={{ maxWidth: 420 }}
        />
      </Form.Item>
      <Form.Item label={t("campaign.field.templates")} htmlFor="plan-templates" validateStatus={status("template_ids")} help={fieldError("template_ids")}>
        <Select
          id="plan-templates"
          mode="multiple"
          allowClear
          showSearch={{ optionFilterProp: "label" }}
          placeholder={t("campaign.none")}
          value={draft.template_ids}
          onChange={(v: number[]) => set({ template_ids: v })}
          options={(templates.data?.data ?? []).map((tpl) => ({ value: tpl.id, label: `${tpl.name} (${channelName(tpl.channel)})` }))}
          style={{ maxWidth: 560 }}
        />
      </Form.Item>
      <Form.Item label={t("campaign.field.owner")} htmlFor="plan-owner">
        <Input id="plan-owner" value={draft.owner} maxLength={200} onChange={(e) => set({ owner: e.target.value })} style={{ maxWidth: 320 }} />
      </Form.Item>
      <p className="text-secondary plan-hint">{t("campaign.datesHint", { zone })}</p>
      <Space wrap align="start" size="large">
        <Form.Item label={t("campaign.field.startsAt")} htmlFor="plan-starts">
          <WallDateTime id="plan-starts" value={draft.starts} onChange={(starts) => set({ starts })} />
        </Form.Item>
        <Form.Item label={t("campaign.field.endsAt")} htmlFor="plan-ends" validateStatus={status("ends")} help={fieldError("ends")}>
          <WallDateTime id="plan-ends" value={draft.ends} onChange={(ends) => set({ ends })} />
        </Form.Item>
      </Space>
      <Form.Item extra={t("campaign.requiresApprovalHint")}>
        <label className="plan-switch">
          <Switch checked={draft.requires_approval} onChange={(requires_approval) => set({ requires_approval })} />
          <span>{t("campaign.field.requiresApproval")}</span>
        </label>
      </Form.Item>
      {warning ? <Alert type="warning" showIcon title={warning} className="page-alert" /> : null}
      {error && !failedField ? (
        <Alert type="error" showIcon className="page-alert" title={t("campaign.saveFailed")} description={errorText(error, t)} />
      ) : null}
      <Space>
        <Button type="primary" htmlType="submit" loading={saving}>
          {submitLabel}
        </Button>
        {onCancel ? <Button onClick={onCancel}>{t("campaign.cancelEdit")}</Button> : null}
      </Space>
    </Form>
  );
}
