import { describe, expect, it } from "vitest";
import {
  addNode,
  autoLayout,
  branchesOf,
  completePositions,
  connect,
  copyNodes,
  edgesOf,
  errorTarget,
  layoutFrom,
  newNodeId,
  pasteNodes,
  positionsFrom,
  reachableFrom,
  removeEdges,
  removeNodes,
  renameNode,
  TRIGGER_NODE_ID,
  type JourneyNode,
} from "./graph";
import type { Definition } from "./panels/overlay";

const every: Definition = {
  schema_version: 1,
  trigger: { type: "tag_added", tag: "vip" },
  start: "evening",
  nodes: {
    evening: { type: "wait_until", time: "20:00", next: "sms" },
    sms: { type: "send", channel: "sms", template_id: 3, next: "cond" },
    cond: { type: "condition", condition: { type: "all", conditions: [] }, yes: "ev", no: "split" },
    ev: { type: "wait_for_event", event: "Order Completed", timeout: { amount: 1, unit: "days" }, next: "br", timeout_next: null },
    br: { type: "branch", cases: [{ name: "gold", condition: { type: "all", conditions: [] }, next: "offer" }], otherwise: "end" },
    split: { type: "split", branches: [{ name: "A", percent: 90, next: "offer" }, { name: "holdout", percent: 10, next: null }] },
    offer: { type: "assign_offer", next: "end", none_next: null },
    end: { type: "exit" },
    orphan: { type: "wait", duration: { amount: 1, unit: "days" }, next: "end" },
  },
};

describe("definition → graph", () => {
  it("names every branch by the field the server names it by", () => {
    const nodes = every.nodes as Record<string, JourneyNode>;
    expect(branchesOf(nodes.cond as JourneyNode).map((b) => b.handle)).toEqual(["yes", "no"]);
    expect(branchesOf(nodes.ev as JourneyNode).map((b) => [b.handle, b.kind])).toEqual([["next", "event"], ["timeout_next", "timeout"]]);
    expect(branchesOf(nodes.br as JourneyNode).map((b) => b.handle)).toEqual(["cases[0].next", "otherwise"]);
    expect(branchesOf(nodes.offer as JourneyNode).map((b) => b.handle)).toEqual(["next", "none_next"]);
    expect(branchesOf(nodes.end as JourneyNode)).toEqual([]);
  });

  it("shows a split branch leading nowhere as a holdout", () => {
    const split = branchesOf((every.nodes as Record<string, JourneyNode>).split as JourneyNode);
    expect(split.map((b) => [b.handle, b.name, b.holdout, b.share?.percent])).toEqual([
      ["branches[0].next", "A", false, 90],
      ["branches[1].next", "holdout", true, 10],
    ]);
  });

  it("draws an edge from the trigger to the start and one per connected branch", () => {
    const edges = edgesOf(every).map((e) => `${e.source}.${e.sourceHandle}→${e.target}`);
    expect(edges).toContain(`${TRIGGER_NODE_ID}.start→evening`);
    expect(edges).toContain("br.cases[0].next→offer");
    expect(edges).toContain("split.branches[0].next→offer");
    expect(edges).not.toContain("split.branches[1].next→null");
    expect(edges).toHaveLength(11);
  });

  it("finds the nodes the start cannot reach", () => {
    const reachable = reachableFrom(every);
    expect(reachable.has("orphan")).toBe(false);
    expect([...reachable].sort()).toEqual(["br", "cond", "end", "ev", "evening", "offer", "sms", "split"]);
  });
});

describe("graph edits → definition", () => {
  it("connects a handle by writing its field, and the trigger's by writing start", () => {
    let d = connect(every, "split", "branches[1].next", "end");
    expect(((d.nodes as Record<string, JourneyNode>).split?.branches as { next: unknown }[])[1]?.next).toBe("end");
    d = connect(d, "ev", "timeout_next", "end");
    expect((d.nodes as Record<string, JourneyNode>).ev?.timeout_next).toBe("end");
    d = connect(d, TRIGGER_NODE_ID, "start", "sms");
    expect(d.start).toBe("sms");
    expect(every.start).toBe("evening"); // never in place
  });

  it("removes an edge by ending the branch there", () => {
    const d = removeEdges(every, ["cond:yes", `${TRIGGER_NODE_ID}:start`]);
    expect((d.nodes as Record<string, JourneyNode>).cond?.yes).toBeNull();
    expect(d.start).toBe("");
  });

  it("removes nodes and the branches that led to them", () => {
    const d = removeNodes(every, ["offer", "evening", TRIGGER_NODE_ID]);
    const nodes = d.nodes as Record<string, JourneyNode>;
    expect(Object.keys(nodes)).not.toContain("offer");
    expect(((nodes.br?.cases as { next: unknown }[])[0])?.next).toBeNull();
    expect((nodes.split?.branches as { next: unknown }[])[0]?.next).toBeNull();
    expect(d.start).toBe("");
  });

  it("adds a node after the selected one, in the place of what followed", () => {
    const { definition, id } = addNode(every, "wait", "evening");
    const nodes = definition.nodes as Record<string, JourneyNode>;
    expect(id).toBe("wait");
    expect(nodes.evening?.next).toBe("wait");
    expect(nodes.wait?.next).toBe("sms");
    const first = addNode({ ...every, start: "", nodes: {} }, "send", null);
    expect(first.definition.start).toBe("send");
    const afterTrigger = addNode(every, "wait", TRIGGER_NODE_ID);
    expect(afterTrigger.definition.start).toBe("wait");
    expect((afterTrigger.definition.nodes as Record<string, JourneyNode>).wait?.next).toBe("evening");
  });

  it("renames a node and everything that names it", () => {
    const r = renameNode(every, { evening: { x: 1, y: 2 } }, "evening", "at_eight");
    expect(r?.definition.start).toBe("at_eight");
    expect(r?.positions).toEqual({ at_eight: { x: 1, y: 2 } });
    expect(renameNode(every, {}, "evening", "sms")).toBeNull();
    expect(renameNode(every, {}, "evening", "bad id")).toBeNull();
  });
});

