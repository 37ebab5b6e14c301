// Nodes and triggers in words, for the canvas and the list.
import { isMessageKey, type I18n, type Language } from "../../i18n";
import type { Branch, JourneyNode } from "./graph";

type T = I18n["t"];

export interface Names {
  templates: ReadonlyMap<number, { name: string; channel: string }>;
  segments: ReadonlyMap<number, string>;
  topics: ReadonlyMap<number, string>;
}

export function kindLabel(kind: string, t: T): string {
  const key = `journeys.kind.${kind}`;
  return isMessageKey(key) ? t(key) : kind;
}

export function triggerLabel(kind: string, t: T): string {
  const key = `journeys.triggerKind.${kind}`;
  return isMessageKey(key) ? t(key) : kind;
}

export function channelLabel(channel: string, t: T): string {
  const key = `journeys.channel.${channel}`;
  return isMessageKey(key) ? t(key) : channel;
}

const INTL_UNITS: Record<string, string> = {
  seconds: "second",
  minutes: "minute",
  hours: "hour",
  days: "day",
  weeks: "week",
  months: "month",
  years: "year",
};

/** `{amount: 3, unit: "days"}` → "3 days" / "3天". */
export function durationText(value: unknown, lang: Language): string {
  if (!value || typeof value !== "object") return "";
  const { amount, unit } = value as { amount?: unknown; unit?: unknown };
  if (typeof amount !== "number") return "";
  const u = INTL_UNITS[typeof unit === "string" ? unit : "days"] ?? "day";
  try {
    return new Intl.NumberFormat(lang, { style: "unit", unit: u, unitDisplay: "long" }).format(amount);
  } catch {
    return `${amount} ${String(unit)}`;
  }
}

/** Weekday names, 0 = Monday, in the language. */
export function weekdayNames(lang: Language, width: "short" | "long" = "short"): string[] {
  const f = new Intl.DateTimeFormat(lang, { weekday: width, timeZone: "UTC" });
  // 2024-01-01 was a Monday
  return Array.from({ length: 7 }, (_, i) => f.format(new Date(Date.UTC(2024, 0, 1 + i))));
}

/** A probability (0–1) as a percentage: 0.35 → "35%", 0.125 → "12.5%". */
export function percentText(p: number): string {
  return `${Math.round(p * 1000) / 10}%`;
}

/** A percentage typed in the inspector (35) as the probability sent (0.35), without float noise. */
export function fromPercent(percent: number): number {
  return Math.round(percent * 10) / 1000;
}

export function timeText(value: unknown): string {
  return typeof value === "string" ? value.slice(0, 5) : "";
}

function list(lang: Language, items: string[]): string {
  try {
    return new Intl.ListFormat(lang, { style: "short", type: "conjunction" }).format(items);
  } catch {
    return items.join(", ");
  }
}

function countConditions(c: unknown): number {
  if (!c || typeof c !== "object") return 0;
  const node = c as { type?: unknown; conditions?: unknown; condition?: unknown };
  if (node.type === "all" || node.type === "any") {
    return Array.isArray(node.conditions) ? node.conditions.reduce((n: number, x) => n + countConditions(x), 0) : 0;
  }
  if (node.type === "not") return countConditions(node.condition);
  return 1;
}

function eventText(node: Record<string, unknown>, t: T): string {
  const event = typeof node.event === "string" && node.event ? node.event : "";
  if (!event) return "";
  const where = Array.isArray(node.where) ? node.where.length : 0;
  return where ? t("journeys.summary.eventWhere", { event, n: where }) : `“${event}”`;
}

