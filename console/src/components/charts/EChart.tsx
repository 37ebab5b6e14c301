// The ECharts part of a chart, loaded lazily by ChartFigure (its own chunk, with ECharts):
// only what the console draws is registered, so the rest of ECharts is left out of the
// bundle. SVG renderer: see docs/console.md, "Charts".
import { useEffect, useRef } from "react";
import { init, use, type EChartsType } from "echarts/core";
import { BarChart, FunnelChart, LineChart } from "echarts/charts";
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";
import type { Language } from "../../i18n";
import type { ChartOption } from "./model";

use([BarChart, LineChart, FunnelChart, GridComponent, TooltipComponent, LegendComponent, AriaComponent, SVGRenderer]);

/** Size to draw at when the element has none yet (jsdom, a hidden tab). */
const FALLBACK_WIDTH = 640;

export interface EChartProps {
  option: ChartOption;
  /** the accessible name (also given to ECharts as its aria description) */
  label: string;
  height: number;
  lang: Language;
}

export default function EChart({ option, label, height, lang }: EChartProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);

  // One ECharts instance per element and language (its locale names tooltips and aria text).
  useEffect(() => {
    const dom = element.current;
    if (!dom) return undefined;
    const instance = init(dom, null, {
      renderer: "svg",
      locale: lang === "zh-CN" ? "ZH" : "EN",
      width: dom.clientWidth || FALLBACK_WIDTH,
      height,
    });
    chart.current = instance;
    // The element (role="img") is named by the summary; the drawing itself is not read out.
    dom.querySelector("svg")?.setAttribute("aria-hidden", "true");
    // Follow the container's width (the menu folding, the window resized).
    const observer =
      typeof ResizeObserver === "undefined"
        ? null
        : new ResizeObserver(() => {
            if (dom.clientWidth > 0) instance.resize({ width: dom.clientWidth, height });
          });
    observer?.observe(dom);
    return () => {
      observer?.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, [lang, height]);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option, lang, height]);

  return <div ref={element} className="chart-canvas" role="img" aria-label={label} style={{ height }} />;
}
