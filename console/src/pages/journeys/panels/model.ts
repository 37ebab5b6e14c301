// Pure functions of the panels: API answers → canvas overlays, and the simulation request
// from the form. No React.
import type { components } from "../../../api/schema";
import { nodesOf } from "./diff";
import { TRIGGER_NODE_ID, type Definition, type NodeOverlay, type NodeStats, type Overlays } from "./overlay";

type Schemas = components["schemas"];
export type JourneyStats = Schemas["JourneyStatsRead"];
export type NodeStatsRead = Schemas["NodeStatsRead"];
export type JourneyTotals = Schemas["JourneyTotalsRead"];
export type JourneyEnrollment = Schemas["JourneyEnrollmentRead"];
export type JourneyVersion = Schemas["JourneyVersionRead"];
export type SimulationCreate = Schemas["SimulationCreate"];
export type SimulationRead = Schemas["SimulationRead"];
export type SimulatedStep = Schemas["SimulatedStep"];
export type SimulatedMessage = Schemas["SimulatedMessage"];
export type EnrollmentState = JourneyEnrollment["state"];

const ZERO: NodeStats = { entered: 0, current: 0, passed: 0, converted: 0, exited: 0 };

function figures(s: NodeStatsRead | undefined): NodeStats {
  if (!s) return { ...ZERO };
  return { entered: s.entered, current: s.current, passed: s.passed, converted: s.converted, exited: s.exited };
}

/**
 * The figures of every node of `definition` (zero where nobody came), and on the trigger the
 * enrollments that entered (all of them passed it).
 */
export function statsOverlays(stats: JourneyStats, definition: Definition): Overlays {
  const out: Overlays = {};
  for (const id of Object.keys(nodesOf(definition))) out[id] = { stats: figures(stats.nodes[id]) };
  const entered = stats.totals.entered;
  out[TRIGGER_NODE_ID] = { stats: { ...ZERO, entered, passed: entered } };
  return out;
}

/** Nodes with figures that the definition on the canvas does not have (those of another version). */
export function nodesElsewhere(stats: JourneyStats, definition: Definition): [string, NodeStatsRead][] {
  const known = nodesOf(definition);
  return Object.entries(stats.nodes).filter(([id]) => !(id in known) && id !== "");
}

/** Converted / entered, or null before anyone entered. */
export function conversionRate(totals: JourneyTotals): number | null {
  return totals.entered > 0 ? totals.converted / totals.entered : null;
}

/** The first words of a rendered message, for a note on the canvas. */
export function messageGist(message: SimulatedMessage, max = 40): string | null {
  const c = message.content ?? {};
  const pick = (...keys: string[]) => {
    for (const k of keys) {
      const v = c[k];
      if (typeof v === "string" && v.trim()) return v.trim();
    }
    return null;
  };
  let text = pick("subject", "title", "text", "body");
  if (!text && c.payload !== undefined) text = JSON.stringify(c.payload);
  if (!text && c.data !== undefined) text = JSON.stringify(c.data);
  if (!text) return null;
  text = text.replace(/\s+/g, " ");
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  const space = cut.lastIndexOf(" ");
  if (space > max / 2) cut = cut.slice(0, space); // a whole word (text without spaces, e.g. Chinese, is cut anywhere)
  return `${cut.replace(/[\s,.;:，。；：、—-]+$/u, "")}…`;
}

export type SimulationWords = {
  /** "Waits until {time}" (the time formatted in the workspace's zone by the caller). */
  waitsUntil: (iso: string) => string;
  /** "Waits for {event}" when a wait has no timer. */
  waitsFor: (event: string) => string;
  /** "Email: {gist}" */
  message: (channel: string, gist: string) => string;
};

/**
 * The path of a simulation lit on the canvas: every node it passed (`path`), the last one
 * `current` when the enrollment was still there at the end, `end` when it ended there; a
 * note under each wait (until when) and under each message (its first words).
 */
export function simulationOverlays(result: SimulationRead, words: SimulationWords): Overlays {
  const out: Overlays = {};
  const note = (id: string, text: string) => {
    const o: NodeOverlay = (out[id] ??= {});
    o.notes = [...(o.notes ?? []), text].filter((v, i, all) => all.indexOf(v) === i);
  };
  if (!result.entered) return out;
  out[TRIGGER_NODE_ID] = { highlight: "path" };
  for (const step of result.path) (out[step.node] ??= {}).highlight = "path";
  for (const wait of result.waits) {
    if (wait.until) note(wait.node, words.waitsUntil(wait.until));
    else if (wait.event) note(wait.node, words.waitsFor(wait.event));
  }
  for (const m of result.messages) {
    const gist = messageGist(m);
    if (gist) note(m.node, words.message(m.channel, gist));
  }
  const final = result.final;
  const last = finalNode(result);
  if (final && last) (out[last] ??= {}).highlight = final.state === "active" ? "current" : "end";
  return out;
}

/** Where the simulated enrollment is at the end, or ended: a completed one names no node, its last step does. */
export function finalNode(result: SimulationRead): string | null {
  return result.final?.node ?? result.path.at(-1)?.node ?? null;
}

// ---- the simulation form ------------------------------------------------------------------

export const DURATION_UNITS = ["minutes", "hours", "days", "weeks", "months"] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

export type KeyValueRow = { key: string; value: string };

export type TimelineRow = {
  id: number;
  /** An offset from the start, or an instant: a wall-clock time in the workspace's zone ("2026-03-05T09:30"). */
  mode: "after" | "at";
  amount: number | null;
  unit: DurationUnit;
  instant: string | null;
  event: string;
  /** The event's properties as JSON text ({} when empty). */
  properties: string;
};

