/**
 * The names a template can use (docs/messaging.md "Templates", docs/offers.md): what the
 * Liquid completion offers. Contact fields are the server's `CONTACT_FIELDS`; custom traits
 * (the workspace's attributes) sit at the top of `contact` as well as under `contact.traits`;
 * computed traits under `computed`; an offer's fields under `offer`.
 */

export type VariableKind = "contact" | "attribute" | "computed" | "offer" | "event" | "payload" | "links" | "message";

export interface LiquidVariable {
  /** The dotted path, as written between `{{ }}`. */
  path: string;
  kind: VariableKind;
  /** A short hint shown beside the name: a type, an attribute's label. */
  detail?: string;
}

/** The contact's own fields (`kairos.messaging.render.CONTACT_FIELDS`). */
export const CONTACT_FIELDS = [
  "first_name",
  "last_name",
  "email",
  "phone",
  "external_id",
  "id",
  "locale",
  "timezone",
  "lifecycle_stage",
  "score",
  "created_at",
] as const;

/** `{{ offer.… }}` (docs/offers.md): the offer's fields, the contact's code and `display`. */
export const OFFER_FIELDS = ["code", "display", "name", "value", "kind", "currency", "ends_at", "key", "description"] as const;

export const LINK_FIELDS = ["unsubscribe_url", "preferences_url", "confirm_url"] as const;

const IDENTIFIER = /^[A-Za-z_][\w-]*$/;

export function templateVariables(
  attributes: { name: string; type: string; label?: string | null }[],
  computedTraits: { name: string; value_type: string }[],
): LiquidVariable[] {
  const out: LiquidVariable[] = CONTACT_FIELDS.map((f) => ({ path: `contact.${f}`, kind: "contact" as const }));
  const taken = new Set<string>(CONTACT_FIELDS);
  for (const a of attributes) {
    if (taken.has(a.name) || !IDENTIFIER.test(a.name)) continue;
    taken.add(a.name);
    out.push({ path: `contact.${a.name}`, kind: "attribute", detail: a.label ? `${a.label} · ${a.type}` : a.type });
  }
  for (const c of computedTraits) {
    if (!IDENTIFIER.test(c.name)) continue;
    out.push({ path: `computed.${c.name}`, kind: "computed", detail: c.value_type });
  }
  for (const f of OFFER_FIELDS) out.push({ path: `offer.${f}`, kind: "offer" });
  out.push({ path: "event.name", kind: "event" }, { path: "event.properties", kind: "event" });
  out.push({ path: "payload", kind: "payload" });
  for (const f of LINK_FIELDS) out.push({ path: `links.${f}`, kind: "links" });
  out.push({ path: "message.id", kind: "message" });
  return out;
}

/** Liquid filters offered after `|`, each with what it is usually given. */
export const LIQUID_FILTERS: { name: string; args?: string }[] = [
  { name: "default", args: ': ""' },
  { name: "upcase" },
  { name: "downcase" },
  { name: "capitalize" },
  { name: "date", args: ': "%Y-%m-%d"' },
  { name: "truncate", args: ": 50" },
  { name: "truncatewords", args: ": 15" },
  { name: "round", args: ": 2" },
  { name: "plus", args: ": 1" },
  { name: "minus", args: ": 1" },
  { name: "times", args: ": 1" },
  { name: "divided_by", args: ": 1" },
  { name: "append", args: ': ""' },
  { name: "prepend", args: ': ""' },
  { name: "replace", args: ': "", ""' },
  { name: "strip" },
  { name: "escape" },
  { name: "url_encode" },
  { name: "size" },
  { name: "join", args: ': ", "' },
  { name: "first" },
  { name: "last" },
];

/** Liquid tags offered after `{%`. */
export const LIQUID_TAGS = [
  "if",
  "elsif",
  "else",
  "endif",
  "unless",
  "endunless",
  "case",
  "when",
  "endcase",
  "for",
  "endfor",
  "assign",
  "capture",
  "endcapture",
  "raw",
  "endraw",
  "comment",
  "endcomment",
] as const;
