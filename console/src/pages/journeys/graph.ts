// The journey definition as a graph, and back (docs/journeys.md): pure functions, no React.
//
// The definition is the source of truth of the editor: the canvas's nodes and edges are
// derived from it. A node's branches are named fields (`next`, `yes`/`no`, `timeout_next`,
// `none_next`, `otherwise`, `cases[i].next`, `branches[i].next`, `outcomes[i].next`); each is a handle of the
// node on the canvas (the handle id is the field's path, as the server names it in its
// errors), and an edge is a branch that names a node. The trigger is a node of its own
// (`TRIGGER_NODE_ID`) whose one handle is the definition's `start`.
import { Graph, layout as dagreLayout } from "@dagrejs/dagre";
import { TRIGGER_NODE_ID, type Definition, type Layout } from "./panels/overlay";

export { TRIGGER_NODE_ID };

export type JourneyNode = { type: string } & Record<string, unknown>;
export type Position = { x: number; y: number };
export type Positions = Record<string, Position>;

/** Node kinds, in the palette's order, grouped. */
export const NODE_GROUPS: { key: "flow" | "logic" | "actions"; kinds: string[] }[] = [
  { key: "flow", kinds: ["wait", "wait_until", "wait_until_date", "wait_for_event"] },
  { key: "logic", kinds: ["condition", "branch", "split"] },
  { key: "actions", kinds: ["send", "update_contact", "webhook", "notify_sales", "task", "assign_offer", "exit"] },
];
export const NODE_KINDS = NODE_GROUPS.flatMap((g) => g.kinds);

export const TRIGGER_KINDS = [
  "event",
  "segment_entered",
  "segment_exited",
  "tag_added",
  "tag_removed",
  "attribute_changed",
  "date",
  "schedule",
  "score_crossed",
  "predicted_crossed",
  "api",
] as const;

/** The fields of a node that name where a branch leads (never shown as plain fields). */
export const BRANCH_FIELDS = ["next", "yes", "no", "timeout_next", "none_next", "otherwise"];

/** Kinds after which the enrollment waits. */
export const WAITING_KINDS = new Set(["wait", "wait_until", "wait_until_date", "wait_for_event", "task"]);

export type BranchKind = "next" | "yes" | "no" | "event" | "timeout" | "case" | "otherwise" | "split" | "offer" | "none" | "outcome";

export interface Branch {
  /** The field's path in the node, also the handle's id: `next`, `cases[1].next`. */
  handle: string;
  kind: BranchKind;
  /** A case's, a split branch's or a task outcome's name. */
  name?: string;
  /** A split branch's share as written: `30%` or `weight 2`. */
  share?: { percent?: number; weight?: number };
  target: string | null;
  /** A split branch leading nowhere: a holdout, which receives nothing. */
  holdout?: boolean;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? (value.filter((v) => typeof v === "object" && v !== null) as Record<string, unknown>[]) : [];
}

/** Every branch of a node, in the order its handles are drawn (the server's `branches()`). */
export function branchesOf(node: JourneyNode): Branch[] {
  switch (node.type) {
    case "exit":
      return [];
    case "condition":
      return [
        { handle: "yes", kind: "yes", target: str(node.yes) },
        { handle: "no", kind: "no", target: str(node.no) },
      ];
    case "wait_for_event":
      return [
        { handle: "next", kind: "event", target: str(node.next) },
        { handle: "timeout_next", kind: "timeout", target: str(node.timeout_next) },
      ];
    case "task":
      // a task's outcomes, then the timeout (the server's `branches()`)
      return [
        ...list(node.outcomes).map((o, i) => ({
          handle: `outcomes[${i}].next`,
          kind: "outcome" as const,
          name: typeof o.name === "string" ? o.name : "",
          target: str(o.next),
        })),
        { handle: "timeout_next", kind: "timeout", target: str(node.timeout_next) },
      ];
    case "assign_offer":
      return [
        { handle: "next", kind: "offer", target: str(node.next) },
        { handle: "none_next", kind: "none", target: str(node.none_next) },
      ];
    case "branch":
      return [
        ...list(node.cases).map((c, i) => ({
          handle: `cases[${i}].next`,
          kind: "case" as const,
          name: typeof c.name === "string" ? c.name : "",
          target: str(c.next),
        })),
        { handle: "otherwise", kind: "otherwise", target: str(node.otherwise) },
      ];
    case "split":
      return list(node.branches).map((b, i) => {
        const target = str(b.next);
        return {
          handle: `branches[${i}].next`,
          kind: "split" as const,
          name: typeof b.name === "string" ? b.name : "",
          share: {
            percent: typeof b.percent === "number" ? b.percent : undefined,
            weight: typeof b.weight === "number" ? b.weight : undefined,
          },
          target,
          holdout: target === null,
        };
      });
    default:
      return [{ handle: "next", kind: "next", target: str(node.next) }];
  }
}

