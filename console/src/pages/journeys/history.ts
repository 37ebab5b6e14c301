// Undo and redo of the editor: snapshots of the definition and the node positions.
import type { Definition } from "./panels/overlay";
import type { Positions } from "./graph";

export interface Snapshot {
  definition: Definition;
  positions: Positions;
}

export interface History {
  past: Snapshot[];
  present: Snapshot;
  future: Snapshot[];
}

/** How many steps back Ctrl+Z can go. */
export const HISTORY_LIMIT = 100;

export function startHistory(present: Snapshot): History {
  return { past: [], present, future: [] };
}

export type HistoryAction =
  | { type: "edit"; next: Snapshot | ((present: Snapshot) => Snapshot); record?: boolean }
  /** Remember the present as a step (before a drag: its moves are then one step). */
  | { type: "checkpoint" }
  | { type: "undo" }
  | { type: "redo" }
  | { type: "reset"; present: Snapshot };

export function historyReducer(state: History, action: HistoryAction): History {
  switch (action.type) {
    case "edit": {
      const next = typeof action.next === "function" ? action.next(state.present) : action.next;
      if (next === state.present) return state;
      if (action.record === false) return { ...state, present: next };
      return { past: [...state.past, state.present].slice(-HISTORY_LIMIT), present: next, future: [] };
    }
    case "checkpoint":
      return { past: [...state.past, state.present].slice(-HISTORY_LIMIT), present: state.present, future: [] };
    case "undo": {
      const prev = state.past[state.past.length - 1];
      if (!prev) return state;
      return { past: state.past.slice(0, -1), present: prev, future: [state.present, ...state.future] };
    }
    case "redo": {
      const next = state.future[0];
      if (!next) return state;
      return { past: [...state.past, state.present], present: next, future: state.future.slice(1) };
    }
    case "reset":
      return startHistory(action.present);
  }
}
