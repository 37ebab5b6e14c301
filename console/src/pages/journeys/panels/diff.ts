// The difference between two journey definitions (a version and another, or the draft), as a
// list for the Versions panel and as a merged definition with overlays for the canvas.
// Pure: no React, no API.
import { TRIGGER_NODE_ID, type Definition, type Layout, type Overlays } from "./overlay";

export type Section = "trigger" | "entry" | "goal" | "exit_on" | "start";

export type NodeChange = { id: string; type: string | null; fields: string[] };

export type DefinitionDiff = {
  added: { id: string; type: string | null }[];
  removed: { id: string; type: string | null }[];
  changed: NodeChange[];
  /** Journey-level parts that differ, with the fields that changed (trigger, entry), or the part itself. */
  sections: { section: Section; fields: string[] }[];
};

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function nodesOf(definition: Definition | null | undefined): Record<string, Obj> {
  const nodes = definition?.nodes;
  if (!isObj(nodes)) return {};
  const out: Record<string, Obj> = {};
  for (const [id, node] of Object.entries(nodes)) if (isObj(node)) out[id] = node;
  return out;
}

const typeOf = (node: Obj | undefined): string | null => (typeof node?.type === "string" ? node.type : null);

const OLD_DURATION_UNITS = ["weeks", "days", "hours", "minutes", "seconds"] as const;
const SECONDS: Record<(typeof OLD_DURATION_UNITS)[number], number> = {
  weeks: 604800,
  days: 86400,
  hours: 3600,
  minutes: 60,
  seconds: 1,
};

/**
 * The deprecated duration form `{"days": 1, "hours": 2}` read as the server reads it: the
 * largest unit that states it exactly (`{"amount": 26, "unit": "hours"}`), so a version
 * published before the new form does not show every wait as changed.
 */
function normalizeDuration(value: Obj): Obj | null {
  const keys = Object.keys(value);
  if (keys.length === 0 || !keys.every((k) => (OLD_DURATION_UNITS as readonly string[]).includes(k))) return null;
  if (!keys.every((k) => typeof value[k] === "number")) return null;
  const total = keys.reduce((sum, k) => sum + (value[k] as number) * SECONDS[k as keyof typeof SECONDS], 0);
  for (const unit of ["days", "hours", "minutes", "seconds"] as const) {
    if (total % SECONDS[unit] === 0) return { amount: total / SECONDS[unit], unit };
  }
  return null;
}

/** A value in a form where the same meaning compares equal: keys sorted, empty values dropped. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isObj(value)) return value;
  const duration = normalizeDuration(value);
  if (duration) return duration;
  const out: Obj = {};
  for (const key of Object.keys(value).sort()) {
    const v = canonical(value[key]);
    if (isEmpty(v)) continue;
    out[key] = v;
  }
  return out;
}

/** Missing, null, [] and {} mean the same in a definition (an optional field left out). */
function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0);
}

export function sameValue(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => {
    const c = canonical(v);
    return isEmpty(c) ? null : c;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/** The top-level fields of two objects whose values differ (in the first's order, then the second's). */
function changedFields(a: Obj, b: Obj): string[] {
  const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
  return keys.filter((k) => !sameValue(a[k], b[k]));
}

/** What changed from `before` to `after`. */
export function diffDefinitions(before: Definition, after: Definition): DefinitionDiff {
  const a = nodesOf(before);
  const b = nodesOf(after);
  const added = Object.keys(b)
    .filter((id) => !(id in a))
    .map((id) => ({ id, type: typeOf(b[id]) }));
  const removed = Object.keys(a)
    .filter((id) => !(id in b))
    .map((id) => ({ id, type: typeOf(a[id]) }));
  const changed: NodeChange[] = [];
  for (const id of Object.keys(b)) {
    const old = a[id];
    if (!old) continue;
    const fields = changedFields(old, b[id] as Obj);
    if (fields.length > 0) changed.push({ id, type: typeOf(b[id]), fields });
  }
  const sections: DefinitionDiff["sections"] = [];
  for (const section of ["trigger", "entry"] as const) {
    const x = before[section];
    const y = after[section];
    if (sameValue(x, y)) continue;
    const fields = isObj(x) && isObj(y) ? changedFields(x, y) : [];
    sections.push({ section, fields });
  }
  for (const section of ["goal", "exit_on", "start"] as const) {
    if (!sameValue(before[section], after[section])) sections.push({ section, fields: [] });
  }
  return { added, removed, changed, sections };
}

export function isUnchanged(diff: DefinitionDiff): boolean {
  return diff.added.length + diff.removed.length + diff.changed.length + diff.sections.length === 0;
}

function positions(layout: Layout | null | undefined): Record<string, { x: number; y: number }> {
  const nodes = layout?.nodes;
  const out: Record<string, { x: number; y: number }> = {};
  if (!isObj(nodes)) return out;
  for (const [id, p] of Object.entries(nodes)) {
    if (isObj(p) && typeof p.x === "number" && typeof p.y === "number") out[id] = { x: p.x, y: p.y };
  }
  return out;
}

/**
 * One definition with both sides' nodes, to draw the difference: the newer definition, plus
 * the nodes only the older one had (their branches still lead where they led). The layout
 * takes the newer positions, and the older ones for removed nodes — moved aside when a node
 * of the newer definition stands in the same place.
 */
export function mergeForDiff(
  before: Definition,
  after: Definition,
  beforeLayout: Layout | null | undefined,
  afterLayout: Layout | null | undefined,
): { definition: Definition; layout: Layout | null } {
  const a = nodesOf(before);
  const b = nodesOf(after);
  const nodes: Record<string, Obj> = { ...b };
  for (const [id, node] of Object.entries(a)) if (!(id in b)) nodes[id] = node;
  const pa = positions(beforeLayout);
  const pb = positions(afterLayout);
  const hasLayout = Object.keys(pa).length + Object.keys(pb).length > 0;
  const placed: Record<string, { x: number; y: number }> = { ...pb };
  for (const id of Object.keys(a)) {
    if (id in b || !pa[id]) continue;
    let p = { ...pa[id] };
    const taken = () => Object.values(placed).some((q) => Math.abs(q.x - p.x) < 60 && Math.abs(q.y - p.y) < 40);
    for (let i = 0; i < 20 && taken(); i++) p = { x: p.x + 80, y: p.y + 60 };
    placed[id] = p;
  }
  return {
    definition: { ...after, nodes },
    layout: hasLayout ? { ...(afterLayout ?? beforeLayout ?? {}), nodes: placed } : null,
  };
}

/** Labels for the notes under changed nodes. */
export type DiffWords = {
  added: string;
  removed: string;
  /** "Changed: {fields}" */
  changed: (fields: string[]) => string;
  section: (section: Section, fields: string[]) => string;
};

/** The canvas overlays of a diff: added, removed and changed nodes, and the trigger for journey-level changes. */
export function diffOverlays(diff: DefinitionDiff, words: DiffWords): Overlays {
  const out: Overlays = {};
  for (const n of diff.added) out[n.id] = { highlight: "added", notes: [words.added] };
  for (const n of diff.removed) out[n.id] = { highlight: "removed", notes: [words.removed] };
  for (const n of diff.changed) out[n.id] = { highlight: "changed", notes: [words.changed(n.fields)] };
  if (diff.sections.length > 0) {
    out[TRIGGER_NODE_ID] = {
      highlight: "changed",
      notes: diff.sections.map((s) => words.section(s.section, s.fields)),
    };
  }
  return out;
}
