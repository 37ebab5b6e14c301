import { useCallback, useMemo, useRef, useState, type DragEvent } from "react";
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
  type OnDelete,
} from "@xyflow/react";
import "@xyflow/react/dist/base.css";
import { useI18n } from "../../i18n";
import { branchesOf, edgesOf, nodesOf, reachableFrom, startOf, TRIGGER_NODE_ID, type JourneyNode, type Position, type Positions } from "./graph";
import { NODE_TYPES, type JourneyFlowNode, type JourneyNodeData } from "./NodeView";
import { branchLabel, kindLabel } from "./describe";
import type { Definition, Overlays } from "./panels/overlay";

export const PALETTE_MIME = "application/x-kairos-journey-node";

type Size = { width: number; height: number };

export interface CanvasProps {
  definition: Definition;
  positions: Positions;
  overlays: Overlays;
  errors: ReadonlyMap<string, string>;
  warnings: ReadonlyMap<string, string>;
  selectedNodes: ReadonlySet<string>;
  selectedEdges: ReadonlySet<string>;
  readOnly: boolean;
  onSelectionChange: (nodes: ReadonlySet<string>, edges: ReadonlySet<string>) => void;
  onMoveStart: () => void;
  onMove: (moves: Record<string, Position>) => void;
  onConnect: (source: string, handle: string, target: string) => void;
  onDelete: (nodeIds: string[], edgeIds: string[]) => void;
  onDropKind: (kind: string, at: Position) => void;
}

const EMPTY_OVERLAY = null;
const PATHY = new Set(["path", "current", "end"]);

/**
 * The canvas: nodes and edges derived from the definition. Each node object is kept while
 * nothing it shows changes, so React Flow re-renders only the nodes an edit touches (a
 * 200-node journey stays smooth while one node is dragged or edited).
 */