const INDEXED = /^(cases|branches|outcomes)\[(\d+)\]\.next$/;

/** The node with the branch at `handle` leading to `target` (null: it ends there). */
export function setBranch(node: JourneyNode, handle: string, target: string | null): JourneyNode {
  const m = INDEXED.exec(handle);
  if (m) {
    const field = m[1] as "cases" | "branches" | "outcomes";
    const index = Number(m[2]);
    const items = list(node[field]);
    if (index >= items.length) return node;
    return { ...node, [field]: items.map((item, i) => (i === index ? { ...item, next: target } : item)) };
  }
  if (!BRANCH_FIELDS.includes(handle)) return node;
  return { ...node, [handle]: target };
}

export function nodesOf(definition: Definition): Record<string, JourneyNode> {
  const nodes = definition.nodes;
  return typeof nodes === "object" && nodes !== null && !Array.isArray(nodes) ? (nodes as Record<string, JourneyNode>) : {};
}

export function startOf(definition: Definition): string | null {
  return str(definition.start);
}

export interface GraphEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
}

export const START_HANDLE = "start";

/** The edges: the trigger's `start`, then each branch that names an existing node. */
export function edgesOf(definition: Definition): GraphEdge[] {
  const nodes = nodesOf(definition);
  const out: GraphEdge[] = [];
  const start = startOf(definition);
  if (start && start in nodes) {
    out.push({ id: `${TRIGGER_NODE_ID}:${START_HANDLE}`, source: TRIGGER_NODE_ID, sourceHandle: START_HANDLE, target: start });
  }
  for (const [id, node] of Object.entries(nodes)) {
    for (const b of branchesOf(node)) {
      if (b.target !== null && b.target in nodes) out.push({ id: `${id}:${b.handle}`, source: id, sourceHandle: b.handle, target: b.target });
    }
  }
  return out;
}

/** Node ids reachable from the start. */
export function reachableFrom(definition: Definition): Set<string> {
  const nodes = nodesOf(definition);
  const seen = new Set<string>();
  const start = startOf(definition);
  const stack = start && start in nodes ? [start] : [];
  while (stack.length) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = nodes[id];
    if (!node) continue;
    for (const b of branchesOf(node)) if (b.target && b.target in nodes && !seen.has(b.target)) stack.push(b.target);
  }
  return seen;
}

/** Connect `source`'s `handle` to `target` (the trigger's handle sets `start`). */
export function connect(definition: Definition, source: string, handle: string, target: string | null): Definition {
  if (source === TRIGGER_NODE_ID) return { ...definition, start: target ?? "" };
  const nodes = nodesOf(definition);
  const node = nodes[source];
  if (!node) return definition;
  const next = setBranch(node, handle, target);
  return next === node ? definition : { ...definition, nodes: { ...nodes, [source]: next } };
}

