import { describe, expect, it } from "vitest";
import { diffDefinitions, diffOverlays, isUnchanged, mergeForDiff, sameValue } from "./diff";
import { TRIGGER_NODE_ID } from "./overlay";

const v1 = {
  schema_version: 1,
  trigger: { type: "tag_added", tag: "browsed" },
  entry: { reentry: "never", exclude_segment_id: null, cap: null },
  goal: { event: "Order Completed", where: [] },
  exit_on: [],
  start: "pause",
  nodes: {
    pause: { type: "wait", duration: { amount: 1, unit: "days" }, next: "sms" },
    sms: { type: "send", channel: "sms", template_id: 3, topic_id: null, transactional: false, next: "cool" },
    cool: { type: "wait", duration: { amount: 7, unit: "days" }, next: null },
  },
};

const v2 = {
  ...v1,
  trigger: { type: "tag_added", tag: "browsed-A" },
  entry: { reentry: "after", reentry_after: { amount: 30, unit: "days" }, exclude_segment_id: null, cap: 1000 },
  exit_on: [{ event: "Unsubscribed" }],
  nodes: {
    pause: { type: "wait", duration: { amount: 2, unit: "days" }, next: "email" },
    email: { type: "send", channel: "email", template_id: 5, next: "cool" },
    cool: { type: "wait", duration: { amount: 7, unit: "days" }, next: null },
  },
};

const words = {
  added: "Added",
  removed: "Removed",
  changed: (fields: string[]) => `Changed: ${fields.join(", ")}`,
  section: (section: string, fields: string[]) => `${section}${fields.length ? `: ${fields.join(", ")}` : ""}`,
};

describe("diffDefinitions", () => {
  it("names nodes added, removed and changed, with the fields that changed", () => {
    const diff = diffDefinitions(v1, v2);
    expect(diff.added).toEqual([{ id: "email", type: "send" }]);
    expect(diff.removed).toEqual([{ id: "sms", type: "send" }]);
    expect(diff.changed).toEqual([{ id: "pause", type: "wait", fields: ["duration", "next"] }]);
  });

  it("names the journey-level parts that changed: trigger and entry with their fields, exit rules", () => {
    const { sections } = diffDefinitions(v1, v2);
    expect(sections).toEqual([
      { section: "trigger", fields: ["tag"] },
      { section: "entry", fields: ["reentry", "cap", "reentry_after"] },
      { section: "exit_on", fields: [] },
    ]);
  });

  it("finds nothing between a definition and itself, or one whose optional fields are left out", () => {
    expect(isUnchanged(diffDefinitions(v1, v1))).toBe(true);
    const sparse = {
      ...v1,
      entry: { reentry: "never" },
      goal: { event: "Order Completed" },
      exit_on: undefined,
      nodes: { ...v1.nodes, sms: { type: "send", channel: "sms", template_id: 3, transactional: false, next: "cool" } },
    };
    expect(isUnchanged(diffDefinitions(v1, sparse))).toBe(true);
  });

  it("reads the deprecated duration form as the server does", () => {
    const old = { ...v1, nodes: { ...v1.nodes, pause: { type: "wait", duration: { days: 1 }, next: "sms" } } };
    expect(isUnchanged(diffDefinitions(old, v1))).toBe(true);
    expect(sameValue({ hours: 26 }, { amount: 26, unit: "hours" })).toBe(true);
    expect(sameValue({ days: 1, hours: 2 }, { amount: 26, unit: "hours" })).toBe(true);
    expect(sameValue({ days: 1 }, { amount: 2, unit: "days" })).toBe(false);
  });

  it("sees a change of type and of the start node", () => {
    const other = { ...v1, start: "cool", nodes: { ...v1.nodes, cool: { type: "exit" } } };
    const diff = diffDefinitions(v1, other);
    expect(diff.changed).toEqual([{ id: "cool", type: "exit", fields: ["type", "duration"] }]);
    expect(diff.sections).toEqual([{ section: "start", fields: [] }]);
  });

  it("takes key order and nested order of objects as the same", () => {
    const reordered = { ...v1, nodes: { ...v1.nodes, pause: { next: "sms", duration: { unit: "days", amount: 1 }, type: "wait" } } };
    expect(isUnchanged(diffDefinitions(v1, reordered))).toBe(true);
  });
});

describe("mergeForDiff", () => {
  it("draws both sides: the newer definition plus the removed nodes, at their old places moved aside when taken", () => {
    const merged = mergeForDiff(
      v1,
      v2,
      { nodes: { pause: { x: 0, y: 0 }, sms: { x: 0, y: 120 }, cool: { x: 0, y: 240 } } },
      { nodes: { pause: { x: 0, y: 0 }, email: { x: 0, y: 120 }, cool: { x: 0, y: 240 } } },
    );
    expect(Object.keys(merged.definition.nodes as object).sort()).toEqual(["cool", "email", "pause", "sms"]);
    expect((merged.definition.nodes as Record<string, unknown>).sms).toEqual(v1.nodes.sms);
    expect(merged.definition.trigger).toEqual(v2.trigger);
    const positions = (merged.layout as { nodes: Record<string, { x: number; y: number }> }).nodes;
    expect(positions.email).toEqual({ x: 0, y: 120 });
    expect(positions.sms).not.toEqual({ x: 0, y: 120 });
  });

  it("has no layout when neither side has one", () => {
    expect(mergeForDiff(v1, v2, null, undefined).layout).toBeNull();
  });
});

describe("diffOverlays", () => {
  it("marks added, removed and changed nodes, and the trigger for journey-level changes", () => {
    const overlays = diffOverlays(diffDefinitions(v1, v2), words);
    expect(overlays.email).toEqual({ highlight: "added", notes: ["Added"] });
    expect(overlays.sms).toEqual({ highlight: "removed", notes: ["Removed"] });
    expect(overlays.pause).toEqual({ highlight: "changed", notes: ["Changed: duration, next"] });
    expect(overlays.cool).toBeUndefined();
    expect(overlays[TRIGGER_NODE_ID]).toEqual({
      highlight: "changed",
      notes: ["trigger: tag", "entry: reentry, cap, reentry_after", "exit_on"],
    });
  });
});