export function JourneyCanvas(props: CanvasProps) {
  const { definition, positions, overlays, errors, warnings, selectedNodes, selectedEdges, readOnly } = props;
  const { t } = useI18n();
  const flow = useReactFlow();
  const sizes = useRef(new Map<string, Size>());
  const nodeCache = useRef(new Map<string, { inputs: unknown[]; node: JourneyFlowNode }>());
  const edgeCache = useRef(new Map<string, { inputs: unknown[]; edge: Edge }>());
  const [sizeTick, setSizeTick] = useState(0);
  const propsRef = useRef(props);
  propsRef.current = props;

  const reachable = useMemo(() => reachableFrom(definition), [definition]);
  const start = startOf(definition);

  const nodes = useMemo(() => {
    const out: JourneyFlowNode[] = [];
    const cache = nodeCache.current;
    const seen = new Set<string>();
    const make = (id: string, node: JourneyNode, isTrigger: boolean) => {
      seen.add(id);
      const position = positions[id] ?? { x: 0, y: 0 };
      const overlay = overlays[id] ?? EMPTY_OVERLAY;
      const error = errors.get(id) ?? null;
      const warning = warnings.get(id) ?? null;
      const selected = selectedNodes.has(id);
      const unreachable = !isTrigger && !reachable.has(id);
      const isStart = id === start;
      const measured = sizes.current.get(id);
      const inputs = [node, position, overlay, error, warning, selected, unreachable, isStart, readOnly, measured, t];
      const hit = cache.get(id);
      if (hit && hit.inputs.every((v, i) => v === inputs[i])) {
        out.push(hit.node);
        return;
      }
      const data: JourneyNodeData = { node, isTrigger, isStart, unreachable, error, warning, overlay, readOnly };
      const flowNode: JourneyFlowNode = {
        id,
        type: "journey",
        position,
        data,
        selected,
        deletable: !isTrigger && !readOnly,
        draggable: !readOnly,
        ariaLabel: isTrigger ? t("journeys.trigger") : `${kindLabel(node.type, t)} ${id}`,
        ...(measured ? { measured } : {}),
      };
      cache.set(id, { inputs, node: flowNode });
      out.push(flowNode);
    };
    const trigger = (definition.trigger ?? { type: "" }) as JourneyNode;
    make(TRIGGER_NODE_ID, trigger, true);
    for (const [id, node] of Object.entries(nodesOf(definition))) make(id, node, false);
    for (const id of [...cache.keys()]) if (!seen.has(id)) cache.delete(id);
    return out;
    // sizes are read through the ref; a size change bumps `sizeTick`
  }, [definition, positions, overlays, errors, warnings, selectedNodes, reachable, start, readOnly, t, sizeTick]);

  const edges = useMemo(() => {
    const cache = edgeCache.current;
    const seen = new Set<string>();
    const all = nodesOf(definition);
    const out = edgesOf(definition).map((e) => {
      seen.add(e.id);
      const selected = selectedEdges.has(e.id);
      const lit = PATHY.has(overlays[e.source]?.highlight ?? "") && PATHY.has(overlays[e.target]?.highlight ?? "");
      const inputs = [e.target, e.sourceHandle, selected, lit, readOnly, t, all[e.source]];
      const hit = cache.get(e.id);
      if (hit && hit.inputs.every((v, i) => v === inputs[i])) return hit.edge;
      const edge: Edge = {
        id: e.id,
        source: e.source,
        sourceHandle: e.sourceHandle,
        target: e.target,
        selected,
        deletable: !readOnly,
        className: lit ? "je-lit" : undefined,
        animated: lit,
        ariaLabel: t("journeys.a11y.edgeLabel", {
          from: e.source === TRIGGER_NODE_ID ? t("journeys.trigger") : e.source,
          branch: e.source === TRIGGER_NODE_ID ? t("journeys.startBadge") : branchLabel(branchesOf(all[e.source] as JourneyNode).find((b) => b.handle === e.sourceHandle) ?? { handle: e.sourceHandle, kind: "next", target: e.target }, t),
          to: e.target,
        }),
      };
      cache.set(e.id, { inputs, edge });
      return edge;
    });
    for (const id of [...cache.keys()]) if (!seen.has(id)) cache.delete(id);
    return out;
  }, [definition, selectedEdges, overlays, readOnly, t]);

  const onNodesChange = useCallback((changes: NodeChange<JourneyFlowNode>[]) => {
    const p = propsRef.current;
    let selection: Set<string> | null = null;
    const moves: Record<string, Position> = {};
    let moved = false;
    let resized = false;
    for (const c of changes) {
      if (c.type === "select") {
        selection ??= new Set(p.selectedNodes);
        if (c.selected) selection.add(c.id);
        else selection.delete(c.id);
      } else if (c.type === "position" && c.position) {
        moves[c.id] = c.position;
        moved = true;
      } else if (c.type === "dimensions" && c.dimensions) {
        const old = sizes.current.get(c.id);
        if (!old || old.width !== c.dimensions.width || old.height !== c.dimensions.height) {
          sizes.current.set(c.id, { width: c.dimensions.width, height: c.dimensions.height });
          resized = true;
        }
      }
    }
    if (moved && !p.readOnly) p.onMove(moves);
    if (selection) p.onSelectionChange(selection, p.selectedEdges);
    if (resized) setSizeTick((n) => n + 1); // a new size: the node objects carry it
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    const p = propsRef.current;
    let selection: Set<string> | null = null;
    for (const c of changes) {
      if (c.type === "select") {
        selection ??= new Set(p.selectedEdges);
        if (c.selected) selection.add(c.id);
        else selection.delete(c.id);
      }
    }
    if (selection) p.onSelectionChange(p.selectedNodes, selection);
  }, []);

  const onConnect = useCallback((c: Connection) => {
    if (c.source && c.target) propsRef.current.onConnect(c.source, c.sourceHandle ?? "next", c.target);
  }, []);

  const isValidConnection = useCallback(
    (c: Connection | Edge) => c.target !== TRIGGER_NODE_ID && c.source !== c.target,
    [],
  );

  const onDelete: OnDelete = useCallback(({ nodes: gone, edges: cut }) => {
    propsRef.current.onDelete(
      gone.map((n) => n.id).filter((id) => id !== TRIGGER_NODE_ID),
      cut.map((e) => e.id),
    );
  }, []);

  const onDragOver = useCallback((event: DragEvent) => {
    if (event.dataTransfer.types.includes(PALETTE_MIME)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const kind = event.dataTransfer.getData(PALETTE_MIME);
      if (!kind || propsRef.current.readOnly) return;
      event.preventDefault();
      const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      propsRef.current.onDropKind(kind, { x: at.x - 120, y: at.y - 30 });
    },
    [flow],
  );

  const ariaLabelConfig = useMemo(
    () => ({
      "node.a11yDescription.default": t("journeys.a11y.node"),
      "node.a11yDescription.keyboardDisabled": t("journeys.a11y.nodeKeyboard"),
      "node.a11yDescription.ariaLiveMessage": ({ direction, x, y }: { direction: string; x: number; y: number }) =>
        t("journeys.a11y.moved", { direction, x: Math.round(x), y: Math.round(y) }),
      "edge.a11yDescription.default": t("journeys.a11y.edge"),
      "controls.ariaLabel": t("journeys.a11y.controls"),
      "controls.zoomIn.ariaLabel": t("journeys.a11y.zoomIn"),
      "controls.zoomOut.ariaLabel": t("journeys.a11y.zoomOut"),
      "controls.fitView.ariaLabel": t("journeys.a11y.fitView"),
      "controls.interactive.ariaLabel": t("journeys.a11y.interactive"),
      "minimap.ariaLabel": t("journeys.a11y.minimap"),
      "handle.ariaLabel": t("journeys.a11y.handle"),
    }),
    [t],
  );

  return (
    <div className="journey-canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow<JourneyFlowNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onDelete={onDelete}
        onNodeDragStart={props.onMoveStart}
        isValidConnection={isValidConnection}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        elementsSelectable
        deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
        multiSelectionKeyCode={["Meta", "Control", "Shift"]}
        selectionKeyCode={null}
        minZoom={0.1}
        maxZoom={2}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
        onlyRenderVisibleElements
        defaultEdgeOptions={{ type: "smoothstep" }}
        ariaLabelConfig={ariaLabelConfig}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={24} />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable nodeClassName={minimapClass} ariaLabel={t("journeys.a11y.minimap")} />
      </ReactFlow>
    </div>
  );
}

function minimapClass(node: JourneyFlowNode): string {
  const d = node.data;
  if (d.error) return "jm-error";
  if (d.isTrigger) return "jm-trigger";
  return d.overlay?.highlight ? `jm-hl-${d.overlay.highlight}` : "jm-node";
}
