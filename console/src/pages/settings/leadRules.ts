// Lead management settings: lifecycle rules, stage SLAs and assignment rules as forms edit
// them, and back to the bodies `/api/v1/lifecycle-rules`, `/lifecycle-slas` and
// `/assignment-rules` take (docs/leads.md, "Lifecycle, assignment…").
import type { components } from "../../api/schema";
import type { Condition, PropertyFilter } from "../segments/builder/model";

type Schemas = components["schemas"];
export type LifecycleRule = Schemas["LifecycleRuleRead"];
export type LifecycleRuleBody = Schemas["LifecycleRuleIn"];
export type AssignmentRule = Schemas["AssignmentRuleRead"];
export type AssignmentRuleBody = Schemas["AssignmentRuleIn"];
export type AssignmentMethod = AssignmentRule["method"];
export type StageSla = Schemas["StageSla"];
export type LeadOwner = Schemas["OwnerCandidate"];

export const ASSIGNMENT_METHODS: AssignmentMethod[] = ["round_robin", "territory", "account_owner"];

/** Stages a workspace usually has (stages are free text): offered with those in use. */
export const COMMON_STAGES = ["subscriber", "lead", "MQL", "SQL", "opportunity", "customer", "nurture"];

/**
 * Events that move leads, offered first as a rule's trigger: the two a sales decision records
 * (`Lead Accepted`, `Lead Rejected` — docs/leads.md), a first order, and a CRM deal won.
 */
export const TRIGGER_EVENTS = [
  { event: "Lead Accepted", key: "accepted" },
  { event: "Lead Rejected", key: "rejected" },
  { event: "Order Completed", key: "order" },
  { event: "Deal Won", key: "dealWon" },
] as const;

/** The value standing for "no stage yet" (null) in the from-stages select. */
export const NO_STAGE = "\u0000none";

export type Trigger = "condition" | "event";

export interface LifecycleDraft {
  name: string;
  stage: string;
  trigger: Trigger;
  condition: Condition;
  event: string | null;
  where: PropertyFilter[];
  /** null: from any stage; NO_STAGE in the list stands for null */
  fromStages: string[] | null;
  enabled: boolean;
}

export const emptyGroup = (): Condition => ({ type: "all", conditions: [] });

export function lifecycleDraft(rule: LifecycleRule | null): LifecycleDraft {
  const event = (rule?.event ?? null) as { event?: string; where?: PropertyFilter[] } | null;
  return {
    name: rule?.name ?? "",
    stage: rule?.stage ?? "",
    trigger: rule?.event ? "event" : "condition",
    condition: (rule?.condition as Condition | null) ?? emptyGroup(),
    event: event?.event ?? null,
    where: event?.where ?? [],
    fromStages: rule?.from_stages ? rule.from_stages.map((s) => s ?? NO_STAGE) : null,
    enabled: rule?.enabled ?? true,
  };
}

/** The body of a draft: a condition or an event, never both. */
export function lifecycleBody(d: LifecycleDraft, position?: number): LifecycleRuleBody {
  return {
    name: d.name.trim(),
    stage: d.stage.trim(),
    condition: d.trigger === "condition" ? (d.condition as LifecycleRuleBody["condition"]) : null,
    event: d.trigger === "event" ? { event: (d.event ?? "").trim(), where: d.where } : null,
    from_stages: d.fromStages && d.fromStages.length ? d.fromStages.map((s) => (s === NO_STAGE ? null : s)) : null,
    enabled: d.enabled,
    ...(position !== undefined ? { position } : {}),
  };
}

/** A saved rule as the body that replaces it (for a new position or enabled flag). */
export function lifecycleRuleBody(rule: LifecycleRule, patch: Partial<LifecycleRuleBody> = {}): LifecycleRuleBody {
  return {
    name: rule.name,
    stage: rule.stage,
    condition: (rule.condition as LifecycleRuleBody["condition"]) ?? null,
    event: (rule.event as LifecycleRuleBody["event"]) ?? null,
    from_stages: rule.from_stages,
    enabled: rule.enabled,
    position: rule.position,
    ...patch,
  };
}

export interface AssignmentDraft {
  name: string;
  stage: string;
  method: AssignmentMethod;
  users: number[];
  attribute: string;
  territories: { value: string; user: number | null }[];
  reassign: boolean;
}

