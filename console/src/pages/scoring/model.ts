// Score models and rules as the scoring pages show and edit them: decay in words, signed
// points, a rule in one line, a ledger entry's reason in the user's language (from `kind` and
// `params`; the API's English `reason` when the params are not enough). Pure functions.
import type { components } from "../../api/schema";
import type { MessageKey, Params } from "../../i18n";
import { isMessageKey } from "../../i18n";
import type { Condition, PropertyFilter } from "../segments/builder/model";

type Schemas = components["schemas"];
export type ScoreModel = Schemas["ScoreModelRead"];
export type ScoreRule = Schemas["ScoreRuleRead"];
export type LedgerEntry = Schemas["LedgerEntry"];
export type ContactScore = Schemas["ContactScore"];
export type ScoreReport = Schemas["ScoreReport"];
export type RecomputeStatus = Schemas["RecomputeProgress"]["status"];

type T = (key: MessageKey, params?: Params) => string;

export const DECAY_TYPES = ["none", "half_life", "points"] as const;
export type DecayType = (typeof DECAY_TYPES)[number];
export const CAP_PERIODS = ["day", "week", "month", "ever"] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];

/** The decay of a model as its form edits it (every field kept while the type changes). */
export interface DecayDraft {
  type: DecayType;
  days: number | null;
  points: number | null;
  every_days: number | null;
}

export function decayDraft(decay: Record<string, unknown> | null | undefined): DecayDraft {
  const type = DECAY_TYPES.includes(decay?.type as DecayType) ? (decay?.type as DecayType) : "none";
  const num = (v: unknown) => (typeof v === "number" ? v : null);
  return {
    type,
    days: num(decay?.days) ?? 30,
    points: num(decay?.points) ?? 5,
    every_days: num(decay?.every_days) ?? 30,
  };
}

/** The decay as the API takes it. */
export function decayBody(d: DecayDraft): Record<string, unknown> {
  if (d.type === "half_life") return { type: "half_life", days: d.days };
  if (d.type === "points") return { type: "points", points: d.points, every_days: d.every_days };
  return { type: "none" };
}

/** A number as text in the user's language ("1,234.5", "1,5"). */
export function numberText(n: number, lang: string): string {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format(n);
}

/** Points with their sign: "+10", "−20" (a true minus sign), "0". */
export function signed(n: number, lang: string): string {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 2, signDisplay: "exceptZero" })
    .format(n)
    .replace(/^-/, "−");
}

export function decayText(decay: Record<string, unknown> | null | undefined, t: T, lang: string): string {
  const d = decayDraft(decay);
  if (d.type === "half_life") return t("scoring.decayText.half_life", { days: numberText(d.days ?? 0, lang) });
  if (d.type === "points") {
    return t("scoring.decayText.points", { points: numberText(d.points ?? 0, lang), days: numberText(d.every_days ?? 0, lang) });
  }
  return t("scoring.decay.none");
}

// --- rules -----------------------------------------------------------------------------------

export interface Cap {
  points: number;
  per: CapPeriod;
}

/** A rule as its form edits it. */
export interface RuleDraft {
  name: string;
  points: number | null;
  kind: "event" | "condition";
  event: string | null;
  where: PropertyFilter[];
  capOn: boolean;
  cap: { points: number | null; per: CapPeriod };
  condition: Condition;
}

export function ruleDraft(rule: ScoreRule | null): RuleDraft {
  const body = (rule?.rule ?? {}) as Record<string, unknown>;
  const cap = body.cap as Cap | undefined | null;
  const condition = body.condition as Condition | undefined;
  return {
    name: rule?.name ?? "",
    points: rule?.points ?? 10,
    kind: rule?.kind ?? "event",
    event: typeof body.event === "string" ? body.event : null,
    where: Array.isArray(body.where) ? (body.where as PropertyFilter[]) : [],
    capOn: !!cap,
    cap: { points: cap?.points ?? 30, per: cap?.per ?? "day" },
    condition:
      condition && typeof condition === "object" && "type" in condition
        ? condition
        : { type: "attribute", attribute: "", operator: "eq", value: "" },
  };
}

/** The rule's body as the API takes it. */
export function ruleBody(d: RuleDraft): Record<string, unknown> {
  if (d.kind === "condition") return { kind: "condition", condition: d.condition };
  const body: Record<string, unknown> = { kind: "event", event: d.event?.trim() ?? "" };
  if (d.where.length > 0) body.where = d.where;
  if (d.capOn) body.cap = { points: d.cap.points, per: d.cap.per };
  return body;
}