export type SimulationForm = {
  version: "draft" | "live";
  who: "real" | "hypothetical";
  contactId: number | null;
  contact: {
    email: string;
    phone: string;
    first_name: string;
    timezone: string;
    traits: KeyValueRow[];
    tags: string[];
  };
  events: TimelineRow[];
  untilAmount: number | null;
  untilUnit: DurationUnit;
  /** `{{ payload.… }}` as JSON text (empty: none). */
  payload: string;
  /** The entering event's properties, for event triggers (JSON text; empty: none). */
  triggerEvent: string;
};

export const emptyForm = (version: "draft" | "live"): SimulationForm => ({
  version,
  who: "hypothetical",
  contactId: null,
  contact: { email: "", phone: "", first_name: "", timezone: "", traits: [{ key: "", value: "" }], tags: [] },
  events: [],
  untilAmount: 30,
  untilUnit: "days",
  payload: "",
  triggerEvent: "",
});

/**
 * A trait value as typed: JSON when it reads as JSON (42, true, ["a","b"], {"k":1}, null),
 * else the text itself — so `42` is a number and `hello` a string.
 */
export function traitValue(text: string): unknown {
  const t = text.trim();
  if (t === "") return "";
  if (/^(-?\d|\[|\{|"|true$|false$|null$)/.test(t)) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** Where a form value is wrong: the field and the message key's parameters. */
export type FormProblem = { field: string; problem: "json" | "jsonObject" | "required" | "positive" };

function jsonObject(text: string, field: string, problems: FormProblem[]): Record<string, unknown> | undefined {
  if (text.trim() === "") return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    problems.push({ field, problem: "jsonObject" });
  } catch {
    problems.push({ field, problem: "json" });
  }
  return undefined;
}

/** The request of `POST /journeys/{id}/simulate` from the form, or the problems to show on its fields. */
export function simulationRequest(
  form: SimulationForm,
  triggerType: string | null,
  zone: string | null,
): { body: SimulationCreate; problems: [] } | { body: null; problems: FormProblem[] } {
  const problems: FormProblem[] = [];
  const body: SimulationCreate = { version: form.version, events: [] };
  if (form.who === "real") {
    if (form.contactId === null) problems.push({ field: "contact", problem: "required" });
    else body.contact_id = form.contactId;
  } else {
    const c = form.contact;
    const traits: Record<string, unknown> = {};
    for (const row of c.traits) if (row.key.trim()) traits[row.key.trim()] = traitValue(row.value);
    body.contact = {
      email: c.email.trim() || null,
      phone: c.phone.trim() || null,
      first_name: c.first_name.trim() || null,
      timezone: c.timezone.trim() || null,
      traits,
      tags: c.tags.map((t) => t.trim()).filter(Boolean),
    };
  }
  form.events.forEach((row, i) => {
    const name = row.event.trim();
    if (!name) problems.push({ field: `events.${i}.event`, problem: "required" });
    const properties = jsonObject(row.properties, `events.${i}.properties`, problems) ?? {};
    if (row.mode === "after") {
      if (row.amount === null || row.amount < 0) problems.push({ field: `events.${i}.at`, problem: "required" });
      else body.events!.push({ at: { amount: row.amount, unit: row.unit }, event: name, properties });
    } else {
      const at = row.instant ? zonedToUtc(row.instant, zone) : null;
      if (at === null) problems.push({ field: `events.${i}.at`, problem: "required" });
      else body.events!.push({ at, event: name, properties });
    }
  });
  if (form.untilAmount === null || form.untilAmount <= 0) problems.push({ field: "until", problem: "positive" });
  else body.until = { amount: form.untilAmount, unit: form.untilUnit };
  const payload = jsonObject(form.payload, "payload", problems);
  if (payload) body.payload = payload;
  if (triggerType === "event") {
    const properties = jsonObject(form.triggerEvent, "triggerEvent", problems);
    if (properties) body.trigger_event = { properties };
  }
  return problems.length > 0 ? { body: null, problems } : { body, problems: [] };
}

/** Event names a journey listens for (event trigger, event waits, goal, exit rules), for suggestions. */
export function journeyEventNames(definition: Definition): string[] {
  const names = new Set<string>();
  const add = (v: unknown) => {
    if (v && typeof v === "object" && typeof (v as { event?: unknown }).event === "string") {
      names.add((v as { event: string }).event);
    }
  };
  const trigger = definition.trigger as { type?: string } | undefined;
  if (trigger?.type === "event") add(trigger);
  add(definition.goal);
  if (Array.isArray(definition.exit_on)) definition.exit_on.forEach(add);
  for (const node of Object.values(nodesOf(definition))) if (node.type === "wait_for_event") add(node);
  return [...names].sort();
}

/** The milliseconds `zone`'s wall clock is ahead of UTC at the instant `ms`. */
function zoneOffsetMs(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * A wall-clock time typed in a `datetime-local` field ("2026-03-05T09:30"), read in `zone`
 * (the workspace's; the browser's when null or unknown), as an ISO 8601 instant in UTC.
 * A time skipped by a daylight-saving change is read with the offset before the change.
 */
export function zonedToUtc(local: string, zone: string | null): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  if (zone) {
    try {
      let guess = wall - zoneOffsetMs(wall, zone);
      guess = wall - zoneOffsetMs(guess, zone);
      return new Date(guess).toISOString();
    } catch {
      // an unknown zone: the browser's
    }
  }
  const local_ = new Date(y, mo - 1, d, h, mi, s);
  return Number.isNaN(local_.getTime()) ? null : local_.toISOString();
}
