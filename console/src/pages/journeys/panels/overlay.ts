// The contract between the journey canvas (pages/journeys) and the panels shown beside it
// in its Live, Simulate and Versions modes (pages/journeys/panels).
import type { components } from "../../../api/schema";

export type Journey = components["schemas"]["JourneyRead"];
/** A journey definition as the API stores it (docs/journeys.md). */
export type Definition = Record<string, unknown>;
/** Node positions saved beside the definition: `{ nodes: { [id]: { x, y } } }`. */
export type Layout = Record<string, unknown>;

export type NodeStats = {
  entered: number;
  current: number;
  passed: number;
  converted: number;
  exited: number;
};

export type Highlight = "path" | "current" | "end" | "added" | "removed" | "changed";

/** What the canvas draws on one node (or on the trigger, id `"__trigger__"`). */
export type NodeOverlay = {
  stats?: NodeStats;
  highlight?: Highlight;
  /** Short lines under the node: a wait's resume time, a rendered message's first words. */
  notes?: string[];
};

export type Overlays = Record<string, NodeOverlay>;

export const TRIGGER_NODE_ID = "__trigger__";

export type JourneyPanelProps = {
  journey: Journey;
  /** The definition on the canvas (the draft being edited, else the live version). */
  definition: Definition;
  selectedNodeId: string | null;
  /** Replace every overlay on the canvas (an empty object clears them). */
  onOverlays: (overlays: Overlays) => void;
  onSelectNode: (nodeId: string | null) => void;
  /** Show another definition read-only on the canvas (a version, or a diff); null: back to the journey's. */
  onShowDefinition: (definition: Definition | null, layout?: Layout | null) => void;
};