/** Replace one node (its kind's fields edited). */
export function replaceNode(definition: Definition, id: string, node: JourneyNode): Definition {
  return { ...definition, nodes: { ...nodesOf(definition), [id]: node } };
}

/** Remove nodes; the branches that led to them (and the start) end there instead. */
export function removeNodes(definition: Definition, ids: Iterable<string>): Definition {
  const gone = new Set(ids);
  gone.delete(TRIGGER_NODE_ID);
  if (gone.size === 0) return definition;
  const nodes: Record<string, JourneyNode> = {};
  for (const [id, node] of Object.entries(nodesOf(definition))) {
    if (gone.has(id)) continue;
    let out = node;
    for (const b of branchesOf(node)) if (b.target && gone.has(b.target)) out = setBranch(out, b.handle, null);
    nodes[id] = out;
  }
  const start = startOf(definition);
  return { ...definition, nodes, start: start && gone.has(start) ? "" : (start ?? "") };
}

/** Remove edges given as `source:handle` ids. */
export function removeEdges(definition: Definition, edgeIds: Iterable<string>): Definition {
  let out = definition;
  for (const edgeId of edgeIds) {
    const at = edgeId.indexOf(":");
    if (at < 0) continue;
    out = connect(out, edgeId.slice(0, at), edgeId.slice(at + 1), null);
  }
  return out;
}

const BASE_IDS: Record<string, string> = {
  wait: "wait",
  wait_until: "wait_until",
  wait_until_date: "wait_date",
  wait_for_event: "wait_event",
  condition: "condition",
  branch: "branch",
  split: "split",
  send: "send",
  update_contact: "update",
  webhook: "webhook",
  notify_sales: "notify_sales",
  task: "task",
  assign_offer: "offer",
  exit: "exit",
};

/** A new node id like the ones people write: `send`, then `send_2`, `send_3` … */
export function newNodeId(base: string, taken: ReadonlySet<string> | Record<string, unknown>): string {
  const has = (id: string) => (taken instanceof Set ? taken.has(id) : id in (taken as Record<string, unknown>));
  const clean = (base.replace(/[^A-Za-z0-9_-]/g, "_").replace(/_\d+$/, "") || "node").slice(0, 56);
  if (!has(clean)) return clean;
  for (let n = 2; ; n += 1) if (!has(`${clean}_${n}`)) return `${clean}_${n}`;
}

export function baseIdFor(kind: string): string {
  return BASE_IDS[kind] ?? kind;
}

/** A node of a kind as the palette adds it: the fields a marketer fills in first. */
export function defaultNode(kind: string): JourneyNode {
  switch (kind) {
    case "wait":
      return { type: "wait", duration: { amount: 1, unit: "days" }, next: null };
    case "wait_until":
      return { type: "wait_until", time: "09:00", weekdays: null, next: null };
    case "wait_until_date":
      return { type: "wait_until_date", attribute: "", offset: null, before: false, next: null };
    case "wait_for_event":
      return { type: "wait_for_event", event: "", where: [], timeout: { amount: 3, unit: "days" }, next: null, timeout_next: null };
    case "condition":
      return { type: "condition", condition: { type: "all", conditions: [] }, yes: null, no: null };
    case "branch":
      return { type: "branch", cases: [{ name: "case_1", condition: { type: "all", conditions: [] }, next: null }], otherwise: null };
    case "split":
      return {
        type: "split",
        branches: [
          { name: "A", percent: 50, next: null },
          { name: "B", percent: 50, next: null },
        ],
        experiment: null,
      };
    case "send":
      return { type: "send", channel: "email", transactional: false, next: null };
    case "update_contact":
      return { type: "update_contact", set_traits: {}, add_tags: [], remove_tags: [], next: null };
    case "webhook":
      return { type: "webhook", url: "", payload: {}, next: null };
    case "notify_sales":
      return { type: "notify_sales", owners: [], next: null };
    case "task":
      return {
        type: "task",
        kind: "call",
        title: "",
        script: null,
        assignee: "owner",
        due: { amount: 1, unit: "days" },
        timeout: { amount: 3, unit: "days" },
        outcomes: [
          { name: "interested", next: null },
          { name: "not_interested", next: null },
        ],
        timeout_next: null,
      };
    case "assign_offer":
      return { type: "assign_offer", offer_keys: null, next: null, none_next: null };
    case "exit":
      return { type: "exit" };
    default:
      return { type: kind };
  }
}

