import { describe, expect, it } from "vitest";
import { HISTORY_LIMIT, historyReducer, startHistory, type Snapshot } from "./history";

const snap = (n: number): Snapshot => ({ definition: { n }, positions: {} });

describe("undo and redo", () => {
  it("undoes and redoes edits, and a new edit forgets what was undone", () => {
    let h = startHistory(snap(0));
    h = historyReducer(h, { type: "edit", next: snap(1) });
    h = historyReducer(h, { type: "edit", next: snap(2) });
    h = historyReducer(h, { type: "undo" });
    expect(h.present).toEqual(snap(1));
    h = historyReducer(h, { type: "redo" });
    expect(h.present).toEqual(snap(2));
    h = historyReducer(h, { type: "undo" });
    h = historyReducer(h, { type: "edit", next: snap(3) });
    expect(h.future).toEqual([]);
    expect(historyReducer(h, { type: "redo" })).toBe(h);
    h = historyReducer(historyReducer(h, { type: "undo" }), { type: "undo" });
    expect(h.present).toEqual(snap(0));
    expect(historyReducer(h, { type: "undo" })).toBe(h);
  });

  it("makes a drag one step: a checkpoint, then moves not recorded", () => {
    let h = startHistory(snap(0));
    h = historyReducer(h, { type: "checkpoint" });
    for (let i = 1; i <= 5; i += 1) h = historyReducer(h, { type: "edit", next: snap(i), record: false });
    expect(h.present).toEqual(snap(5));
    h = historyReducer(h, { type: "undo" });
    expect(h.present).toEqual(snap(0));
  });

  it("keeps at most the last steps", () => {
    let h = startHistory(snap(0));
    for (let i = 1; i <= HISTORY_LIMIT + 20; i += 1) h = historyReducer(h, { type: "edit", next: (s) => ({ ...s, definition: { n: i } }) });
    expect(h.past).toHaveLength(HISTORY_LIMIT);
  });
});
