// The segment definition as the builder edits it: the JSON of docs/segments.md, nothing
// added (what is edited is what is previewed and saved). Conditions are kept loosely typed
// (`{type, ...}`): a kind the console does not know yet still round-trips untouched.
import type { DurationValue, OperatorRef, SegmentReference } from "../../../api/types";

export type Condition = { type: string } & Record<string, unknown>;
export type Duration = DurationValue;
export type DurationUnit = Duration["unit"];

export interface Window {
  last?: Duration | null;
  since?: string | null;
  until?: string | null;
}

export interface PropertyFilter {
  property: string;
  operator: string;
  value?: unknown;
}

export interface EventMatch {
  event: string | null;
  where?: PropertyFilter[];
}

export interface Definition {
  schema_version: number;
  root: Condition;
}

export type ValueShape = OperatorRef["value"];
export type ValueType = OperatorRef["types"][number];
/** The types an event property filter compares as (its value's JSON type). */
export const PROPERTY_TYPES = ["string", "number", "boolean"] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];

export const GROUP_KINDS = ["all", "any"] as const;
export const isGroup = (c: Condition): boolean => c.type === "all" || c.type === "any";

export function conditionsOf(c: Condition): Condition[] {
  return Array.isArray(c.conditions) ? (c.conditions as Condition[]) : [];
}

export function childOf(c: Condition): Condition | null {
  const child = c.condition;
  return typeof child === "object" && child !== null && "type" in child ? (child as Condition) : null;
}

export const emptyDefinition = (): Definition => ({ schema_version: 1, root: { type: "all", conditions: [] } });

/** A definition read from the server, or a fresh one. */
export function definitionFrom(raw: unknown): Definition {
  if (typeof raw === "object" && raw !== null && "root" in raw) {
    const d = raw as { schema_version?: unknown; root?: unknown };
    if (typeof d.root === "object" && d.root !== null && "type" in d.root) {
      return { schema_version: typeof d.schema_version === "number" ? d.schema_version : 1, root: d.root as Condition };
    }
  }
  return emptyDefinition();
}

// --- operators -------------------------------------------------------------------------------

/** The operators the reference allows on a value of `type` (a new operator appears by itself). */
export function operatorsFor(ref: SegmentReference, type: string): OperatorRef[] {
  return ref.operators.filter((o) => (o.types as string[]).includes(type));
}

/** Operators of a property filter: a value of that type, and no duration (properties are untyped). */
export function propertyOperators(ref: SegmentReference, type: PropertyType): OperatorRef[] {
  return operatorsFor(ref, type).filter((o) => ["none", "one", "list", "pair"].includes(o.value));
}

export function findOperator(ref: SegmentReference, key: string): OperatorRef | undefined {
  return ref.operators.find((o) => o.key === key);
}

/** The value an operator starts with when chosen. */
export function defaultValue(shape: ValueShape | undefined, type: string): unknown {
  switch (shape) {
    case "none":
      return undefined;
    case "list":
      return [];
    case "pair":
      return [null, null];
    case "duration":
      return { amount: 7, unit: "days" };
    case "duration_pair":
      return [
        { amount: 7, unit: "days" },
        { amount: 30, unit: "days" },
      ];
    case "age_range":
      return [18, 65];
    default:
      return type === "boolean" ? true : type === "number" ? null : "";
  }
}

/** `{...}` with the operator set, and a value fitting it (kept when the shape stays). */
export function withOperator<T extends object>(node: T, ref: SegmentReference, key: string, type: string): T {
  const old = node as { operator?: unknown };
  const before = findOperator(ref, String(old.operator ?? ""));
  const after = findOperator(ref, key);
  const next = { ...node, operator: key } as Record<string, unknown>;
  if (!before || !after || before.value !== after.value) {
    const value = defaultValue(after?.value, type);
    if (value === undefined) delete next.value;
    else next.value = value;
  }
  return next as T;
}

/** A property filter's type, read from its value as the server does (text by default). */
export function propertyTypeOf(value: unknown): PropertyType {
  const sample = Array.isArray(value) ? value[0] : value;
  if (typeof sample === "boolean") return "boolean";
  if (typeof sample === "number") return "number";
  return "string";
}

