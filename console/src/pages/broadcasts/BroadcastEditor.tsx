// The broadcast editor: a new broadcast (`/broadcasts/new`) or a draft (`/broadcasts/:id`).
// Saving keeps it a draft (POST, then PATCH); "Schedule" saves and schedules it.
import { useMemo, useState, type ReactNode } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Form, Input, InputNumber, Modal, Radio, Select, Switch, message as antMessage } from "antd";
import { DeleteOutlined, EyeOutlined, PlusOutlined } from "@ant-design/icons";
import { useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey, useWorkspaceTimeZone } from "../../auth/SessionProvider";
import { errorText } from "../../components/ErrorAlert";
import { useI18n, type MessageKey } from "../../i18n";
import { useTemplates } from "../templates/queries";
import { channelKey } from "./common";
import {
  bodyOf,
  CHANNELS,
  emptyForm,
  formOf,
  METRICS,
  newVariant,
  problemOfError,
  problemsOf,
  type Broadcast,
  type BroadcastForm,
  type Channel,
  type FieldKey,
  type Problem,
  type ShareMode,
  type VariantForm,
} from "./model";
import { broadcastKey, broadcastsKey, useCampaigns, useOfferList, useSegment, useSegments, useTopics } from "./queries";
import { TemplatePreview } from "./TemplatePreview";

const MAX_VARIANTS = 10;