describe("copy and paste", () => {
  it("pastes under new ids, keeping branches inside the copy and dropping the others", () => {
    const positions = { ev: { x: 0, y: 0 }, br: { x: 0, y: 100 } };
    const clip = copyNodes(every, positions, ["ev", "br"]);
    expect(clip).not.toBeNull();
    const r = pasteNodes(every, positions, clip!, { x: 40, y: 40 });
    expect(r.ids).toEqual(["ev_2", "br_2"]);
    const nodes = r.definition.nodes as Record<string, JourneyNode>;
    expect(nodes.ev_2?.next).toBe("br_2"); // inside the copy: renamed
    expect(((nodes.br_2?.cases as { next: unknown }[])[0])?.next).toBeNull(); // to "offer": dropped
    expect(nodes.br_2?.otherwise).toBeNull();
    expect(r.positions.br_2).toEqual({ x: 40, y: 140 });
    // the originals are untouched
    expect(nodes.ev?.next).toBe("br");
    // pasting again finds the next free ids
    expect(pasteNodes(r.definition, r.positions, clip!).ids).toEqual(["ev_3", "br_3"]);
  });

  it("makes ids like people write them", () => {
    expect(newNodeId("send", {})).toBe("send");
    expect(newNodeId("send", { send: 1, send_2: 1 })).toBe("send_3");
    expect(newNodeId("send_2", new Set(["send", "send_2"]))).toBe("send_3");
  });
});

describe("layout", () => {
  it("places every node top to bottom, the trigger first", () => {
    const p = autoLayout(every);
    expect(Object.keys(p).sort()).toEqual([TRIGGER_NODE_ID, ...Object.keys(every.nodes as object)].sort());
    expect(p[TRIGGER_NODE_ID]!.y).toBeLessThan(p.evening!.y);
    expect(p.evening!.y).toBeLessThan(p.sms!.y);
    expect(p.sms!.y).toBeLessThan(p.cond!.y);
    expect(p.cond!.y).toBeLessThan(p.ev!.y);
  });

  it("round-trips through the saved layout and places nodes it lacks", () => {
    const saved = layoutFrom(every, { [TRIGGER_NODE_ID]: { x: 0.4, y: 0 }, evening: { x: 10, y: 100 }, gone: { x: 1, y: 1 } });
    expect(saved).toEqual({ nodes: { [TRIGGER_NODE_ID]: { x: 0, y: 0 }, evening: { x: 10, y: 100 } } });
    const read = positionsFrom(saved);
    const all = completePositions(every, read);
    expect(all.evening).toEqual({ x: 10, y: 100 });
    expect(Object.keys(all)).toHaveLength(Object.keys(every.nodes as object).length + 1);
    expect(positionsFrom({ nodes: { a: { x: "1", y: 2 } } })).toEqual({});
  });
});

describe("API errors", () => {
  it("finds the node a 422 names, without the kind pydantic adds", () => {
    expect(errorTarget("nodes.sms.send.template_id: Field required", every)).toEqual({ nodeId: "sms", section: "node", field: "template_id", text: "Field required" });
    expect(errorTarget("nodes.sms.template_id: no template 3", every).field).toBe("template_id");
    expect(errorTarget("nodes.split.split.branches: branch names must differ", every).field).toBe("branches");
    expect(errorTarget("nodes.orphan: not reachable from the start", every)).toMatchObject({ nodeId: "orphan", field: "" });
    expect(errorTarget("trigger.tag_added.tag: Field required", every)).toMatchObject({ nodeId: TRIGGER_NODE_ID, section: "trigger", field: "tag" });
    expect(errorTarget("entry: reentry_after goes with reentry 'after', and only with it", every)).toMatchObject({ nodeId: TRIGGER_NODE_ID, section: "entry" });
    expect(errorTarget("start: no node 'x'", every)).toMatchObject({ nodeId: TRIGGER_NODE_ID, field: "start" });
    expect(errorTarget("no segment 5", every)).toMatchObject({ nodeId: null });
  });
});