/** One line about a node: "SMS · Welcome code", "At 20:00 on Tue, Thu". */
export function nodeSummary(node: JourneyNode, t: T, lang: Language, names: Names): string {
  switch (node.type) {
    case "wait":
      return durationText(node.duration, lang) ? t("journeys.summary.wait", { duration: durationText(node.duration, lang) }) : "";
    case "wait_until": {
      const time = timeText(node.time);
      if (!time) return "";
      const days = Array.isArray(node.weekdays) ? (node.weekdays as number[]) : null;
      if (!days || days.length === 0 || days.length === 7) return t("journeys.summary.waitUntil", { time });
      const namesOf = weekdayNames(lang);
      return t("journeys.summary.waitUntilDays", { time, days: list(lang, [...days].sort().map((d) => namesOf[d] ?? String(d))) });
    }
    case "wait_until_date": {
      const attribute = typeof node.attribute === "string" ? node.attribute : "";
      if (!attribute) return "";
      const offset = durationText(node.offset, lang);
      if (!offset) return t("journeys.summary.waitDate", { attribute });
      return t(node.before ? "journeys.summary.waitDateBefore" : "journeys.summary.waitDateAfter", { attribute, offset });
    }
    case "wait_for_event": {
      const event = eventText(node, t);
      const timeout = durationText(node.timeout, lang);
      return event && timeout ? t("journeys.summary.waitEvent", { event, timeout }) : "";
    }
    case "condition": {
      const n = countConditions(node.condition);
      return n ? t("journeys.summary.conditions", { n }) : "";
    }
    case "branch": {
      const n = Array.isArray(node.cases) ? node.cases.length : 0;
      return t("journeys.summary.cases", { n });
    }
    case "split": {
      const exp = node.experiment as { metric?: string; window_hours?: number } | null | undefined;
      const n = Array.isArray(node.branches) ? node.branches.length : 0;
      if (exp?.metric) {
        const metric = isMessageKey(`journeys.metric.${exp.metric}`) ? t(`journeys.metric.${exp.metric}` as never) : exp.metric;
        return t("journeys.summary.experiment", { n, metric, hours: exp.window_hours ?? "" });
      }
      return t("journeys.summary.split", { n });
    }
    case "send": {
      const channel = channelLabel(String(node.channel ?? ""), t);
      const id = typeof node.template_id === "number" ? node.template_id : null;
      if (id === null) return t("journeys.summary.sendNoTemplate", { channel });
      const name = names.templates.get(id)?.name ?? `#${id}`;
      return `${channel} · ${name}`;
    }
    case "update_contact": {
      const parts: string[] = [];
      const add = Array.isArray(node.add_tags) ? (node.add_tags as string[]) : [];
      const remove = Array.isArray(node.remove_tags) ? (node.remove_tags as string[]) : [];
      const traits = node.set_traits && typeof node.set_traits === "object" ? Object.keys(node.set_traits) : [];
      if (add.length) parts.push(t("journeys.summary.addTags", { tags: list(lang, add) }));
      if (remove.length) parts.push(t("journeys.summary.removeTags", { tags: list(lang, remove) }));
      if (traits.length) parts.push(t("journeys.summary.setTraits", { traits: list(lang, traits) }));
      if (typeof node.lifecycle_stage === "string" && node.lifecycle_stage) parts.push(t("journeys.summary.stage", { stage: node.lifecycle_stage }));
      return parts.join(" · ");
    }
    case "webhook": {
      const url = typeof node.url === "string" ? node.url : "";
      if (!url) return "";
      try {
        return t("journeys.summary.webhook", { host: new URL(url).host || url });
      } catch {
        return t("journeys.summary.webhook", { host: url });
      }
    }
    case "notify_sales": {
      const owners = Array.isArray(node.owners) ? node.owners.length : 0;
      return owners ? t("journeys.summary.owners", { n: owners }) : "";
    }
    case "task": {
      const title = typeof node.title === "string" ? node.title.trim() : "";
      if (!title) return "";
      const kindKey = `journeys.enum.kind.${String(node.kind ?? "")}`;
      const kind = isMessageKey(kindKey) ? t(kindKey) : String(node.kind ?? "");
      return t("journeys.summary.task", { kind, title, assignee: assigneeText(node.assignee, t) });
    }
    case "assign_offer": {
      const keys = Array.isArray(node.offer_keys) ? (node.offer_keys as string[]) : [];
      return keys.length ? t("journeys.summary.offers", { offers: list(lang, keys) }) : t("journeys.summary.anyOffer");
    }
    case "exit":
      return t("journeys.summary.exit");
    default:
      return "";
  }
}