export function BroadcastEditor({ broadcast, campaignId }: { broadcast?: Broadcast; campaignId?: number | null }) {
  const { t, lang } = useI18n();
  const zone = useWorkspaceTimeZone();
  const workspace = useWorkspaceKey();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const [modal, modalHolder] = Modal.useModal();
  const [form, setForm] = useState<BroadcastForm>(() => (broadcast ? formOf(broadcast, zone) : emptyForm(campaignId ?? null)));
  const [showProblems, setShowProblems] = useState(false);
  const [serverProblem, setServerProblem] = useState<Problem | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [previewed, setPreviewed] = useState<string | null>(null);
  const n = new Intl.NumberFormat(lang);

  const campaigns = useCampaigns();
  const segments = useSegments();
  const topics = useTopics();
  const offers = useOfferList();
  const templates = useTemplates();
  const segment = useSegment(form.segmentId);

  const set = <K extends keyof BroadcastForm>(key: K, value: BroadcastForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setServerProblem(null);
  };
  const setVariant = (index: number, change: Partial<VariantForm>) => {
    setForm((f) => ({ ...f, variants: f.variants.map((v, i) => (i === index ? { ...v, ...change } : v)) }));
    setServerProblem(null);
  };

  const problems = useMemo(() => problemsOf(form), [form]);
  const problemAt = (field: FieldKey): string | undefined => {
    if (serverProblem?.field === field) return serverProblem.text ?? (serverProblem.key ? t(serverProblem.key) : undefined);
    if (!showProblems) return undefined;
    const p = problems.find((x) => x.field === field);
    return p ? (p.key ? t(p.key) : p.text) : undefined;
  };
  const item = (field: FieldKey, label: ReactNode, htmlFor: string, children: ReactNode, hint?: ReactNode) => {
    const error = problemAt(field);
    return (
      <Form.Item label={<label htmlFor={htmlFor}>{label}</label>} validateStatus={error ? "error" : undefined} help={error ?? hint}>
        {children}
      </Form.Item>
    );
  };

  const templateList = templates.data?.data ?? [];
  const templateOptions = (channel: Channel) =>
    templateList.filter((tpl) => tpl.channel === channel).map((tpl) => ({ value: tpl.id, label: tpl.name }));
  const segmentOptions = (segments.data?.data ?? []).map((s) => ({
    value: s.id,
    label: t("broadcasts.segmentOption", { name: s.name, n: n.format(s.member_count) }),
  }));
  const topicOptions = (topics.data?.data ?? [])
    .filter((tp) => tp.channel === null || tp.channel === form.channel)
    .map((tp) => ({ value: tp.id, label: tp.name }));
  const offerOptions = (offers.data?.data ?? []).map((o) => ({ value: o.id, label: o.name }));
  const channelOptions = CHANNELS.map((c) => ({ value: c, label: t(channelKey(c)) }));

  const save = useMutation({
    mutationFn: async (): Promise<Broadcast> => {
      const body = bodyOf(form, zone);
      if (broadcast) {
        return unwrap(api.PATCH("/api/v1/broadcasts/{broadcast_id}", { params: { path: { broadcast_id: broadcast.id } }, body }));
      }
      return unwrap(api.POST("/api/v1/broadcasts", { body }));
    },
  });
  const schedule = useMutation({
    mutationFn: (id: number) => unwrap(api.POST("/api/v1/broadcasts/{broadcast_id}/schedule", { params: { path: { broadcast_id: id } } })),
  });

  const afterSave = (saved: Broadcast) => {
    queryClient.setQueryData(broadcastKey(workspace, saved.id), saved);
    void queryClient.invalidateQueries({ queryKey: broadcastsKey(workspace) });
  };

  const submit = async (andSchedule: boolean) => {
    setShowProblems(true);
    setFailure(null);
    setServerProblem(null);
    if (problems.length > 0) return;
    let saved: Broadcast;
    try {
      saved = await save.mutateAsync();
    } catch (error) {
      const problem = problemOfError(error, form);
      if (problem) setServerProblem(problem);
      else setFailure(error);
      return;
    }
    afterSave(saved);
    if (!andSchedule) {
      void message.success(t("broadcasts.saved", { name: saved.name }));
      if (!broadcast) navigate(`/broadcasts/${saved.id}`, { replace: true });
      return;
    }
    try {
      const scheduled = await schedule.mutateAsync(saved.id);
      afterSave(scheduled);
      void message.success(t("broadcasts.scheduled", { name: scheduled.name }));
      navigate(`/broadcasts/${saved.id}`, { replace: !broadcast });
    } catch (error) {
      if (!broadcast) navigate(`/broadcasts/${saved.id}`, { replace: true });
      setFailure(error);
    }
  };

  const confirmSchedule = () => {
    setShowProblems(true);
    if (problems.length > 0) return;
    void modal.confirm({
      title: t("broadcasts.confirm.schedule", { name: form.name.trim() }),
      content: t(form.schedule === "now" ? "broadcasts.confirm.scheduleNow" : "broadcasts.confirm.scheduleLater"),
      okText: t("broadcasts.action.schedule"),
      cancelText: t("common.cancel"),
      onOk: () => submit(true),
    });
  };

  const audienceVariants = form.ab && form.shareMode === "audience";
  const selectedTemplate = templateList.find((tpl) => tpl.id === form.templateId);
  const previewVariant = form.variants.find((v) => v.key === previewed);
  const previewTemplate = form.ab ? templateList.find((tpl) => tpl.id === previewVariant?.templateId) : selectedTemplate;
  const zoneName = zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const shareTotal = form.variants.reduce((sum, v) => sum + (v.share ?? 0), 0);

  return (
    <Form layout="vertical" component="div" className="broadcast-editor" requiredMark={false}>
      {messageHolder}
      {modalHolder}
      <section className="editor-section" aria-labelledby="bc-details">
        <h2 id="bc-details" className="section-title">
          {t("broadcasts.section.details")}
        </h2>
        <div className="editor-grid">
          {item(
            "name",
            t("broadcasts.field.name"),
            "bc-name",
            <Input id="bc-name" value={form.name} maxLength={200} onChange={(e) => set("name", e.target.value)} />,
          )}
          {item(
            "campaign",
            t("broadcasts.field.campaign"),
            "bc-campaign",
            <Select<number>
              id="bc-campaign"
              allowClear
              placeholder={t("broadcasts.field.noCampaign")}
              value={form.campaignId ?? undefined}
              showSearch={{ optionFilterProp: "label" }}
              loading={campaigns.isPending}
              onChange={(v) => set("campaignId", v ?? null)}
              options={(campaigns.data?.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
            />,
            t("broadcasts.hint.campaign"),
          )}
          {item(
            "channel",
            t("broadcasts.field.channel"),
            "bc-channel",
            <Select<Channel>
              id="bc-channel"
              value={form.channel}
              onChange={(v) => {
                setForm((f) => ({
                  ...f,
                  channel: v,
                  templateId: templateList.find((tpl) => tpl.id === f.templateId)?.channel === v ? f.templateId : null,
                  topicId: (topics.data?.data ?? []).find((tp) => tp.id === f.topicId && (tp.channel === null || tp.channel === v))
                    ? f.topicId
                    : null,
                }));
                setServerProblem(null);
              }}
              options={channelOptions}
            />,
          )}
          {item(
            "topic",
            t("broadcasts.field.topic"),
            "bc-topic",
            <Select<number>
              id="bc-topic"
              allowClear
              placeholder={t("broadcasts.field.noTopic")}
              value={form.topicId ?? undefined}
              onChange={(v) => set("topicId", v ?? null)}
              options={topicOptions}
            />,
            t("broadcasts.hint.topic"),
          )}
        </div>
      </section>

      <section className="editor-section" aria-labelledby="bc-audience">
        <h2 id="bc-audience" className="section-title">
          {t("broadcasts.section.audience")}
        </h2>
        {item(
          "segment",
          audienceVariants ? t("broadcasts.field.segmentNarrow") : t("broadcasts.field.segment"),
          "bc-segment",
          <Select<number>
            id="bc-segment"
            allowClear={audienceVariants}
            placeholder={t("broadcasts.field.pickSegment")}
            value={form.segmentId ?? undefined}
            showSearch={{ optionFilterProp: "label" }}
            loading={segments.isPending}
            onChange={(v) => set("segmentId", v ?? null)}
            options={segmentOptions}
          />,
          form.segmentId !== null && segment.data ? (
            <span aria-live="polite" data-testid="segment-count">
              {t("broadcasts.segmentCount", { n: n.format(segment.data.member_count) })}
            </span>
          ) : (
            t("broadcasts.hint.segment")
          ),
        )}
      </section>

      <section className="editor-section" aria-labelledby="bc-content">
        <h2 id="bc-content" className="section-title">
          {t("broadcasts.section.content")}
        </h2>
        <Form.Item>
          <Switch
            id="bc-ab"
            checked={form.ab}
            onChange={(on) => set("ab", on)}
            aria-describedby="bc-ab-hint"
          />{" "}
          <label htmlFor="bc-ab">{t("broadcasts.field.ab")}</label>
          <p id="bc-ab-hint" className="field-hint">
            {t("broadcasts.hint.ab")}
          </p>
        </Form.Item>
        {!form.ab ? (
          <>
            {item(
              "template",
              t("broadcasts.field.template"),
              "bc-template",
              <Select<number>
                id="bc-template"
                placeholder={t("broadcasts.field.pickTemplate")}
                value={form.templateId ?? undefined}
                showSearch={{ optionFilterProp: "label" }}
                loading={templates.isPending}
                onChange={(v) => set("templateId", v ?? null)}
                options={templateOptions(form.channel)}
                notFoundContent={t("broadcasts.noTemplates", { channel: t(channelKey(form.channel)) })}
              />,
              t("broadcasts.hint.template"),
            )}
            {selectedTemplate ? <TemplatePreview template={selectedTemplate} /> : null}
          </>
        ) : (
          <>
            <Form.Item label={<span id="bc-share-label">{t("broadcasts.field.shareMode")}</span>}>
              <Radio.Group
                aria-labelledby="bc-share-label"
                value={form.shareMode}
                onChange={(e) => {
                  const mode = e.target.value as ShareMode;
                  setForm((f) => ({
                    ...f,
                    shareMode: mode,
                    testPercent: mode === "audience" ? 100 : f.testPercent,
                    variants: f.variants.map((v) => ({
                      ...v,
                      share: mode === "weight" ? 1 : mode === "percent" ? Math.floor((100 - f.holdoutPercent) / f.variants.length) : null,
                    })),
                  }));
                  setServerProblem(null);
                }}
                options={[
                  { value: "weight", label: t("broadcasts.share.weight") },
                  { value: "percent", label: t("broadcasts.share.percent") },
                  { value: "audience", label: t("broadcasts.share.audience") },
                ]}
              />
            </Form.Item>
            {problemAt("experiment") ? <Alert className="page-alert" type="error" showIcon title={problemAt("experiment")} /> : null}
            {form.variants.map((v, i) => {
              const id = `bc-variant-${i}`;
              const channel = v.channel ?? form.channel;
              return (
                <fieldset key={v.key} className="variant-card" aria-labelledby={`${id}-title`}>
                  <div className="variant-card-head">
                    <h3 id={`${id}-title`}>{t("broadcasts.variant.title", { name: v.name || "…" })}</h3>
                    <span>
                      <Button
                        type="text"
                        icon={<EyeOutlined />}
                        aria-pressed={previewed === v.key}
                        disabled={v.templateId === null}
                        onClick={() => setPreviewed(previewed === v.key ? null : v.key)}
                      >
                        {t("broadcasts.variant.preview")}
                      </Button>
                      <Button
                        type="text"
                        danger
                        icon={<DeleteOutlined />}
                        disabled={form.variants.length <= 2}
                        aria-label={t("broadcasts.variant.remove", { name: v.name })}
                        onClick={() =>
                          setForm((f) => ({ ...f, variants: f.variants.filter((_, j) => j !== i) }))
                        }
                      />
                    </span>
                  </div>
                  <div className="editor-grid">
                    {item(
                      `variant.${i}.name`,
                      t("broadcasts.variant.name", { n: i + 1 }),
                      `${id}-name`,
                      <Input id={`${id}-name`} value={v.name} maxLength={64} onChange={(e) => setVariant(i, { name: e.target.value })} />,
                    )}
                    {item(
                      `variant.${i}.template`,
                      t("broadcasts.variant.template", { name: v.name }),
                      `${id}-template`,
                      <Select<number>
                        id={`${id}-template`}
                        placeholder={t("broadcasts.field.pickTemplate")}
                        value={v.templateId ?? undefined}
                        showSearch={{ optionFilterProp: "label" }}
                        onChange={(tid) => setVariant(i, { templateId: tid ?? null })}
                        options={templateOptions(channel)}
                        notFoundContent={t("broadcasts.noTemplates", { channel: t(channelKey(channel)) })}
                      />,
                    )}
                    {form.shareMode === "audience"
                      ? item(
                          `variant.${i}.segment`,
                          t("broadcasts.variant.segment", { name: v.name }),
                          `${id}-segment`,
                          <Select<number>
                            id={`${id}-segment`}
                            placeholder={t("broadcasts.field.pickSegment")}
                            value={v.segmentId ?? undefined}
                            showSearch={{ optionFilterProp: "label" }}
                            onChange={(s) => setVariant(i, { segmentId: s ?? null })}
                            options={segmentOptions}
                          />,
                        )
                      : item(
                          `variant.${i}.share`,
                          form.shareMode === "percent"
                            ? t("broadcasts.variant.percent", { name: v.name })
                            : t("broadcasts.variant.weight", { name: v.name }),
                          `${id}-share`,
                          <InputNumber
                            id={`${id}-share`}
                            min={0}
                            max={form.shareMode === "percent" ? 100 : undefined}
                            value={v.share}
                            style={{ width: "100%" }}
                            suffix={form.shareMode === "percent" ? "%" : undefined}
                            onChange={(s) => setVariant(i, { share: typeof s === "number" ? s : null })}
                          />,
                          form.shareMode === "weight" && shareTotal > 0 && v.share
                            ? t("broadcasts.variant.weightShare", { percent: n.format(Math.round((v.share / shareTotal) * 100)) })
                            : undefined,
                        )}
                    {item(
                      `variant.${i}.channel`,
                      t("broadcasts.variant.channel", { name: v.name }),
                      `${id}-channel`,
                      <Select<string>
                        id={`${id}-channel`}
                        value={v.channel ?? ""}
                        onChange={(c) =>
                          setVariant(i, {
                            channel: c ? (c as Channel) : null,
                            templateId:
                              templateList.find((tpl) => tpl.id === v.templateId)?.channel === (c || form.channel) ? v.templateId : null,
                          })
                        }
                        options={[{ value: "", label: t("broadcasts.variant.sameChannel") }, ...channelOptions]}
                      />,
                    )}
                    {item(
                      `variant.${i}.offer`,
                      t("broadcasts.variant.offer", { name: v.name }),
                      `${id}-offer`,
                      <Select<number>
                        id={`${id}-offer`}
                        allowClear
                        placeholder={t("broadcasts.variant.noOffer")}
                        value={v.offerId ?? undefined}
                        onChange={(o) => setVariant(i, { offerId: o ?? null })}
                        options={offerOptions}
                      />,
                    )}
                  </div>
                </fieldset>
              );
            })}
            <Button
              icon={<PlusOutlined />}
              disabled={form.variants.length >= MAX_VARIANTS}
              onClick={() => setForm((f) => ({ ...f, variants: [...f.variants, newVariant(f.variants, f.shareMode)] }))}
              style={{ marginBottom: 16 }}
            >
              {t("broadcasts.variant.add")}
            </Button>
            {previewTemplate ? <TemplatePreview template={previewTemplate} /> : null}
            <div className="editor-grid">
              {item(
                "holdout",
                t("broadcasts.field.holdout"),
                "bc-holdout",
                <InputNumber
                  id="bc-holdout"
                  min={0}
                  max={99}
                  value={form.holdoutPercent}
                  suffix="%"
                  style={{ width: "100%" }}
                  onChange={(v) => set("holdoutPercent", typeof v === "number" ? v : 0)}
                />,
                t("broadcasts.hint.holdout"),
              )}
              {form.shareMode !== "audience"
                ? item(
                    "test",
                    t("broadcasts.field.test"),
                    "bc-test",
                    <InputNumber
                      id="bc-test"
                      min={1}
                      max={100}
                      value={form.testPercent}
                      suffix="%"
                      style={{ width: "100%" }}
                      onChange={(v) => set("testPercent", typeof v === "number" ? v : 100)}
                    />,
                    t("broadcasts.hint.test"),
                  )
                : null}
              {item(
                "experiment",
                t("broadcasts.field.metric"),
                "bc-metric",
                <Select
                  id="bc-metric"
                  value={form.metric}
                  onChange={(v) => set("metric", v)}
                  options={METRICS.map((m) => ({ value: m, label: t(`broadcasts.metric.${m}` as MessageKey) }))}
                />,
              )}
              {item(
                "window",
                t("broadcasts.field.window"),
                "bc-window",
                <InputNumber
                  id="bc-window"
                  min={1}
                  max={720}
                  value={form.windowHours}
                  style={{ width: "100%" }}
                  onChange={(v) => set("windowHours", typeof v === "number" ? v : 4)}
                />,
                t("broadcasts.hint.window"),
              )}
              {item(
                "goal",
                t("broadcasts.field.goal"),
                "bc-goal",
                <Input id="bc-goal" value={form.goalEvent} onChange={(e) => set("goalEvent", e.target.value)} />,
                t("broadcasts.hint.goal"),
              )}
            </div>
            <p className="split-summary text-secondary" aria-live="polite">
              {form.shareMode === "audience"
                ? t("broadcasts.split.audience", { holdout: n.format(form.holdoutPercent) })
                : form.testPercent >= 100
                  ? t("broadcasts.split.measure", { holdout: n.format(form.holdoutPercent), n: n.format(form.variants.length) })
                  : t("broadcasts.split.test", {
                      holdout: n.format(form.holdoutPercent),
                      test: n.format(form.testPercent),
                      n: n.format(form.variants.length),
                      hours: n.format(form.windowHours),
                    })}
            </p>
          </>
        )}
      </section>

      <section className="editor-section" aria-labelledby="bc-schedule">
        <h2 id="bc-schedule" className="section-title">
          {t("broadcasts.section.schedule")}
        </h2>
        <Form.Item validateStatus={problemAt("schedule") ? "error" : undefined} help={problemAt("schedule")}>
          <Radio.Group
            aria-label={t("broadcasts.field.when")}
            value={form.schedule}
            onChange={(e) => set("schedule", e.target.value as BroadcastForm["schedule"])}
            options={[
              { value: "now", label: t("broadcasts.schedule.now") },
              { value: "instant", label: t("broadcasts.schedule.instant") },
              { value: "local", label: t("broadcasts.schedule.local") },
            ]}
          />
        </Form.Item>
        {form.schedule === "instant" ? (
          <div className="editor-grid">
            <Form.Item label={<label htmlFor="bc-send-at">{t("broadcasts.field.sendAt")}</label>} help={t("broadcasts.hint.sendAt", { zone: zoneName })}>
              <Input id="bc-send-at" type="datetime-local" value={form.sendAt} onChange={(e) => set("sendAt", e.target.value)} />
            </Form.Item>
          </div>
        ) : null}
        {form.schedule === "local" ? (
          <div className="editor-grid">
            <Form.Item label={<label htmlFor="bc-local-date">{t("broadcasts.field.localDate")}</label>}>
              <Input id="bc-local-date" type="date" value={form.localDate} onChange={(e) => set("localDate", e.target.value)} />
            </Form.Item>
            <Form.Item label={<label htmlFor="bc-local-time">{t("broadcasts.field.localTime")}</label>} help={t("broadcasts.hint.local", { zone: zoneName })}>
              <Input id="bc-local-time" type="time" value={form.localTime} onChange={(e) => set("localTime", e.target.value)} />
            </Form.Item>
          </div>
        ) : null}
      </section>

      {failure ? (
        <Alert className="page-alert" type="error" showIcon title={errorText(failure, t)} closable={{ onClose: () => setFailure(null) }} />
      ) : null}
      {showProblems && problems.length > 0 ? (
        <Alert className="page-alert" type="error" showIcon title={t("broadcasts.error.fix", { n: problems.length })} />
      ) : null}
      <div className="editor-actions">
        <Button onClick={() => void submit(false)} loading={save.isPending && !schedule.isPending}>
          {t("broadcasts.saveDraft")}
        </Button>
        <Button type="primary" onClick={confirmSchedule} loading={schedule.isPending}>
          {t("broadcasts.saveAndSchedule")}
        </Button>
      </div>
    </Form>
  );
}