export function defaultTrigger(kind: string): Record<string, unknown> {
  switch (kind) {
    case "event":
      return { type: "event", event: "", where: [] };
    case "segment_entered":
    case "segment_exited":
      return { type: kind };
    case "tag_added":
    case "tag_removed":
      return { type: kind, tag: "" };
    case "attribute_changed":
      return { type: kind, attribute: "" };
    case "date":
      return { type: kind, attribute: "", anniversary: true, offset_days: 0, at: "09:00:00" };
    case "schedule":
      return { type: kind, cron: "0 9 * * 1", timezone: "contact" };
    case "score_crossed":
      return { type: kind, model: "", threshold: 50, direction: "up" };
    case "predicted_crossed":
      // a probability (0–1), shown as a percentage
      return { type: kind, model: "", threshold: 0.5, direction: "up" };
    default:
      return { type: kind };
  }
}

/** A new journey: a trigger and nothing else yet. */
export function emptyDefinition(): Definition {
  return { schema_version: 1, trigger: defaultTrigger("tag_added"), entry: { reentry: "never" }, goal: null, exit_on: [], start: "", nodes: {} };
}

export interface AddResult {
  definition: Definition;
  id: string;
}

/**
 * Add a node of `kind`. After `after` (a node or the trigger): it takes the place of what
 * `after`'s first free branch (else its first branch) led to, which it leads to in turn.
 * With nothing selected: unconnected, or the start when there is none.
 */
export function addNode(definition: Definition, kind: string, after: string | null, node: JourneyNode = defaultNode(kind)): AddResult {
  const nodes = nodesOf(definition);
  const id = newNodeId(baseIdFor(kind), nodes);
  let added: JourneyNode = node;
  let out: Definition = { ...definition, nodes: { ...nodes, [id]: added } };
  const first = (n: JourneyNode) => branchesOf(n)[0]?.handle ?? null;
  if (after === TRIGGER_NODE_ID || (after === null && !startOf(definition))) {
    const old = startOf(definition);
    const handle = first(added);
    if (old && handle && old in nodes) added = setBranch(added, handle, old);
    out = { ...out, start: id, nodes: { ...nodesOf(out), [id]: added } };
    return { definition: out, id };
  }
  const prev = after ? nodes[after] : undefined;
  if (after && prev) {
    const branches = branchesOf(prev);
    const free = branches.find((b) => b.target === null && !(b.kind === "split")) ?? branches.find((b) => b.target === null);
    const chosen = free ?? branches[0];
    if (chosen) {
      const handle = first(added);
      if (chosen.target && handle) added = setBranch(added, handle, chosen.target);
      out = { ...out, nodes: { ...nodesOf(out), [id]: added, [after]: setBranch(prev, chosen.handle, id) } };
    }
  }
  return { definition: out, id };
}

// --- copy and paste ----------------------------------------------------------------------

export interface Clipboard {
  nodes: Record<string, JourneyNode>;
  positions: Positions;
}

export function copyNodes(definition: Definition, positions: Positions, ids: Iterable<string>): Clipboard | null {
  const nodes = nodesOf(definition);
  const out: Clipboard = { nodes: {}, positions: {} };
  for (const id of ids) {
    const node = nodes[id];
    if (!node) continue;
    out.nodes[id] = node;
    const p = positions[id];
    if (p) out.positions[id] = p;
  }
  return Object.keys(out.nodes).length ? out : null;
}

