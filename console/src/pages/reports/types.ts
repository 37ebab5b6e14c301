// The answers of /api/v1/reports/*, as generated from the backend's response models
// (src/kairos/api/report_schemas.py, which mirror kairos.analytics exactly). The names are the
// pages' own; every type is an alias of schema.d.ts.
import type { components } from "../../api/schema";

type Schemas = components["schemas"];
export type Campaign = Schemas["CampaignRead"];
export type Broadcast = Schemas["BroadcastRead"];
export type Journey = Schemas["JourneyRead"];
export type FunnelRequest = Schemas["FunnelRequest"];

export type AttributionModel = Schemas["CampaignReport"]["model"];
export const MODELS: AttributionModel[] = ["last", "first", "linear"];

export type Goal = Schemas["ReportGoal"];

export type DashboardReport = Schemas["Dashboard"];
export type DashboardDay = Schemas["DashboardDay"];
export type DashboardFigures = Schemas["DashboardFigures"];
export type Listed = Schemas["Listed"];

/** The figures of a report row and of its totals (FIGURES in analytics/reports.py). */
export type ReportFigures = Schemas["ReportFigures"];
export type ChannelRow = Schemas["ChannelRow"];
export type NodeRow = Schemas["NodeRow"];
export type VariantRow = Schemas["VariantRow"];
export type Budget = Schemas["Budget"];
export type CampaignReport = Schemas["CampaignReport"];

/** `results.variants[name]` of a judged experiment (campaigns/experiments.py). */
export type JudgedVariant = Schemas["JudgedVariant"];
export type HoldoutLift = Schemas["HoldoutLift"];
export type BroadcastExperiment = Schemas["BroadcastExperiment"];
export type BroadcastReport = Schemas["BroadcastReport"];

export type SplitBranch = Schemas["SplitBranch"];
export type SplitExperiment = Schemas["SplitExperiment"];
export type JourneyReport = Schemas["JourneyReport"];

export type TimeseriesReport = Schemas["Timeseries"];
export type TimeseriesMetric = Exclude<keyof Schemas["TimeseriesDay"], "date">;
export const METRICS: TimeseriesMetric[] = ["sent", "opened", "clicked", "converted", "revenue"];
export type Source = TimeseriesReport["source"];

export type FunnelStep = Schemas["FunnelStep"];
export type FunnelReport = Schemas["Funnel"];

export type LifecycleReport = Schemas["Lifecycle"];
export type Interval = LifecycleReport["interval"];

/**
 * A report's JSON answer. Its route also answers CSV (`?format=csv`), so the generated type
 * of the answer is the JSON model or a string; asked without `format=csv`, it is the model.
 */
export function jsonReport<T>(data: T): Exclude<T, string> {
  if (typeof data === "string") throw new TypeError("the report answered CSV where JSON was asked");
  return data as Exclude<T, string>;
}