/** A value converted to another property type (keeps what still makes sense). */
export function convertValue(value: unknown, type: PropertyType | ValueType): unknown {
  const one = (v: unknown): unknown => {
    if (v === null || v === undefined || v === "") return type === "boolean" ? true : type === "number" ? null : "";
    if (type === "number") {
      const n = typeof v === "number" ? v : Number(v);
      return Number.isFinite(n) ? n : null;
    }
    if (type === "boolean") return v === true || v === "true";
    return String(v);
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

// --- defaults per kind -----------------------------------------------------------------------

const LAST_7_DAYS: Window = { last: { amount: 7, unit: "days" } };

/** A new condition of `kind`, ready to edit. */
export function newCondition(kind: string, ref: SegmentReference | undefined): Condition {
  switch (kind) {
    case "all":
    case "any":
      return { type: kind, conditions: [] };
    case "not":
      return { type: "not", condition: newCondition("attribute", ref) };
    case "attribute":
      return { type: "attribute", attribute: "", operator: "eq", value: "" };
    case "tag":
      return { type: "tag", tag: "", present: true };
    case "performed":
      return { type: "performed", event: null, where: [], count: { op: ">=", value: 1 }, window: { ...LAST_7_DAYS } };
    case "not_performed":
      return { type: "not_performed", event: null, where: [], window: { ...LAST_7_DAYS } };
    case "aggregate":
      return {
        type: "aggregate",
        event: null,
        where: [],
        function: "sum",
        property: "",
        operator: "gt",
        value: 0,
        window: { last: { amount: 30, unit: "days" } },
      };
    case "first_performed":
    case "last_performed":
      return { type: kind, event: null, where: [], operator: "within_last", value: { amount: 30, unit: "days" } };
    case "sequence":
      return {
        type: "sequence",
        first: { event: null, where: [] },
        then: [{ event: null, where: [] }],
        expect: "absent",
        within: { amount: 1, unit: "days" },
        window: { ...LAST_7_DAYS },
      };
    case "segment":
      return { type: "segment", segment_id: 0, member: true };
    case "subscription":
      return { type: "subscription", channel: "email", topic: null, subscribed: true };
    case "random_bucket":
      return { type: "random_bucket", percent: 10, salt: "" };
    case "score":
      return { type: "score", model: "", operator: "gte", value: null };
    case "predicted":
      return { type: "predicted", model: "", operator: "gte", value: null };
    case "account":
      return { type: "account", where: [], present: true };
    default:
      return { type: kind };
  }
}

/**
 * The condition after its kind changed: a group keeps its conditions, a condition put under
 * `not` (or into a group) is kept inside it, and `not` gives back its condition when it is of
 * the kind asked for.
 */
export function changeKind(current: Condition, kind: string, ref: SegmentReference | undefined): Condition {
  if (kind === current.type) return current;
  if (isGroup(current) && (kind === "all" || kind === "any")) return { ...current, type: kind };
  if (kind === "not") return { type: "not", condition: current };
  if ((kind === "all" || kind === "any") && current.type === "not") {
    const child = childOf(current);
    return { type: kind, conditions: child ? [child] : [] };
  }
  if ((kind === "all" || kind === "any") && !isGroup(current)) return { type: kind, conditions: [current] };
  if (current.type === "not") {
    const child = childOf(current);
    if (child?.type === kind) return child;
  }
  const fresh = newCondition(kind, ref);
  // Event conditions keep their event and property filters.
  if ("event" in current && "event" in fresh) {
    fresh.event = current.event;
    if (Array.isArray(current.where)) fresh.where = current.where;
  }
  return fresh;
}

// --- completeness ----------------------------------------------------------------------------

function valueMissing(shape: ValueShape | undefined, value: unknown): boolean {
  const blank = (v: unknown) => v === null || v === undefined || v === "" || (typeof v === "number" && Number.isNaN(v));
  const durationBlank = (v: unknown) =>
    typeof v !== "object" || v === null || blank((v as { amount?: unknown }).amount);
  switch (shape) {
    case "none":
      return false;
    case "list":
      return !Array.isArray(value) || value.length === 0;
    case "pair":
    case "age_range":
      return !Array.isArray(value) || value.length !== 2 || value.some(blank);
    case "duration":
      return durationBlank(value);
    case "duration_pair":
      return !Array.isArray(value) || value.length !== 2 || value.some(durationBlank);
    default:
      return blank(value);
  }
}

/** The value of an operator node is missing (the shape comes from the reference). */
export function operatorValueMissing(ref: SegmentReference, node: object): boolean {
  const n = node as { operator?: unknown; value?: unknown };
  const op = findOperator(ref, String(n.operator ?? ""));
  return op ? valueMissing(op.value, n.value) : false;
}

function filtersIncomplete(ref: SegmentReference, where: unknown): boolean {
  if (!Array.isArray(where)) return false;
  return (where as PropertyFilter[]).some((f) => !f.property?.trim() || operatorValueMissing(ref, f));
}

function windowIncomplete(window: unknown): boolean {
  const w = window as Window | undefined;
  return !!w?.last && valueMissing("duration", w.last);
}

/** The paths (as the server names them: `root.conditions[1]`) of conditions still to be filled in. */
export function incompletePaths(ref: SegmentReference, root: Condition, path = "root"): string[] {
  const c = root;
  if (isGroup(c)) return conditionsOf(c).flatMap((child, i) => incompletePaths(ref, child, `${path}.conditions[${i}]`));
  if (c.type === "not") {
    const child = childOf(c);
    return child ? incompletePaths(ref, child, `${path}.condition`) : [path];
  }
  const own = isIncomplete(ref, c) ? [path] : [];
  // an account condition's member condition is a tree of its own
  const members = c.type === "account" ? (c.members as { condition?: unknown } | null | undefined) : null;
  const nested = members?.condition;
  if (typeof nested === "object" && nested !== null && "type" in nested) {
    return [...own, ...incompletePaths(ref, nested as Condition, `${path}.members.condition`)];
  }
  return own;
}

/** A leaf condition lacks something it needs (the server would refuse it). */
export function isIncomplete(ref: SegmentReference, c: Condition): boolean {
  switch (c.type) {
    case "attribute":
      return !c.attribute || operatorValueMissing(ref, c);
    case "tag":
      return !String(c.tag ?? "").trim();
    case "performed": {
      const count = c.count as { value?: unknown } | undefined;
      return filtersIncomplete(ref, c.where) || windowIncomplete(c.window) || (!!count && valueMissing("one", count.value));
    }
    case "not_performed":
      return filtersIncomplete(ref, c.where) || windowIncomplete(c.window);
    case "aggregate":
      return (
        !String(c.property ?? "").trim() ||
        operatorValueMissing(ref, c) ||
        filtersIncomplete(ref, c.where) ||
        windowIncomplete(c.window)
      );
    case "first_performed":
    case "last_performed":
      return operatorValueMissing(ref, c) || filtersIncomplete(ref, c.where);
    case "sequence": {
      const steps = [c.first as EventMatch | undefined, ...((c.then as EventMatch[] | undefined) ?? [])];
      return (
        steps.some((s) => !s || filtersIncomplete(ref, s.where)) ||
        windowIncomplete(c.window) ||
        (!!c.within && valueMissing("duration", c.within))
      );
    }
    case "segment":
      return !(typeof c.segment_id === "number" && c.segment_id > 0);
    case "subscription":
      return !c.channel && !c.topic;
    case "random_bucket":
      return valueMissing("one", c.percent);
    case "score":
    case "predicted":
      return !String(c.model ?? "").trim() || operatorValueMissing(ref, c);
    case "account": {
      const where = Array.isArray(c.where) ? (c.where as { attribute?: unknown }[]) : [];
      const members = c.members as { value?: unknown } | null | undefined;
      return (
        where.some((f) => !String(f.attribute ?? "").trim() || operatorValueMissing(ref, f)) ||
        (!!members && typeof members.value !== "number")
      );
    }
    default:
      return false;
  }
}

// --- paths and numbering ---------------------------------------------------------------------

/** "1.2" for `root.conditions[0].conditions[1]`: how a condition is named to people. */
export function conditionNumber(path: string): string {
  const parts: string[] = [];
  const re = /\.conditions\[(\d+)\]|\.condition(?!s)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) parts.push(m[1] !== undefined ? String(Number(m[1]) + 1) : "1");
  return parts.join(".");
}

/**
 * The condition path an error message of the server names (`root.conditions[2].operator: …`
 * → `root.conditions[2]`), and the rest of the message.
 */
export function errorPath(message: string): { path: string; field: string } | null {
  const m = /^(root(?:\.conditions\[\d+\]|\.condition(?!s))*)((?:\.[A-Za-z_]+|\[\d+\])*):/.exec(message);
  if (!m) return null;
  return { path: m[1] ?? "root", field: (m[2] ?? "").replace(/^\./, "") };
}

/** Segment ids a definition refers to. */
export function referredSegments(c: Condition): number[] {
  if (c.type === "segment" && typeof c.segment_id === "number") return [c.segment_id];
  if (isGroup(c)) return conditionsOf(c).flatMap(referredSegments);
  const child = childOf(c);
  return child ? referredSegments(child) : [];
}