/**
 * Paste copied nodes under new ids (`send` → `send_2`), shifted by `offset`: branches
 * between copied nodes follow the renaming; branches to nodes outside the copy are dropped
 * (the copy is connected by hand). Answers the new ids.
 */
export function pasteNodes(
  definition: Definition,
  positions: Positions,
  clip: Clipboard,
  offset: Position = { x: 40, y: 40 },
): { definition: Definition; positions: Positions; ids: string[] } {
  const nodes = { ...nodesOf(definition) };
  const taken = new Set(Object.keys(nodes));
  const renamed = new Map<string, string>();
  for (const id of Object.keys(clip.nodes)) {
    const fresh = newNodeId(id, taken);
    taken.add(fresh);
    renamed.set(id, fresh);
  }
  const nextPositions = { ...positions };
  for (const [id, node] of Object.entries(clip.nodes)) {
    let copy = structuredClone(node) as JourneyNode;
    for (const b of branchesOf(copy)) copy = setBranch(copy, b.handle, b.target ? (renamed.get(b.target) ?? null) : null);
    const fresh = renamed.get(id) as string;
    nodes[fresh] = copy;
    const p = clip.positions[id];
    if (p) nextPositions[fresh] = { x: p.x + offset.x, y: p.y + offset.y };
  }
  return { definition: { ...definition, nodes }, positions: nextPositions, ids: [...renamed.values()] };
}

// --- layout ------------------------------------------------------------------------------

export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 96;

/** Positions from the saved layout (`{nodes: {id: {x, y}}}`). */
export function positionsFrom(layout: Layout | null | undefined): Positions {
  const raw = layout && typeof layout === "object" ? (layout as { nodes?: unknown }).nodes : null;
  const out: Positions = {};
  if (raw && typeof raw === "object") {
    for (const [id, p] of Object.entries(raw as Record<string, unknown>)) {
      const pos = p as { x?: unknown; y?: unknown } | null;
      if (pos && typeof pos.x === "number" && typeof pos.y === "number" && Number.isFinite(pos.x) && Number.isFinite(pos.y)) {
        out[id] = { x: pos.x, y: pos.y };
      }
    }
  }
  return out;
}

/** The layout saved beside the definition: the positions of its nodes and of the trigger. */
export function layoutFrom(definition: Definition, positions: Positions): Layout {
  const nodes: Positions = {};
  for (const id of [TRIGGER_NODE_ID, ...Object.keys(nodesOf(definition))]) {
    const p = positions[id];
    if (p) nodes[id] = { x: Math.round(p.x), y: Math.round(p.y) };
  }
  return { nodes };
}