/** The cap of an event rule in words ("at most 30 per day"), or null. */
export function capText(rule: ScoreRule, t: T, lang: string): string | null {
  const cap = (rule.rule as { cap?: Cap | null }).cap;
  if (rule.kind !== "event" || !cap) return null;
  const points = numberText(cap.points, lang);
  if (cap.per === "ever") return t("scoring.capEver", { points });
  return t("scoring.capText", { points, per: t(`scoring.cap.per.${cap.per}`) });
}

/** What makes the rule award points, in one line. */
export function ruleWhat(rule: ScoreRule, t: T): string {
  const body = rule.rule as Record<string, unknown>;
  if (rule.kind === "condition") {
    const kind = String((body.condition as { type?: unknown } | undefined)?.type ?? "");
    const key = `builder.kind.${kind}`;
    return t("scoring.rule.matches", { kind: isMessageKey(key) ? t(key) : kind });
  }
  const event = typeof body.event === "string" && body.event ? body.event : t("scoring.rule.anyEvent");
  const n = Array.isArray(body.where) ? body.where.length : 0;
  return n > 0 ? `${event} · ${t("scoring.rule.filters", { n })}` : event;
}

// --- the ledger ------------------------------------------------------------------------------

const LEDGER_KINDS = ["event", "entered", "exited", "decay", "recompute"];

/** A ledger kind in words (an unknown one as it is). */
export function kindLabel(kind: string, t: T): string {
  return LEDGER_KINDS.includes(kind) ? t(`scoring.kind.${kind}` as MessageKey) : kind;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * A ledger entry's reason in the user's language, from its `kind` and `params` (see the
 * engine: event `{rule, event, points, capped?, cap?}`, entered/exited `{rule, points}`,
 * decay `{type, half_life_days, days}` or `{type, points, every_days}`, recompute
 * `{rules: {name: points}}`; `bounded` when a bound cut the change). The API's English
 * `reason` when the params lack what the sentence needs.
 */
export function reasonText(entry: LedgerEntry, t: T, lang: string): string {
  const p = entry.params as Record<string, unknown>;
  const points = signed(entry.delta, lang);
  const rule = str(p.rule);
  let text: string | null = null;
  switch (entry.kind) {
    case "event": {
      const event = str(p.event);
      if (rule && event) text = t("scoring.reason.event", { rule, event, points });
      if (text && p.capped === true) text = t("scoring.reason.capped", { reason: text });
      break;
    }
    case "entered":
      if (rule) text = t("scoring.reason.entered", { rule, points });
      break;
    case "exited":
      if (rule) text = t("scoring.reason.exited", { rule, points });
      break;
    case "decay": {
      if (p.type === "half_life" && num(p.days) !== null && num(p.half_life_days) !== null) {
        text = t("scoring.reason.halfLife", {
          days: numberText(num(p.days) ?? 0, lang),
          halfLife: numberText(num(p.half_life_days) ?? 0, lang),
        });
      } else if (p.type === "points" && num(p.every_days) !== null) {
        text = t("scoring.reason.pointsDecay", { every: numberText(num(p.every_days) ?? 0, lang), points });
      }
      break;
    }
    case "recompute": {
      text = t("scoring.reason.recompute", { points });
      const rules = p.rules && typeof p.rules === "object" ? Object.entries(p.rules as Record<string, unknown>) : [];
      const parts = rules.filter(([, v]) => typeof v === "number" && v !== 0).map(([name, v]) => `${name} ${signed(v as number, lang)}`);
      if (parts.length > 0) text = t("scoring.reason.rules", { reason: text, rules: parts.join(lang === "zh-CN" ? "，" : ", ") });
      break;
    }
  }
  if (text === null) return entry.reason;
  return p.bounded === true ? t("scoring.reason.bounded", { reason: text }) : text;
}

/** The distribution's bucket in words: "0–10", the last one inclusive. */
export function bucketLabel(low: number, high: number, lang: string): string {
  return `${numberText(low, lang)}–${numberText(high, lang)}`;
}

/** Every day of [from, to] (YYYY-MM-DD), for the movement chart (the API lists only days with changes). */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  let time = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  while (!Number.isNaN(time) && time <= end && out.length < 400) {
    out.push(new Date(time).toISOString().slice(0, 10));
    time += 86_400_000;
  }
  return out;
}

export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,99}$/;
