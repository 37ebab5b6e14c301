// CRM connections as the form edits them (docs/leads.md, "CRM sync"): the field mapping rows,
// the sync scope, and the body of a create or a change.
import type { components } from "../../api/schema";

type Schemas = components["schemas"];
export type CrmConnection = Schemas["CrmConnectionRead"];
export type CrmProvider = Schemas["CrmProviderRead"];
export type CrmProviderName = CrmConnection["provider"];
export type SyncScope = CrmConnection["sync_scope"];
export type FieldMap = Schemas["FieldMap"];
export type ContactCrmSync = Schemas["ContactCrmSync"];

export const SYNC_SCOPES: SyncScope[] = ["all", "segment", "lifecycle"];

/** The contact fields a mapping may read (`traits.<name>` for custom attributes). */
export const CONTACT_FIELDS = [
  "id",
  "external_id",
  "email",
  "phone",
  "first_name",
  "last_name",
  "timezone",
  "locale",
  "lifecycle_stage",
  "score",
  "created_at",
];

export interface MappingRow {
  source: string;
  target: string;
}

/** Mapping rows to send: blank rows dropped; a row with one side only is a problem (its index). */
export function mappingBody(rows: MappingRow[]): { mapping: FieldMap[]; problems: number[] } {
  const mapping: FieldMap[] = [];
  const problems: number[] = [];
  rows.forEach((r, i) => {
    const source = r.source.trim();
    const target = r.target.trim();
    if (!source && !target) return;
    if (!source || !target) problems.push(i);
    else mapping.push({ source, target });
  });
  return { mapping, problems };
}

export interface ScopeDraft {
  scope: SyncScope;
  segmentId: number | null;
  stages: string[];
}

export type ScopeProblem = "segment" | "stages" | null;

export function scopeProblem(d: ScopeDraft): ScopeProblem {
  if (d.scope === "segment" && d.segmentId === null) return "segment";
  if (d.scope === "lifecycle" && !d.stages.length) return "stages";
  return null;
}

/** The scope fields of a body: the segment only for `segment`, the stages only for `lifecycle`. */
export function scopeBody(d: ScopeDraft): { sync_scope: SyncScope; segment_id: number | null; lifecycle_stages: string[] } {
  return {
    sync_scope: d.scope,
    segment_id: d.scope === "segment" ? d.segmentId : null,
    lifecycle_stages: d.scope === "lifecycle" ? d.stages : [],
  };
}

/** Whether a connection is paused after an outage now. */
export function isPaused(c: Pick<CrmConnection, "paused_until">, now = Date.now()): boolean {
  return c.paused_until !== null && new Date(c.paused_until).getTime() > now;
}
