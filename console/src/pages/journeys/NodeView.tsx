import { createContext, memo, useContext } from "react";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import {
  ApiOutlined,
  BranchesOutlined,
  CalendarOutlined,
  CustomerServiceOutlined,
  ClockCircleOutlined,
  EditOutlined,
  FieldTimeOutlined,
  ForkOutlined,
  GiftOutlined,
  PlayCircleOutlined,
  QuestionCircleOutlined,
  SendOutlined,
  SolutionOutlined,
  StopOutlined,
  ThunderboltOutlined,
} from "@ant-design/icons";
import type { ReactNode } from "react";
import { useI18n } from "../../i18n";
import { branchesOf, START_HANDLE, type Branch, type JourneyNode } from "./graph";
import type { NodeOverlay } from "./panels/overlay";
import { branchLabel, kindLabel, nodeSummary, triggerSummary, type Names } from "./describe";

export const KIND_ICONS: Record<string, ReactNode> = {
  trigger: <PlayCircleOutlined />,
  wait: <ClockCircleOutlined />,
  wait_until: <FieldTimeOutlined />,
  wait_until_date: <CalendarOutlined />,
  wait_for_event: <ThunderboltOutlined />,
  condition: <QuestionCircleOutlined />,
  branch: <BranchesOutlined />,
  split: <ForkOutlined />,
  send: <SendOutlined />,
  update_contact: <EditOutlined />,
  webhook: <ApiOutlined />,
  notify_sales: <SolutionOutlined />,
  task: <CustomerServiceOutlined />,
  assign_offer: <GiftOutlined />,
  exit: <StopOutlined />,
};

/** What the summaries name by id (templates, segments, offers, topics). */
export const NamesContext = createContext<Names>({ templates: new Map(), segments: new Map(), topics: new Map() });

export type JourneyNodeData = {
  /** The node of the definition, or the trigger. */
  node: JourneyNode;
  isTrigger: boolean;
  isStart: boolean;
  unreachable: boolean;
  error: string | null;
  warning: string | null;
  overlay: NodeOverlay | null;
  readOnly: boolean;
};

export type JourneyFlowNode = Node<JourneyNodeData, "journey">;

function Stats({ overlay }: { overlay: NodeOverlay }) {
  const { t, lang } = useI18n();
  const s = overlay.stats;
  if (!s) return null;
  const n = new Intl.NumberFormat(lang);
  const items = [
    ["entered", s.entered],
    ["current", s.current],
    ["passed", s.passed],
    ["converted", s.converted],
    ["exited", s.exited],
  ] as const;
  return (
    <ul className="jn-stats" aria-label={t("journeys.stats.label")}>
      {items.map(([key, value]) => (
        <li key={key} className={`jn-stat jn-stat-${key}${value ? "" : " jn-stat-zero"}`}>
          <span className="jn-stat-label">{t(`journeys.stats.${key}`)}</span> <strong>{n.format(value)}</strong>
        </li>
      ))}
    </ul>
  );
}

function handleLeft(i: number, count: number): string {
  return `${((i + 1) / (count + 1)) * 100}%`;
}

const STAGGER_FROM = 3;

function BranchHandles({ branches, connectable }: { branches: Branch[]; connectable: boolean }) {
  const { t } = useI18n();
  const showLabels = branches.length > 1 || branches.some((b) => b.holdout);
  // more than three handles: every other label one line higher, so neighbours do not overlap
  const staggered = branches.length > STAGGER_FROM;
  return (
    <>
      {branches.map((b, i) => {
        const label = branchLabel(b, t);
        return (
          <Handle
            key={b.handle}
            id={b.handle}
            type="source"
            position={Position.Bottom}
            isConnectable={connectable}
            style={{ left: handleLeft(i, branches.length) }}
            className={`jn-handle${b.holdout ? " jn-handle-holdout" : ""}`}
            data-handle={b.handle}
          >
            {showLabels ? (
              <span className={`jn-handle-label${b.holdout ? " jn-holdout" : ""}${staggered && i % 2 === 1 ? " jn-handle-label-up" : ""}`} aria-hidden="true">
                {label}
              </span>
            ) : null}
          </Handle>
        );
      })}
    </>
  );
}

/** One node of the canvas (memoized: it re-renders only when its own data changes). */
export const JourneyNodeView = memo(function JourneyNodeView({ id, data, selected }: NodeProps<JourneyFlowNode>) {
  const { t, lang } = useI18n();
  const names = useContext(NamesContext);
  const { node, isTrigger, overlay, error, warning } = data;
  const kind = isTrigger ? "trigger" : node.type;
  const branches = isTrigger ? [{ handle: START_HANDLE, kind: "next" as const, target: null }] : branchesOf(node);
  const summary = isTrigger ? triggerSummary(node, t, names) : nodeSummary(node, t, lang, names);
  const title = isTrigger ? t("journeys.trigger") : kindLabel(node.type, t);
  const highlight = overlay?.highlight;
  const classes = [
    "jn",
    `jn-kind-${kind}`,
    selected ? "jn-selected" : "",
    error ? "jn-error" : warning ? "jn-warning" : "",
    data.unreachable ? "jn-unreachable" : "",
    highlight ? `jn-hl-${highlight}` : "",
    branches.length > STAGGER_FROM ? "jn-staggered" : "",
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <div className={classes} data-node-id={id} data-testid={`journey-node-${id}`}>
      {isTrigger ? null : (
        <Handle type="target" position={Position.Top} isConnectable={!data.readOnly} className="jn-handle jn-target" />
      )}
      <div className="jn-head">
        <span className="jn-icon" aria-hidden="true">
          {KIND_ICONS[kind]}
        </span>
        <span className="jn-title">{title}</span>
        {isTrigger ? null : <code className="jn-id">{id}</code>}
      </div>
      <div className="jn-summary">{summary || <span className="jn-empty">{t("journeys.summary.incomplete")}</span>}</div>
      {data.isStart ? <div className="jn-badge">{t("journeys.startBadge")}</div> : null}
      {data.unreachable ? <div className="jn-note jn-muted">{t("journeys.unreachable")}</div> : null}
      {error ? (
        <div className="jn-message jn-message-error" role="alert">
          {error}
        </div>
      ) : warning ? (
        <div className="jn-message jn-message-warning">{warning}</div>
      ) : null}
      {overlay ? <Stats overlay={overlay} /> : null}
      {overlay?.notes?.length ? (
        <ul className="jn-notes">
          {overlay.notes.map((note, i) => (
            <li key={i}>{note}</li>
          ))}
        </ul>
      ) : null}
      {highlight ? <span className="visually-hidden">{t(`journeys.highlight.${highlight}`)}</span> : null}
      {branches.length ? <BranchHandles branches={branches} connectable={!data.readOnly} /> : null}
      {kind === "exit" ? null : <div className="jn-handle-space" aria-hidden="true" />}
    </div>
  );
});

export const NODE_TYPES = { journey: JourneyNodeView };
