import type { components } from "../../api/schema";

type Schemas = components["schemas"];
export type Form = Schemas["FormRead"];
export type FormFieldSpec = Schemas["FormField"];
export type ConsentSpec = Schemas["ConsentItem"];
export type FieldType = NonNullable<FormFieldSpec["type"]>;
export type Submission = Schemas["SubmissionRead"];

export const FIELD_TYPES: FieldType[] = ["email", "tel", "text", "number", "date", "select", "checkbox", "hidden"];
/** Profile fields a form fills, with the type each needs (`forms/service.py`). */
export const PROFILE_FIELDS: Record<string, FieldType> = { email: "email", phone: "tel", first_name: "text", last_name: "text" };
export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const KEY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,99}$/;
export const UTM_NAMES = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

/** A field being edited: `uid` keeps React's rows (and the focus) on their field while moving. */
export interface DraftField extends FormFieldSpec {
  uid: string;
}
export interface DraftConsent extends ConsentSpec {
  uid: string;
}

let next = 0;
export const uid = () => `f${++next}`;

/** A new field of `type`: email and phone map to the profile field of that name. */
export function newField(type: FieldType, taken: string[]): DraftField {
  const base = type === "email" ? "email" : type === "tel" ? "phone" : type === "hidden" ? "utm_source" : type;
  let name = base;
  for (let i = 2; taken.includes(name); i++) name = `${base}_${i}`;
  return {
    uid: uid(),
    name,
    label: type === "hidden" ? null : "",
    type,
    required: type === "email",
    options: type === "select" ? [] : null,
    value: null,
  };
}

/** Moves the item at `from` by `delta` places (clamped); the same array when it cannot move. */
export function move<T>(items: T[], from: number, delta: number): T[] {
  const to = from + delta;
  if (from < 0 || from >= items.length || to < 0 || to >= items.length || delta === 0) return items;
  const out = items.slice();
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item as T);
  return out;
}

/** Drops the item at `from` onto `to` (drag and drop). */
export function moveTo<T>(items: T[], from: number, to: number): T[] {
  return move(items, from, to - from);
}

/** What the API takes: only the keys each type has. */
export function fieldsPayload(fields: DraftField[]): FormFieldSpec[] {
  return fields.map((f) => ({
    name: f.name.trim(),
    label: f.type === "hidden" ? null : f.label?.trim() || null,
    type: f.type,
    required: f.type === "hidden" ? false : !!f.required,
    options: f.type === "select" ? (f.options ?? []).map((o) => o.trim()).filter(Boolean) : null,
    value: f.type === "hidden" ? f.value?.trim() || null : null,
  }));
}

export function consentPayload(items: DraftConsent[]): ConsentSpec[] {
  return items
    .filter((c) => c.topic_id)
    .map((c) => ({ topic_id: c.topic_id, label: c.label.trim(), wording_version: c.wording_version?.trim() || "1", required: !!c.required }));
}

/** Problems the server would refuse, per field (by uid) and for the form. */
export function fieldProblems(fields: DraftField[]): { byField: Map<string, "name" | "duplicate" | "options" | "type">; noIdentity: boolean } {
  const byField = new Map<string, "name" | "duplicate" | "options" | "type">();
  const seen = new Set<string>();
  for (const f of fields) {
    const name = f.name.trim();
    if (!NAME_PATTERN.test(name)) byField.set(f.uid, "name");
    else if (seen.has(name)) byField.set(f.uid, "duplicate");
    else if (PROFILE_FIELDS[name] && PROFILE_FIELDS[name] !== f.type) byField.set(f.uid, "type");
    else if (f.type === "select" && !(f.options ?? []).some((o) => o.trim())) byField.set(f.uid, "options");
    seen.add(name);
  }
  return { byField, noIdentity: !fields.some((f) => (f.name === "email" && f.type === "email") || (f.name === "phone" && f.type === "tel")) };
}

/** The hosted form's absolute address, with `params` (UTM values) when given. */
export function publicUrl(origin: string, path: string, params: Record<string, string> = {}): string {
  const url = new URL(path, origin);
  for (const [k, v] of Object.entries(params)) if (v.trim()) url.searchParams.set(k, v.trim());
  return url.toString();
}

function attr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The HTML a site pastes to show the form: an iframe of the hosted form (its spam guards —
 * the signed timestamp, the honeypot, a CAPTCHA — only work on the page Kairos renders), or
 * a plain link. The iframe loads only on sites listed in KAIROS_FORM_FRAME_ANCESTORS.
 */
export function embedSnippet(url: string, title: string, height = 560): string {
  return `<iframe src="${attr(url)}" title="${attr(title)}" width="100%" height="${height}" style="border:0;max-width:40rem" loading="lazy"></iframe>`;
}

export function linkSnippet(url: string, text: string): string {
  return `<a href="${attr(url)}">${attr(text).replace(/&quot;/g, '"')}</a>`;
}