export function assignmentDraft(rule: AssignmentRule | null): AssignmentDraft {
  return {
    name: rule?.name ?? "",
    stage: rule?.stage ?? "MQL",
    method: rule?.method ?? "round_robin",
    users: rule?.users ?? [],
    attribute: rule?.attribute ?? "",
    territories: Object.entries(rule?.territories ?? {}).map(([value, user]) => ({ value, user })),
    reassign: rule?.reassign ?? false,
  };
}

/** What is missing from an assignment draft (message key suffixes), empty when it can be sent. */
export function assignmentProblems(d: AssignmentDraft): ("name" | "stage" | "attribute" | "territories")[] {
  const out: ("name" | "stage" | "attribute" | "territories")[] = [];
  if (!d.name.trim()) out.push("name");
  if (!d.stage.trim()) out.push("stage");
  if (d.method !== "round_robin" && !d.attribute.trim()) out.push("attribute");
  if (d.method === "territory" && !d.territories.some((r) => r.value.trim() && r.user !== null)) out.push("territories");
  return out;
}

/** The body of an assignment draft: only the fields its method takes (the API refuses others). */
export function assignmentBody(d: AssignmentDraft, position?: number): AssignmentRuleBody {
  const base = { name: d.name.trim(), stage: d.stage.trim(), method: d.method, reassign: d.reassign };
  const pos = position !== undefined ? { position } : {};
  if (d.method === "round_robin") return { ...base, users: d.users.length ? d.users : null, ...pos };
  if (d.method === "account_owner") return { ...base, attribute: d.attribute.trim(), ...pos };
  const territories: Record<string, number> = {};
  for (const r of d.territories) if (r.value.trim() && r.user !== null) territories[r.value.trim()] = r.user;
  return { ...base, attribute: d.attribute.trim(), territories, ...pos };
}

export function assignmentRuleBody(rule: AssignmentRule, patch: Partial<AssignmentRuleBody> = {}): AssignmentRuleBody {
  const body: AssignmentRuleBody = {
    name: rule.name,
    stage: rule.stage,
    method: rule.method,
    reassign: rule.reassign,
    position: rule.position,
  };
  if (rule.method === "round_robin") body.users = rule.users;
  else body.attribute = rule.attribute;
  if (rule.method === "territory") body.territories = rule.territories;
  return { ...body, ...patch };
}

/**
 * The positions after moving item `index` by `delta` (−1 up, +1 down) in a list ordered by
 * position: every item renumbered 10, 20, 30 … in the new order, so equal positions (rules
 * created without one) are put in order too. Returns the items whose position changes.
 */
export function reorder<T extends { id: number; position: number }>(
  items: T[],
  index: number,
  delta: -1 | 1,
): { item: T; position: number }[] {
  const target = index + delta;
  if (target < 0 || target >= items.length) return [];
  const order = [...items];
  const [moved] = order.splice(index, 1);
  order.splice(target, 0, moved!);
  return order
    .map((item, i) => ({ item, position: (i + 1) * 10 }))
    .filter(({ item, position }) => item.position !== position);
}

/**
 * The fallback of each stage: its last round-robin rule (rules are tried in order; round
 * robin always yields an owner while anyone can take a turn).
 */
export function fallbackIds(rules: AssignmentRule[]): Set<number> {
  const last = new Map<string, number>();
  for (const r of rules) if (r.method === "round_robin") last.set(r.stage, r.id);
  return new Set(last.values());
}

export interface SlaRow {
  key: number;
  stage: string;
  hours: number | null;
}

/** The SLAs to send, and what is wrong with the rows (row key → problem). */
export function slaBody(rows: SlaRow[]): { slas: StageSla[]; problems: Map<number, "stage" | "hours" | "duplicate"> } {
  const problems = new Map<number, "stage" | "hours" | "duplicate">();
  const seen = new Set<string>();
  const slas: StageSla[] = [];
  for (const r of rows) {
    const stage = r.stage.trim();
    if (!stage) problems.set(r.key, "stage");
    else if (r.hours === null || !(r.hours > 0)) problems.set(r.key, "hours");
    else if (seen.has(stage)) problems.set(r.key, "duplicate");
    else {
      seen.add(stage);
      slas.push({ stage, hours: r.hours });
    }
  }
  return { slas, problems };
}
