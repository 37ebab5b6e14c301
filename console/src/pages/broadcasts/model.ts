// The broadcast editor's form, and how it becomes the body of POST / PATCH /broadcasts (and
// back): pure functions, tested in broadcasts.test.tsx. The API's own rules (docs/campaigns.md)
// are checked again by the server; what is checked here is what a field needs before sending.
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone";
import utc from "dayjs/plugin/utc";
import type { components } from "../../api/schema";
import { ApiError } from "../../api/http";
import type { MessageKey } from "../../i18n";

dayjs.extend(utc);
dayjs.extend(timezone);

type Schemas = components["schemas"];
export type Broadcast = Schemas["BroadcastRead"];
export type BroadcastCreate = Schemas["BroadcastCreate"];
export type BroadcastUpdate = Schemas["BroadcastUpdate"];
export type BroadcastStatus = Broadcast["status"];
export type Channel = Broadcast["channel"];
export type Campaign = Schemas["CampaignRead"];
export type Segment = Schemas["SegmentRead"];
export type Topic = Schemas["TopicRead"];
export type Offer = Schemas["OfferRead"];
export type Template = Schemas["TemplateRead"];

export const CHANNELS: Channel[] = ["email", "sms", "push", "wechat", "inapp", "webhook"];
export const STATUSES: BroadcastStatus[] = ["draft", "scheduled", "sending", "testing", "queued", "paused", "cancelled"];
export const METRICS = ["open", "click", "conversion", "revenue"] as const;
export type Metric = (typeof METRICS)[number];

/** While these, the broadcast's page asks again every few seconds (messages are going out). */
export const LIVE: BroadcastStatus[] = ["scheduled", "sending", "testing", "queued"];

/** What each status allows (broadcasts.py: schedule, pause, resume, cancel). */
export function actionsFor(status: BroadcastStatus): Action[] {
  switch (status) {
    case "draft":
      return ["schedule", "cancel"];
    case "scheduled":
    case "sending":
    case "queued":
      return ["pause", "cancel"];
    case "testing":
      return ["cancel"];
    case "paused":
      return ["resume", "cancel"];
    case "cancelled":
      return [];
  }
}
export type Action = "schedule" | "pause" | "resume" | "cancel";

export type ScheduleMode = "now" | "instant" | "local";
export type ShareMode = "weight" | "percent" | "audience";

export interface VariantForm {
  /** A key of its own for React (variants are added and removed). */
  key: string;
  name: string;
  templateId: number | null;
  channel: Channel | null;
  offerId: number | null;
  segmentId: number | null;
  share: number | null;
}

export interface BroadcastForm {
  name: string;
  campaignId: number | null;
  segmentId: number | null;
  channel: Channel;
  topicId: number | null;
  ab: boolean;
  templateId: number | null;
  variants: VariantForm[];
  shareMode: ShareMode;
  holdoutPercent: number;
  testPercent: number;
  metric: Metric;
  windowHours: number;
  goalEvent: string;
  schedule: ScheduleMode;
  /** datetime-local text ("2026-09-01T10:00"): wall-clock time in the workspace's zone */
  sendAt: string;
  localDate: string;
  localTime: string;
}

let nextKey = 0;
export function variantKey(): string {
  nextKey += 1;
  return `v${nextKey}`;
}

/** A / B / C … Z, then V27, V28 …: the next name no variant has. */
export function nextVariantName(variants: VariantForm[]): string {
  const taken = new Set(variants.map((v) => v.name));
  for (let i = 0; i < 26; i++) {
    const name = String.fromCharCode(65 + i);
    if (!taken.has(name)) return name;
  }
  let n = variants.length + 1;
  while (taken.has(`V${n}`)) n++;
  return `V${n}`;
}

export function newVariant(variants: VariantForm[], shareMode: ShareMode): VariantForm {
  return {
    key: variantKey(),
    name: nextVariantName(variants),
    templateId: null,
    channel: null,
    offerId: null,
    segmentId: null,
    share: shareMode === "weight" ? 1 : null,
  };
}

export function emptyForm(campaignId: number | null = null): BroadcastForm {
  const a = newVariant([], "weight");
  const b = newVariant([a], "weight");
  return {
    name: "",
    campaignId,
    segmentId: null,
    channel: "email",
    topicId: null,
    ab: false,
    templateId: null,
    variants: [a, b],
    shareMode: "weight",
    holdoutPercent: 10,
    testPercent: 100,
    metric: "open",
    windowHours: 4,
    goalEvent: "Order Completed",
    schedule: "now",
    sendAt: "",
    localDate: "",
    localTime: "10:00",
  };
}

const WALL_CLOCK = "YYYY-MM-DDTHH:mm";

/** An instant as the wall clock in `zone` shows it, as datetime-local text. */
export function wallClock(iso: string, zone: string | null): string {
  try {
    return (zone ? dayjs(iso).tz(zone) : dayjs(iso)).format(WALL_CLOCK);
  } catch {
    return dayjs(iso).format(WALL_CLOCK);
  }
}

