// Reads the JSON Schema of a segment definition (`definition_schema` of the reference): the
// condition kinds and the enums of their fields, so a kind or a unit added to the backend
// shows up in the builder. Falls back to what docs/segments.md lists when a part is missing.
type JsonObject = Record<string, unknown>;

const FALLBACK_KINDS = [
  "all",
  "any",
  "not",
  "attribute",
  "tag",
  "performed",
  "not_performed",
  "aggregate",
  "first_performed",
  "last_performed",
  "sequence",
  "segment",
  "score",
  "subscription",
  "random_bucket",
];

const FALLBACK_ENUMS: Record<string, string[]> = {
  "Duration.unit": ["seconds", "minutes", "hours", "days", "weeks", "months", "years"],
  "CountComparator.op": [">=", ">", "=", "!=", "<", "<="],
  "AggregateCondition.function": ["sum", "avg", "min", "max"],
  "SequenceCondition.expect": ["absent", "present"],
};

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function defs(schema: unknown): JsonObject {
  return isObject(schema) && isObject(schema.$defs) ? schema.$defs : {};
}

function refName(ref: unknown): string | null {
  return typeof ref === "string" && ref.startsWith("#/$defs/") ? ref.slice("#/$defs/".length) : null;
}

/** The `type` constant of a condition's schema (`{"const": "performed"}`). */
function kindOf(def: unknown): string | null {
  if (!isObject(def) || !isObject(def.properties) || !isObject(def.properties.type)) return null;
  const c = def.properties.type.const;
  return typeof c === "string" ? c : null;
}

/** Every condition kind, in the schema's order. */
export function conditionKinds(schema: unknown): string[] {
  const root = isObject(schema) && isObject(schema.properties) ? schema.properties.root : null;
  const oneOf = isObject(root) && Array.isArray(root.oneOf) ? root.oneOf : [];
  const all = defs(schema);
  const kinds = oneOf
    .map((entry) => (isObject(entry) ? refName(entry.$ref) : null))
    .map((name) => (name ? kindOf(all[name]) : null))
    .filter((k): k is string => k !== null);
  return kinds.length > 0 ? kinds : FALLBACK_KINDS;
}

/** The enum of `property` in the schema definition `defName` (e.g. "Duration", "unit"). */
export function enumOf(schema: unknown, defName: string, property: string): string[] {
  const def = defs(schema)[defName];
  const prop = isObject(def) && isObject(def.properties) ? def.properties[property] : null;
  if (isObject(prop) && Array.isArray(prop.enum) && prop.enum.every((v) => typeof v === "string")) {
    return prop.enum as string[];
  }
  return FALLBACK_ENUMS[`${defName}.${property}`] ?? [];
}

/** The schema's own title of a kind, for a kind the console has no words for. */
export function kindTitle(schema: unknown, kind: string): string {
  for (const def of Object.values(defs(schema))) {
    if (kindOf(def) === kind && isObject(def) && typeof def.title === "string") return def.title;
  }
  return kind;
}
