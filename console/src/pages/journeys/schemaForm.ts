// Reading the definition's JSON Schema (GET /journeys/schema): pure helpers, no React.
export type JsonSchema = Record<string, unknown>;

function isObject(v: unknown): v is JsonSchema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function defsOf(schema: unknown): Record<string, JsonSchema> {
  return isObject(schema) && isObject(schema.$defs) ? (schema.$defs as Record<string, JsonSchema>) : {};
}

export function refName(ref: unknown): string | null {
  return typeof ref === "string" && ref.startsWith("#/$defs/") ? ref.slice("#/$defs/".length) : null;
}

/** The $def of a node kind (`send` → `SendNode`), from the nodes' discriminator. */
export function nodeDefName(schema: unknown, kind: string): string | null {
  const props = isObject(schema) && isObject(schema.properties) ? schema.properties : {};
  const nodes = (props as JsonSchema).nodes;
  const add = isObject(nodes) && isObject(nodes.additionalProperties) ? nodes.additionalProperties : null;
  const mapping = add && isObject(add.discriminator) && isObject(add.discriminator.mapping) ? add.discriminator.mapping : {};
  return refName((mapping as Record<string, unknown>)[kind]);
}

/** The $def of a trigger kind (`tag_added` → `TagTrigger`). */
export function triggerDefName(schema: unknown, kind: string): string | null {
  const props = isObject(schema) && isObject(schema.properties) ? schema.properties : {};
  const trigger = (props as JsonSchema).trigger;
  const mapping = isObject(trigger) && isObject(trigger.discriminator) && isObject(trigger.discriminator.mapping) ? trigger.discriminator.mapping : {};
  return refName((mapping as Record<string, unknown>)[kind]);
}

/** The kinds a discriminated union offers (`nodes` or `trigger`), in the schema's order. */
export function kindsOf(schema: unknown, where: "nodes" | "trigger"): string[] {
  const props = isObject(schema) && isObject(schema.properties) ? schema.properties : {};
  const at = (props as JsonSchema)[where];
  const holder = where === "nodes" ? (isObject(at) ? at.additionalProperties : null) : at;
  const mapping = isObject(holder) && isObject(holder.discriminator) && isObject(holder.discriminator.mapping) ? holder.discriminator.mapping : {};
  return Object.keys(mapping as Record<string, unknown>);
}

export interface FieldSchema {
  name: string;
  /** The property's schema with `anyOf: [X, null]` unwrapped. */
  schema: JsonSchema;
  /** Null is allowed (the field may be left empty). */
  nullable: boolean;
  required: boolean;
  title: string;
  description: string | null;
}

/** The fields of a $def, in the schema's order. */
export function fieldsOf(schema: unknown, defName: string): FieldSchema[] {
  const def = defsOf(schema)[defName];
  if (!def || !isObject(def.properties)) return [];
  const required = Array.isArray(def.required) ? (def.required as string[]) : [];
  return Object.entries(def.properties as Record<string, JsonSchema>).map(([name, raw]) => {
    let s: JsonSchema = raw;
    let nullable = false;
    if (Array.isArray(raw.anyOf)) {
      const parts = (raw.anyOf as JsonSchema[]).filter((p) => p.type !== "null");
      nullable = parts.length < (raw.anyOf as unknown[]).length;
      s = parts.length === 1 ? { ...raw, ...parts[0], anyOf: undefined } : { ...raw, anyOf: parts };
    }
    return {
      name,
      schema: s,
      nullable,
      required: required.includes(name),
      title: typeof raw.title === "string" ? raw.title : name,
      description: typeof raw.description === "string" ? raw.description : null,
    };
  });
}

/** The kind of input a field takes. */
export type FieldKind = "enum" | "string" | "time" | "integer" | "number" | "boolean" | "strings" | "object" | "ref" | "json";

export function fieldKind(f: FieldSchema): FieldKind {
  const s = f.schema;
  if (Array.isArray(s.enum)) return "enum";
  if (refName(s.$ref)) return "ref";
  if (Array.isArray(s.anyOf)) return "json";
  switch (s.type) {
    case "string":
      return s.format === "time" ? "time" : "string";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array":
      return isObject(s.items) && (s.items as JsonSchema).type === "string" ? "strings" : "json";
    case "object":
      return "object";
    default:
      return "json";
  }
}

export function limits(s: JsonSchema): { min?: number; max?: number } {
  const min = typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum : undefined;
  const max = typeof s.maximum === "number" ? s.maximum : undefined;
  return { min, max };
}

/** Problems a definition has before it is sent: required fields left empty, per node. */
export function missingRequired(schema: unknown, defName: string | null, value: Record<string, unknown>): string[] {
  if (!defName) return [];
  return fieldsOf(schema, defName)
    .filter((f) => f.required && f.name !== "type")
    .filter((f) => {
      const v = value[f.name];
      return v === undefined || v === null || (typeof v === "string" && v.trim() === "") || (Array.isArray(v) && v.length === 0 && f.schema.minItems !== undefined);
    })
    .map((f) => f.name);
}