/** datetime-local text read in `zone`, as an instant in UTC ("…Z"); null when not a time. */
export function instantOf(text: string, zone: string | null): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return null;
  try {
    return (zone ? dayjs.tz(text.slice(0, 16), zone) : dayjs(text)).utc().format("YYYY-MM-DDTHH:mm:ss[Z]");
  } catch {
    return dayjs(text).utc().format("YYYY-MM-DDTHH:mm:ss[Z]");
  }
}

type Json = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** A stored broadcast as the form edits it. */
export function formOf(b: Broadcast, zone: string | null): BroadcastForm {
  const base = emptyForm(b.campaign_id);
  const exp = (b.experiment ?? null) as Json | null;
  const variants = Array.isArray(exp?.variants) ? (exp.variants as Json[]) : [];
  const shareMode: ShareMode = variants.some((v) => num(v.segment_id) !== null)
    ? "audience"
    : variants.some((v) => num(v.percent) !== null)
      ? "percent"
      : "weight";
  return {
    ...base,
    name: b.name,
    segmentId: b.segment_id,
    channel: b.channel,
    topicId: b.topic_id,
    ab: exp !== null,
    templateId: b.template_id,
    variants: exp
      ? variants.map((v) => ({
          key: variantKey(),
          name: str(v.name) ?? "",
          templateId: num(v.template_id),
          channel: (str(v.channel) as Channel | null) ?? null,
          offerId: num(v.offer_id),
          segmentId: num(v.segment_id),
          share: num(shareMode === "percent" ? v.percent : v.weight),
        }))
      : base.variants,
    shareMode,
    holdoutPercent: num(exp?.holdout_percent) ?? base.holdoutPercent,
    testPercent: num(exp?.test_percent) ?? base.testPercent,
    metric: (METRICS as readonly string[]).includes(str(exp?.metric) ?? "") ? (exp?.metric as Metric) : base.metric,
    windowHours: num(exp?.window_hours) ?? base.windowHours,
    goalEvent: str(exp?.goal_event) ?? base.goalEvent,
    schedule: b.local_date ? "local" : b.send_at ? "instant" : "now",
    sendAt: b.send_at ? wallClock(b.send_at, zone) : "",
    localDate: b.local_date ?? "",
    localTime: b.local_time ?? base.localTime,
  };
}

/** The experiment as the API takes it. */
export function experimentOf(form: BroadcastForm): Json {
  return {
    variants: form.variants.map((v) => {
      const out: Json = { name: v.name.trim(), template_id: v.templateId };
      if (form.shareMode === "weight") out.weight = v.share;
      if (form.shareMode === "percent") out.percent = v.share;
      if (form.shareMode === "audience") out.segment_id = v.segmentId;
      if (v.channel && v.channel !== form.channel) out.channel = v.channel;
      if (v.offerId !== null) out.offer_id = v.offerId;
      return out;
    }),
    holdout_percent: form.holdoutPercent,
    // variants of different audiences are measured, not judged: the whole audience is the test
    test_percent: form.shareMode === "audience" ? 100 : form.testPercent,
    metric: form.metric,
    window_hours: form.windowHours,
    goal_event: form.goalEvent.trim() || "Order Completed",
  };
}

/** The body of POST /broadcasts (PATCH takes the same fields: every one is sent, so what is
 * saved is what the form shows). */
export function bodyOf(form: BroadcastForm, zone: string | null): BroadcastCreate {
  return {
    name: form.name.trim(),
    campaign_id: form.campaignId,
    segment_id: form.segmentId,
    channel: form.channel,
    topic_id: form.topicId,
    template_id: form.ab ? null : form.templateId,
    experiment: form.ab ? experimentOf(form) : null,
    send_at: form.schedule === "instant" ? instantOf(form.sendAt, zone) : null,
    local_date: form.schedule === "local" ? form.localDate || null : null,
    local_time: form.schedule === "local" ? form.localTime || null : null,
  };
}

/** Where a problem is shown: a field of the form, or a variant's field. */
export type FieldKey =
  | "name"
  | "campaign"
  | "segment"
  | "channel"
  | "topic"
  | "template"
  | "experiment"
  | "holdout"
  | "test"
  | "window"
  | "goal"
  | "schedule"
  | `variant.${number}.${"name" | "template" | "channel" | "offer" | "segment" | "share"}`;

export interface Problem {
  field: FieldKey;
  /** A catalog key, or the server's own sentence */
  key?: MessageKey;
  text?: string;
}

