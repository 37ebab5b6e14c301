import { ApiError } from "../../../api/http";
import type { components } from "../../../api/schema";
import type { ContactWithTraits } from "../../../api/types";

export type Attribute = components["schemas"]["AttributeRead"];
export type ContactUpdate = components["schemas"]["ContactUpdate"];
export type AttributeType = "string" | "number" | "boolean" | "datetime" | "list";

export const ATTRIBUTE_TYPES: AttributeType[] = ["string", "number", "boolean", "datetime", "list"];

/** The built-in profile fields the editor changes (the external id is set once, by the API). */
export const PROFILE_FIELDS = ["first_name", "last_name", "email", "phone", "timezone", "locale"] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];

export function attributeType(type: string): AttributeType | null {
  return (ATTRIBUTE_TYPES as string[]).includes(type) ? (type as AttributeType) : null;
}

/**
 * What the editor's input holds for a stored trait value:
 * - string: text; number: a number; boolean: "true" / "false" (a select, so "not set" is a
 *   choice too); datetime: the ISO text as stored ("2026-03-02" for a date, "…Z" for an
 *   instant); list: the items as text.
 * A value the type does not describe (stored before the attribute was declared, say) is
 * shown as text; it is only sent back if the user changes it.
 */
export type FormValue = string | number | string[] | null;

export function toFormValue(type: AttributeType, value: unknown): FormValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "number":
      return typeof value === "number" ? value : String(value);
    case "boolean":
      return String(value);
    case "list":
      return Array.isArray(value) ? value.map((v) => (v === null ? "" : String(v))) : [String(value)];
    default:
      return typeof value === "string" ? value : JSON.stringify(value);
  }
}

/** The value `PATCH /contacts/{id}` is sent for an input; null removes the trait. */
export function fromFormValue(type: AttributeType, value: FormValue | undefined): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "number":
      if (typeof value === "number") return value;
      return typeof value === "string" && value.trim() !== "" ? value.trim() : null; // the server says why
    case "boolean":
      return value === "true" ? true : value === "false" ? false : null;
    case "list": {
      const items = (Array.isArray(value) ? value : [String(value)]).map((v) => v.trim()).filter(Boolean);
      return items.length ? items : null;
    }
    default: {
      const text = String(value);
      return text.trim() === "" ? null : text;
    }
  }
}

export interface EditorValues {
  fields: Record<ProfileField, string>;
  traits: Record<string, FormValue>;
}

export function initialValues(contact: ContactWithTraits, attributes: Attribute[]): EditorValues {
  const fields = Object.fromEntries(PROFILE_FIELDS.map((f) => [f, contact[f] ?? ""])) as Record<ProfileField, string>;
  const traits: Record<string, FormValue> = {};
  for (const a of attributes) {
    const type = attributeType(a.type);
    if (type) traits[a.name] = toFormValue(type, contact.traits[a.name]);
  }
  return { fields, traits };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The PATCH body: only what changed (an emptied field or attribute becomes null). */
export function changesOf(before: EditorValues, after: EditorValues, attributes: Attribute[]): ContactUpdate {
  const body: ContactUpdate = {};
  for (const f of PROFILE_FIELDS) {
    const value = (after.fields[f] ?? "").trim();
    if (value !== (before.fields[f] ?? "").trim()) body[f] = value === "" ? null : value;
  }
  const traits: Record<string, unknown> = {};
  for (const a of attributes) {
    const type = attributeType(a.type);
    if (!type) continue;
    const was = fromFormValue(type, before.traits[a.name]);
    const now = fromFormValue(type, after.traits[a.name]);
    if (!same(was, now)) traits[a.name] = now;
  }
  if (Object.keys(traits).length) body.traits = traits;
  return body;
}

/** Where the editor shows an error of `PATCH /contacts/{id}`: a form path and what to say. */
export interface FieldError {
  name: [string] | [string, string];
  /** a key of the contacts catalog with its parameters, or the server's own message */
  reason:
    | { key: "email" | "phone" | "timezone" }
    | { key: "taken"; id: string }
    | { key: "type"; attribute: string }
    | { message: string };
}

const FIELD_CODES: Record<string, ProfileField> = {
  invalid_email: "email",
  invalid_phone: "phone",
  invalid_timezone: "timezone",
  invalid_locale: "locale",
  invalid_first_name: "first_name",
  invalid_last_name: "last_name",
};

const IDENTITY_FIELDS: Record<string, ProfileField> = { email: "email", phone: "phone" };

/** The field (or fields) an API error is about; empty when it names none. */
export function fieldErrors(error: unknown, attributes: Attribute[]): FieldError[] {
  if (!(error instanceof ApiError)) return [];
  const traitNames = new Set(attributes.map((a) => a.name));
  const field = FIELD_CODES[error.code];
  if (field) {
    const key = field === "email" || field === "phone" || field === "timezone" ? field : null;
    return [{ name: ["fields", field], reason: key ? { key } : { message: error.message } }];
  }
  if (error.code === "identity_conflict") {
    // "email 'ann@example.com' belongs to contact 42"
    const match = /^(\w+) .* belongs to contact (\d+)$/.exec(error.message);
    const target = match ? IDENTITY_FIELDS[match[1] ?? ""] : undefined;
    if (match && target) return [{ name: ["fields", target], reason: { key: "taken", id: match[2] ?? "" } }];
    return [];
  }
  if (error.code === "invalid_trait") {
    // "trait 'age' must be a number, got 'old'"
    const name = /^trait (['"])(.+?)\1 must be/.exec(error.message)?.[2];
    if (name && traitNames.has(name)) return [{ name: ["traits", name], reason: { key: "type", attribute: name } }];
    return [];
  }
  if (error.code === "validation_error") {
    // "email: String should have at most 320 characters; traits.x: …"
    const out: FieldError[] = [];
    for (const part of error.message.split("; ")) {
      const match = /^([\w.]+): (.+)$/.exec(part);
      if (!match) continue;
      const [path = "", message = ""] = [match[1], match[2]];
      if ((PROFILE_FIELDS as readonly string[]).includes(path)) out.push({ name: ["fields", path], reason: { message } });
      else if (path.startsWith("traits.") && traitNames.has(path.slice(7)))
        out.push({ name: ["traits", path.slice(7)], reason: { message } });
    }
    return out;
  }
  return [];
}
