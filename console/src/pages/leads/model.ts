// My leads and the task inbox: pure helpers (filters ↔ address, reasons, names), no React.
import type { ContactScore, Lead, Task, TaskKind } from "./queries";

export type TaskWho = "mine" | "queue" | "all";
export type TaskStatusFilter = "open" | "overdue" | "done" | "expired" | null;

export interface TaskFilters {
  who: TaskWho;
  status: TaskStatusFilter;
  kind: TaskKind | null;
}

const WHO: TaskWho[] = ["mine", "queue", "all"];
const STATUS: Exclude<TaskStatusFilter, null>[] = ["open", "overdue", "done", "expired"];
const KINDS: TaskKind[] = ["call", "wechat", "visit", "custom"];

/**
 * The inbox's filters from the address (`?who=queue&status=overdue&kind=call`). Defaults:
 * a sales user's own open tasks; for admins and marketers every open task. `status=any`
 * is every status.
 */
export function taskFiltersFrom(params: URLSearchParams, salesUser: boolean): TaskFilters {
  const who = WHO.find((w) => w === params.get("who")) ?? (salesUser ? "mine" : "all");
  const raw = params.get("status");
  const status = raw === "any" ? null : (STATUS.find((s) => s === raw) ?? "open");
  const kind = KINDS.find((k) => k === params.get("kind")) ?? null;
  return { who, status, kind };
}

/** The address of the filters (defaults left out), keeping other parameters (`task`). */
export function taskFiltersTo(f: TaskFilters, salesUser: boolean, keep: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams(keep);
  for (const k of ["who", "status", "kind"]) out.delete(k);
  if (f.who !== (salesUser ? "mine" : "all")) out.set("who", f.who);
  if (f.status !== "open") out.set("status", f.status ?? "any");
  if (f.kind) out.set("kind", f.kind);
  return out;
}

/** A contact's name as people read it, else null (the caller says "Contact #12"). */
export function personName(p: { first_name?: string | null; last_name?: string | null; email?: string | null; external_id?: string | null }): string | null {
  const name = [p.first_name, p.last_name].filter(Boolean).join(" ").trim();
  return name || p.email || p.external_id || null;
}

export function leadName(lead: Lead): string | null {
  return personName(lead);
}

export function taskContactName(task: Task): string | null {
  return personName({ first_name: task.contact_first_name, last_name: task.contact_last_name, email: task.contact_email });
}

export interface Reason {
  /** A rule's name, or `decay` / `recompute` (named by the catalog). */
  label: string;
  kind: "rule" | "decay" | "recompute";
  points: number;
}

/**
 * What made the score, from the latest ledger entries (newest first): points summed per
 * rule; a recompute row restates every rule's points (`params.rules`), so older rows are
 * already counted in it. The biggest gains first, then the losses; at most `limit`.
 */
export function topReasons(score: Pick<ContactScore, "ledger">, limit = 3): Reason[] {
  const sums = new Map<string, Reason>();
  const add = (label: string, kind: Reason["kind"], points: number) => {
    const key = `${kind}:${label}`;
    const found = sums.get(key);
    if (found) found.points += points;
    else sums.set(key, { label, kind, points });
  };
  for (const entry of score.ledger) {
    const params = (entry.params ?? {}) as Record<string, unknown>;
    if (entry.kind === "recompute") {
      const rules = params.rules && typeof params.rules === "object" ? (params.rules as Record<string, unknown>) : null;
      if (rules && Object.keys(rules).length) {
        for (const [name, points] of Object.entries(rules)) if (typeof points === "number") add(name, "rule", points);
      } else add("recompute", "recompute", entry.delta);
      break;
    }
    if (entry.kind === "decay") add("decay", "decay", entry.delta);
    else add(typeof params.rule === "string" && params.rule ? params.rule : entry.reason, "rule", entry.delta);
  }
  return [...sums.values()]
    .filter((r) => Math.abs(r.points) > 1e-9)
    .sort((a, b) => (b.points > 0 ? 1 : 0) - (a.points > 0 ? 1 : 0) || Math.abs(b.points) - Math.abs(a.points))
    .slice(0, limit);
}

/** Reasons for rejecting a lead, offered in a select; the text sent is the reason's words. */
export const REJECT_REASONS = [
  "no_budget",
  "no_authority",
  "no_need",
  "bad_timing",
  "unreachable",
  "competitor",
  "student",
  "duplicate",
  "spam",
  "other",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * The reason sent to the API (free text, at most 500 characters): the chosen reason's words,
 * then the details — "No budget: next year maybe". "Other" needs details; no reason at all
 * needs details. Null when nothing would be sent.
 */
export function rejectionText(reasonWords: string | null, other: boolean, details: string): string | null {
  const more = details.trim();
  if (other || !reasonWords) return more ? more.slice(0, 500) : null;
  return (more ? `${reasonWords}: ${more}` : reasonWords).slice(0, 500);
}

/** Whether the user may decide this lead (the server checks again: 403 `not_your_lead`). */
export function mayDecide(lead: Pick<Lead, "owner">, userId: number | null, anyLead: boolean): boolean {
  return anyLead || (lead.owner !== null && lead.owner.id === userId);
}

/** Whether the user may claim / complete the task (the server checks again). */
export function mayClaim(task: Pick<Task, "status" | "assignee_user_id">): boolean {
  return task.status === "open" && task.assignee_user_id === null;
}

export function mayComplete(task: Pick<Task, "status" | "assignee_user_id">, userId: number | null, anyTask: boolean): boolean {
  return task.status === "open" && (anyTask || task.assignee_user_id === null || task.assignee_user_id === userId);
}

/** A number as people read it: no needless decimals. */
export function scoreText(value: number, lang: string): string {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(value);
}

export function signedPoints(value: number, lang: string): string {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 1, signDisplay: "exceptZero" }).format(value);
}