/** What the form lacks before it can be sent (the server checks the rest). */
export function problemsOf(form: BroadcastForm): Problem[] {
  const out: Problem[] = [];
  if (!form.name.trim()) out.push({ field: "name", key: "broadcasts.error.name" });
  const audienceVariants = form.ab && form.shareMode === "audience";
  if (form.segmentId === null && !audienceVariants) out.push({ field: "segment", key: "broadcasts.error.segment" });
  if (!form.ab && form.templateId === null) out.push({ field: "template", key: "broadcasts.error.template" });
  if (form.ab) {
    const names = form.variants.map((v) => v.name.trim());
    form.variants.forEach((v, i) => {
      const name = v.name.trim();
      if (!name) out.push({ field: `variant.${i}.name`, key: "broadcasts.error.variantName" });
      else if (name === "holdout" || names.indexOf(name) !== i)
        out.push({ field: `variant.${i}.name`, key: "broadcasts.error.variantNameTaken" });
      if (v.templateId === null) out.push({ field: `variant.${i}.template`, key: "broadcasts.error.template" });
      if (form.shareMode === "audience" && v.segmentId === null)
        out.push({ field: `variant.${i}.segment`, key: "broadcasts.error.segment" });
      if (form.shareMode !== "audience" && (v.share === null || v.share <= 0))
        out.push({ field: `variant.${i}.share`, key: "broadcasts.error.share" });
    });
    if (form.shareMode === "percent") {
      const total = form.variants.reduce((sum, v) => sum + (v.share ?? 0), 0) + form.holdoutPercent;
      if (Math.abs(total - 100) > 1e-6) out.push({ field: "holdout", key: "broadcasts.error.percentTotal" });
    }
    if (form.shareMode === "audience") {
      const ids = form.variants.map((v) => v.segmentId).filter((s) => s !== null);
      if (new Set(ids).size !== ids.length) out.push({ field: "experiment", key: "broadcasts.error.sameSegment" });
    }
  }
  if (form.schedule === "instant" && instantOf(form.sendAt, null) === null)
    out.push({ field: "schedule", key: "broadcasts.error.sendAt" });
  if (form.schedule === "local" && (!/^\d{4}-\d{2}-\d{2}$/.test(form.localDate) || !/^\d{2}:\d{2}$/.test(form.localTime)))
    out.push({ field: "schedule", key: "broadcasts.error.local" });
  return out;
}

/** The field the server's refusal is about (its code, and the path its message names). */
export function problemOfError(error: unknown, form: BroadcastForm): Problem | null {
  if (!(error instanceof ApiError) || error.status !== 422) return null;
  const text = error.message;
  const variantNamed = /^variant ([^:]+): /.exec(text);
  const variantIndex = variantNamed ? form.variants.findIndex((v) => v.name === variantNamed[1]) : -1;
  const templateNamed = /^(?:no )?template (\d+)/.exec(text);
  const templateIndex = templateNamed ? form.variants.findIndex((v) => v.templateId === Number(templateNamed[1])) : -1;
  switch (error.code) {
    case "unknown_segment":
      return { field: variantIndex >= 0 ? `variant.${variantIndex}.segment` : "segment", text };
    case "unknown_offer":
      return { field: variantIndex >= 0 ? `variant.${variantIndex}.offer` : "experiment", text };
    case "unknown_template":
    case "template_channel_mismatch":
      return { field: form.ab && templateIndex >= 0 ? `variant.${templateIndex}.template` : form.ab ? "experiment" : "template", text };
    case "invalid_content":
      return { field: form.ab ? "experiment" : "template", text };
    case "unknown_topic":
    case "topic_channel_mismatch":
      return { field: "topic", text };
    case "unknown_campaign":
      return { field: "campaign", text };
    case "invalid_schedule":
      return { field: "schedule", text };
    case "invalid_experiment": {
      const path = /^experiment\.(\w+)(?:\[(\d+)\])?(?:\.(\w+))?/.exec(text);
      if (path?.[1] === "variants" && path[2] !== undefined) {
        const i = Number(path[2]);
        const part = path[3] ?? "";
        const field =
          part === "template_id" ? "template" : part === "segment_id" ? "segment" : part === "offer_id" ? "offer" : part === "channel" ? "channel" : part === "name" ? "name" : "share";
        return { field: `variant.${i}.${field}`, text };
      }
      const top: Record<string, FieldKey> = {
        holdout_percent: "holdout",
        test_percent: "test",
        window_hours: "window",
        goal_event: "goal",
      };
      return { field: (path && top[path[1] ?? ""]) || "experiment", text };
    }
    default: {
      const named = /^(\w+): /.exec(text);
      if (named?.[1] === "name") return { field: "name", text };
      return null;
    }
  }
}

/** "10:00 local time on 1 Sep 2026" etc. are built by the pages; this says which. */
export type When =
  | { kind: "now" }
  | { kind: "instant"; at: string }
  | { kind: "local"; date: string; time: string };

export function whenOf(b: Pick<Broadcast, "send_at" | "local_date" | "local_time">): When {
  if (b.local_date && b.local_time) return { kind: "local", date: b.local_date, time: b.local_time };
  if (b.send_at) return { kind: "instant", at: b.send_at };
  return { kind: "now" };
}

/** Messages that reached the provider (sent, delivered, or bounced after that). */
export function sentOf(b: Pick<Broadcast, "progress">): number {
  return b.progress.sent + b.progress.delivered + b.progress.bounced;
}

/** Messages settled: sent one way or another, failed or skipped. */
export function settledOf(b: Pick<Broadcast, "progress">): number {
  return sentOf(b) + b.progress.failed + b.progress.skipped;
}