/** Top-to-bottom positions of every node (dagre), the trigger first. */
export function autoLayout(definition: Definition, heights: Record<string, number> = {}): Positions {
  const g = new Graph();
  g.setGraph({ rankdir: "TB", nodesep: 48, ranksep: 72, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = [TRIGGER_NODE_ID, ...Object.keys(nodesOf(definition))];
  for (const id of ids) g.setNode(id, { width: NODE_WIDTH, height: heights[id] ?? NODE_HEIGHT });
  for (const e of edgesOf(definition)) g.setEdge(e.source, e.target);
  dagreLayout(g);
  const out: Positions = {};
  for (const id of ids) {
    const n = g.node(id) as { x: number; y: number; width: number; height: number } | undefined;
    if (n) out[id] = { x: Math.round(n.x - n.width / 2), y: Math.round(n.y - n.height / 2) };
  }
  return out;
}

/** The saved positions, with a place found for every node that has none. */
export function completePositions(definition: Definition, positions: Positions): Positions {
  const ids = [TRIGGER_NODE_ID, ...Object.keys(nodesOf(definition))];
  const missing = ids.filter((id) => !positions[id]);
  if (missing.length === 0) return positions;
  if (missing.length === ids.length) return autoLayout(definition);
  // below everything placed, in a row
  const maxY = Math.max(...Object.values(positions).map((p) => p.y));
  const out = { ...positions };
  missing.forEach((id, i) => {
    out[id] = { x: i * (NODE_WIDTH + 40), y: maxY + NODE_HEIGHT + 80 };
  });
  return out;
}

// --- errors ------------------------------------------------------------------------------

export interface ErrorTarget {
  /** A node id, `TRIGGER_NODE_ID`, or null when the message names no node. */
  nodeId: string | null;
  /** `entry`, `goal`, `exit_on` … when it is about the journey's rules. */
  section: "trigger" | "entry" | "goal" | "exit_on" | "node" | null;
  /** The field inside the node, e.g. `template_id`, `branches[1].next`. */
  field: string;
  text: string;
}

/**
 * Where a 422 of the journeys API points: `nodes.sms.send.template_id: Field required`
 * (pydantic names the node kind after the id), `nodes.sms.template_id: no template 3`,
 * `trigger.tag_added.tag: …`, `entry: …`, `start: no node 'x'`.
 */
export function errorTarget(message: string, definition: Definition): ErrorTarget {
  const colon = message.indexOf(": ");
  const path = colon >= 0 ? message.slice(0, colon) : "";
  const text = colon >= 0 ? message.slice(colon + 2) : message;
  if (!path || /\s/.test(path)) return { nodeId: null, section: null, field: "", text: message };
  const nodes = nodesOf(definition);
  if (path.startsWith("nodes.")) {
    const rest = path.slice("nodes.".length);
    // the longest node id the path starts with (ids may hold "-" but not ".")
    const dot = rest.search(/[.[]/);
    const id = dot < 0 ? rest : rest.slice(0, dot);
    let field = dot < 0 ? "" : rest.slice(dot).replace(/^\./, "");
    const node = nodes[id];
    if (node) {
      const kindPrefix = `${node.type}.`;
      if (field.startsWith(kindPrefix)) field = field.slice(kindPrefix.length);
      else if (field === node.type) field = "";
      return { nodeId: id, section: "node", field, text };
    }
    return { nodeId: null, section: null, field: rest, text };
  }
  if (path === "start" || path.startsWith("trigger")) {
    let field = path.replace(/^trigger\.?/, "");
    const kind = field.split(".")[0] ?? "";
    if ((TRIGGER_KINDS as readonly string[]).includes(kind)) field = field.slice(kind.length).replace(/^\./, "");
    return { nodeId: TRIGGER_NODE_ID, section: "trigger", field: path === "start" ? "start" : field, text };
  }
  for (const section of ["entry", "goal", "exit_on"] as const) {
    if (path === section || path.startsWith(`${section}.`) || path.startsWith(`${section}[`)) {
      return { nodeId: TRIGGER_NODE_ID, section, field: path.slice(section.length).replace(/^\./, ""), text };
    }
  }
  return { nodeId: null, section: null, field: path, text };
}

/** The definition as saved: every node, the start ("" when unset is sent as it is). */
export function definitionEquals(a: Definition, b: Definition): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Rename a node: every branch to it, the start and its position follow. */
export function renameNode(
  definition: Definition,
  positions: Positions,
  from: string,
  to: string,
): { definition: Definition; positions: Positions } | null {
  const nodes = nodesOf(definition);
  if (!(from in nodes) || to in nodes || !NODE_ID_PATTERN.test(to) || to === TRIGGER_NODE_ID) return null;
  const out: Record<string, JourneyNode> = {};
  for (const [id, node] of Object.entries(nodes)) {
    let n = node;
    for (const b of branchesOf(node)) if (b.target === from) n = setBranch(n, b.handle, to);
    out[id === from ? to : id] = n;
  }
  const nextPositions = { ...positions };
  if (positions[from]) {
    nextPositions[to] = positions[from];
    delete nextPositions[from];
  }
  return { definition: { ...definition, nodes: out, start: startOf(definition) === from ? to : (definition.start ?? "") }, positions: nextPositions };
}
