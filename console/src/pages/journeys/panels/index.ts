// The panels shown beside the journey canvas in its Live, Simulate and Versions modes. The
// contract with the canvas is ./overlay.ts. Each panel is a chunk of its own, loaded when its
// mode is first opened, so the canvas page does not carry the three of them.
import { createElement, lazy, Suspense } from "react";
import { Spin } from "antd";
import type { JourneyPanelProps } from "./overlay";

const Live = lazy(() => import("./LiveStatsPanel").then((m) => ({ default: m.LiveStatsPanel })));
const Simulation = lazy(() => import("./SimulationPanel").then((m) => ({ default: m.SimulationPanel })));
const Versions = lazy(() => import("./VersionsPanel").then((m) => ({ default: m.VersionsPanel })));

const loading = createElement(Spin, { size: "small" });

export function LiveStatsPanel(props: JourneyPanelProps) {
  return createElement(Suspense, { fallback: loading }, createElement(Live, props));
}

export function SimulationPanel(props: JourneyPanelProps) {
  return createElement(Suspense, { fallback: loading }, createElement(Simulation, props));
}

export function VersionsPanel(props: JourneyPanelProps) {
  return createElement(Suspense, { fallback: loading }, createElement(Versions, props));
}

export type { JourneyPanelProps, Overlays, NodeOverlay, NodeStats, Highlight, Definition, Layout } from "./overlay";
export { TRIGGER_NODE_ID } from "./overlay";
