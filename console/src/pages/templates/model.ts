import type { components } from "../../api/schema";

export type Template = components["schemas"]["TemplateRead"];
export type TemplateChannel = Template["channel"];
/** A template's `fields`, as the API takes them (see `TemplateCreate.fields`). */
export type TemplateFields = Record<string, unknown>;

export const CHANNELS: TemplateChannel[] = ["email", "sms", "push", "wechat", "inapp", "webhook"];

/** The fields each channel requires (`kairos.messaging.templates.CHANNEL_FIELDS`). */
export const REQUIRED: Record<TemplateChannel, string[]> = {
  email: ["subject", "body"],
  sms: ["text"],
  push: ["title", "body"],
  wechat: ["template_id", "data"],
  webhook: ["payload"],
  inapp: ["title", "body"],
};

export function isChannel(value: unknown): value is TemplateChannel {
  return typeof value === "string" && (CHANNELS as string[]).includes(value);
}

/** Required fields still empty (the preview waits for them; saving names them). */
export function missingFields(channel: TemplateChannel, fields: TemplateFields): string[] {
  return REQUIRED[channel].filter((name) => {
    const value = fields[name];
    if (value === undefined || value === null) return true;
    if (typeof value === "string") return value.trim() === "";
    return false;
  });
}

/**
 * The fields as saved: optional text fields left empty are left out (an empty preheader
 * would still be a field; an empty plain-text part would replace the derived one).
 */
export function cleanFields(channel: TemplateChannel, fields: TemplateFields): TemplateFields {
  const out: TemplateFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const optionalText = !REQUIRED[channel].includes(key) && typeof value === "string" && key !== "format";
    if (optionalText && value.trim() === "") continue;
    out[key] = value;
  }
  return out;
}

/**
 * The field a template error names: the server writes `field: what is wrong`
 * (`subject: expected '}}'…`, `data.keyword1: must be a string`). The first part of the
 * path is the form's field.
 */
export function errorField(message: string): { field: string; path: string; text: string } | null {
  const match = /^([A-Za-z_][\w]*)((?:\.[\w-]+|\[\d+\])*): (.*)$/s.exec(message);
  if (!match) return null;
  return { field: match[1] ?? "", path: `${match[1] ?? ""}${match[2] ?? ""}`, text: match[3] ?? "" };
}

/**
 * The variables a strict preview found undefined, per field: the server says
 * `undefined variables: subject: contact.nick is undefined (line 1); body: 'offer' is undefined (line 3)`.
 */
export function undefinedVariables(message: string): { field: string; text: string }[] | null {
  const prefix = "undefined variables: ";
  if (!message.startsWith(prefix)) return null;
  return message
    .slice(prefix.length)
    .split("; ")
    .map((part) => {
      const at = part.indexOf(": ");
      return at < 0 ? { field: "", text: part } : { field: part.slice(0, at), text: part.slice(at + 2) };
    });
}

/** A message for the preview: `{{ offer.… }}` needs an offer chosen. */
export function mentionsOffer(message: string): boolean {
  return /'offer'|\boffer\./.test(message);
}