/** A task's assignee in words: "the owner", "queue inside_sales", "user #12". */
export function assigneeText(value: unknown, t: T): string {
  const v = typeof value === "string" ? value : "owner";
  if (v.startsWith("queue:")) return t("journeys.assignee.queueNamed", { queue: v.slice("queue:".length) });
  if (v.startsWith("user:")) return t("journeys.assignee.userNamed", { id: v.slice("user:".length) });
  return t("journeys.assignee.ownerText");
}

export function triggerSummary(trigger: Record<string, unknown>, t: T, names: Pick<Names, "segments">): string {
  const kind = String(trigger.type ?? "");
  const segment = () => {
    const id = typeof trigger.segment_id === "number" ? trigger.segment_id : null;
    return id === null ? "" : (names.segments.get(id) ?? `#${id}`);
  };
  switch (kind) {
    case "event": {
      const event = typeof trigger.event === "string" ? trigger.event : "";
      return event ? t("journeys.triggerText.event", { event }) : "";
    }
    case "segment_entered":
    case "segment_exited":
      return segment() ? t(`journeys.triggerText.${kind}`, { segment: segment() }) : "";
    case "tag_added":
    case "tag_removed": {
      const tag = typeof trigger.tag === "string" ? trigger.tag : "";
      return tag ? t(`journeys.triggerText.${kind}`, { tag }) : "";
    }
    case "attribute_changed": {
      const attribute = typeof trigger.attribute === "string" ? trigger.attribute : "";
      if (!attribute) return "";
      return trigger.to !== undefined && trigger.to !== null
        ? t("journeys.triggerText.attributeTo", { attribute, to: String(trigger.to) })
        : t("journeys.triggerText.attribute", { attribute });
    }
    case "date": {
      const attribute = typeof trigger.attribute === "string" ? trigger.attribute : "";
      if (!attribute) return "";
      return t(trigger.anniversary === false ? "journeys.triggerText.dateOnce" : "journeys.triggerText.anniversary", {
        attribute,
        time: timeText(trigger.at ?? "09:00"),
      });
    }
    case "schedule": {
      const cron = typeof trigger.cron === "string" ? trigger.cron : "";
      return cron && segment() ? t("journeys.triggerText.schedule", { cron, segment: segment() }) : "";
    }
    case "score_crossed": {
      const model = typeof trigger.model === "string" ? trigger.model : "";
      if (!model || typeof trigger.threshold !== "number") return "";
      return t(trigger.direction === "down" ? "journeys.triggerText.scoreDown" : "journeys.triggerText.scoreUp", {
        model,
        threshold: trigger.threshold,
      });
    }
    case "predicted_crossed": {
      const model = typeof trigger.model === "string" ? trigger.model : "";
      if (!model || typeof trigger.threshold !== "number") return "";
      return t(trigger.direction === "down" ? "journeys.triggerText.predictedDown" : "journeys.triggerText.predictedUp", {
        model,
        percent: percentText(trigger.threshold),
      });
    }
    case "api":
      return t("journeys.triggerText.api");
    default:
      return kind;
  }
}

/** A handle's words: "Yes", "Timed out", "VIP", "Holdout (10%)". */
export function branchLabel(b: Branch, t: T): string {
  switch (b.kind) {
    case "case":
      return b.name || t("journeys.branch.case");
    case "outcome":
      return b.name || t("journeys.branch.outcome");
    case "split": {
      const share =
        b.share?.percent !== undefined ? `${b.share.percent}%` : b.share?.weight !== undefined ? `×${b.share.weight}` : "";
      const name = b.name || t("journeys.branch.split");
      return b.holdout ? t("journeys.branch.holdout", { name, share }) : share ? `${name} ${share}` : name;
    }
    default:
      return t(`journeys.branch.${b.kind}`);
  }
}
