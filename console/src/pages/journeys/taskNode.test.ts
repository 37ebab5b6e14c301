import { describe, expect, it } from "vitest";
import { translate } from "../../i18n";
import "../../i18n/journeys";
import { addNode, branchesOf, defaultNode, defaultTrigger, edgesOf, removeNodes, setBranch, TRIGGER_KINDS, WAITING_KINDS, type JourneyNode } from "./graph";
import { branchLabel, nodeSummary, triggerSummary } from "./describe";
import type { Definition } from "./panels/overlay";

const t = ((key: string, params?: Record<string, string | number>) => translate("en", key as never, params)) as never;
const names = { templates: new Map(), segments: new Map(), topics: new Map() };

describe("the task node on the canvas", () => {
  it("has a handle per outcome, then the timeout, named as the server names them", () => {
    const node: JourneyNode = { ...defaultNode("task"), title: "Call {{ contact.first_name }}" };
    const branches = branchesOf(node);
    expect(branches.map((b) => [b.handle, b.kind, b.name ?? null])).toEqual([
      ["outcomes[0].next", "outcome", "interested"],
      ["outcomes[1].next", "outcome", "not_interested"],
      ["timeout_next", "timeout", null],
    ]);
    expect(branches.map((b) => branchLabel(b, t))).toEqual(["interested", "not_interested", "Timed out"]);
    const wired = setBranch(setBranch(node, "outcomes[1].next", "nurture"), "timeout_next", "late");
    expect((wired.outcomes as { next: string | null }[])[1]?.next).toBe("nurture");
    expect(wired.timeout_next).toBe("late");
    expect(WAITING_KINDS.has("task")).toBe(true);
    expect(nodeSummary(wired, t, "en", names)).toBe("Call · Call {{ contact.first_name }} · the owner");
    expect(nodeSummary({ ...wired, assignee: "queue:inside_sales", kind: "wechat" }, t, "en", names)).toBe(
      "WeChat message · Call {{ contact.first_name }} · queue inside_sales",
    );
  });

  it("is added from the palette after a node, and its outcome edges go when their target does", () => {
    const start: Definition = { schema_version: 1, trigger: { type: "api" }, start: "wait", nodes: { wait: { type: "wait", duration: { amount: 1, unit: "days" }, next: null } } };
    const { definition, id } = addNode(start, "task", "wait");
    expect(id).toBe("task");
    const withExit = { ...definition, nodes: { ...(definition.nodes as object), done: { type: "exit" } } } as Definition;
    const nodes = withExit.nodes as Record<string, JourneyNode>;
    nodes.task = setBranch(nodes.task!, "outcomes[0].next", "done");
    expect(edgesOf(withExit).map((e) => e.id).slice(1)).toEqual(["wait:next", "task:outcomes[0].next"]);
    const removed = removeNodes(withExit, ["done"]);
    expect(((removed.nodes as Record<string, JourneyNode>).task!.outcomes as { next: string | null }[])[0]?.next).toBeNull();
  });

  it("offers the score trigger", () => {
    expect(TRIGGER_KINDS).toContain("score_crossed");
    const trigger = defaultTrigger("score_crossed");
    expect(trigger).toEqual({ type: "score_crossed", model: "", threshold: 50, direction: "up" });
    expect(triggerSummary({ ...trigger, model: "engagement" }, t, names)).toBe("engagement score rises to 50 or more");
    expect(triggerSummary({ ...trigger, model: "engagement", direction: "down", threshold: 20 }, t, names)).toBe("engagement score falls below 20");
  });
});
