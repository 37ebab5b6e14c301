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
export type AccountCrmSync = Schemas["AccountCrmSync"];

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

/** The account fields an account mapping may read, besides `traits.<name>` and score roll-ups. */
export const ACCOUNT_FIELDS = ["id", "external_id", "name", "domain", "member_count", "created_at"];

/** Score roll-ups of an account: the default model's, or a model's by key. */
export function accountScoreSources(modelKeys: string[]): string[] {
  const parts = ["sum", "max", "engaged"];
  return [...parts.map((p) => `score.${p}`), ...modelKeys.flatMap((k) => parts.map((p) => `scores.${k}.${p}`))];
}

/**
 * Provider settings about accounts (HubSpot's unique company property, Salesforce's Account
 * external id field): the form shows them with the account sync, not with the connection.
 */
export const ACCOUNT_SETTINGS = new Set(["company_id_property", "account_external_id_field"]);

export interface MappingRow {
  source: string;
  target: string;
}

/**
 * Mapping rows to send: blank rows dropped; a row with one side only is a problem (its index).
 * `rows[i]` is the row the i-th sent entry came from (a server error names the sent index).
 */
export function mappingBody(rows: MappingRow[]): { mapping: FieldMap[]; problems: number[]; rows: number[] } {
  const mapping: FieldMap[] = [];
  const problems: number[] = [];
  const from: number[] = [];
  rows.forEach((r, i) => {
    const source = r.source.trim();
    const target = r.target.trim();
    if (!source && !target) return;
    if (!source || !target) problems.push(i);
    else {
      mapping.push({ source, target });
      from.push(i);
    }
  });
  return { mapping, problems, rows: from };
}

/**
 * The row a 422 about a mapping names (`account_mapping[2].target: …` → the row sent third),
 * or null when the error is not about one of its entries.
 */
export function mappingErrorRow(path: string | null, field: string, sentRows: number[]): number | null {
  if (!path) return null;
  const match = new RegExp(`^${field}\\[(\\d+)\\]`).exec(path);
  if (!match) return null;
  return sentRows[Number(match[1])] ?? null;
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
