/**
 * The plan form's draft and what it sends: pure, so it is tested without a browser. Dates are
 * wall times in the workspace's zone in the form (`YYYY-MM-DD HH:MM`) and instants in the API.
 */
import type { PropertyFilter } from "../segments/builder/model";
import { fromWall, toWall } from "../calendar/zoned";
import type { Campaign, CampaignCreate, CampaignUpdate } from "./queries";

export interface PlanDraft {
  name: string;
  description: string;
  goalEvent: string;
  goalWindow: number;
  goalWhere: PropertyFilter[];
  budget: number | null;
  currency: string | null;
  costs: Record<string, number | null>;
  segment_id: number | null;
  offer_id: number | null;
  template_ids: number[];
  channels: string[];
  owner: string;
  /** wall date and time in the workspace's zone, "YYYY-MM-DD HH:MM", or null */
  starts: string | null;
  ends: string | null;
  requires_approval: boolean;
}

export function emptyDraft(owner: string, currency: string | null): PlanDraft {
  return {
    name: "",
    description: "",
    goalEvent: "",
    goalWindow: 7,
    goalWhere: [],
    budget: null,
    currency,
    costs: {},
    segment_id: null,
    offer_id: null,
    template_ids: [],
    channels: [],
    owner,
    starts: null,
    ends: null,
    requires_approval: true,
  };
}

const wall = (iso: string | null | undefined, zone: string): string | null => {
  if (!iso) return null;
  const w = toWall(iso, zone);
  return `${w.date} ${w.time}`;
};

const instant = (value: string | null, zone: string): string | null => {
  if (!value) return null;
  const [date, time] = value.split(" ") as [string, string];
  return fromWall(date, time ?? "00:00", zone).toISOString();
};

export function draftOf(c: Campaign, zone: string): PlanDraft {
  const goal = (c.goal ?? null) as { event?: string; window_days?: number; where?: PropertyFilter[] } | null;
  return {
    name: c.name,
    description: c.description ?? "",
    goalEvent: goal?.event ?? "",
    goalWindow: goal?.window_days ?? 7,
    goalWhere: goal?.where ?? [],
    budget: c.budget ?? null,
    currency: c.currency ?? null,
    costs: { ...(c.costs ?? {}) },
    segment_id: c.segment_id ?? null,
    offer_id: c.offer_id ?? null,
    template_ids: c.template_ids ?? [],
    channels: c.channels ?? [],
    owner: c.owner ?? "",
    starts: wall(c.starts_at, zone),
    ends: wall(c.ends_at, zone),
    requires_approval: c.requires_approval,
  };
}

/** The whole plan as `POST /campaigns` takes it. Costs only for the channels chosen. */
export function planBody(d: PlanDraft, zone: string): CampaignCreate {
  const costs: Record<string, number> = {};
  for (const channel of d.channels) {
    const cost = d.costs[channel];
    if (cost !== null && cost !== undefined) costs[channel] = cost;
  }
  const event = d.goalEvent.trim();
  return {
    name: d.name.trim(),
    description: d.description.trim() || null,
    goal: event ? { event, window_days: d.goalWindow, where: d.goalWhere as unknown as Record<string, unknown>[] } : null,
    budget: d.budget,
    currency: d.currency,
    costs: Object.keys(costs).length ? costs : null,
    segment_id: d.segment_id,
    offer_id: d.offer_id,
    template_ids: d.template_ids.length ? d.template_ids : null,
    channels: d.channels.length ? d.channels : null,
    owner: d.owner.trim() || null,
    starts_at: instant(d.starts, zone),
    ends_at: instant(d.ends, zone),
    requires_approval: d.requires_approval,
  };
}

/** Only what changed, as `PATCH /campaigns/{id}` takes it (instants compared as instants). */
export function planChanges(before: Campaign, d: PlanDraft, zone: string): CampaignUpdate {
  const after = planBody(d, zone) as Record<string, unknown>;
  const old = planBody(draftOf(before, zone), zone) as Record<string, unknown>;
  const change: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) if (JSON.stringify(v) !== JSON.stringify(old[k])) change[k] = v;
  return change as CampaignUpdate;
}

/** The field a 422/409 of the campaigns API is about, by its code. */
export const FIELD_OF_CODE: Record<string, keyof PlanDraft> = {
  campaign_exists: "name",
  invalid_budget: "budget",
  invalid_costs: "costs",
  unknown_channel: "channels",
  invalid_dates: "ends",
  unknown_segment: "segment_id",
  unknown_offer: "offer_id",
  unknown_template: "template_ids",
  invalid_goal: "goalEvent",
};
