import { createContext, useContext, useId, type ReactNode } from "react";
import type { OperatorRef, SegmentReference, Topic } from "../../../api/types";
import { isMessageKey, useI18n } from "../../../i18n";
import { conditionKinds, enumOf, kindTitle } from "./schema";

/** What every part of the builder needs: the reference, and how it is being shown. */
export interface BuilderEnv {
  ref: SegmentReference;
  kinds: string[];
  units: string[];
  countOps: string[];
  functions: string[];
  expects: string[];
  readOnly: boolean;
  /** Server errors by condition path (`root.conditions[1]`). */
  errors: ReadonlyMap<string, string>;
  /** Condition paths still to be filled in. */
  incomplete: ReadonlySet<string>;
  topics: Topic[];
  /** The segment being edited (not offered as its own condition). */
  selfId: number | null;
}

const BuilderContext = createContext<BuilderEnv | null>(null);

export function builderEnv(
  ref: SegmentReference,
  rest: Pick<BuilderEnv, "readOnly" | "errors" | "incomplete" | "topics" | "selfId">,
): BuilderEnv {
  const schema = ref.definition_schema;
  return {
    ref,
    kinds: conditionKinds(schema),
    units: enumOf(schema, "Duration", "unit"),
    countOps: enumOf(schema, "CountComparator", "op"),
    functions: enumOf(schema, "AggregateCondition", "function"),
    expects: enumOf(schema, "SequenceCondition", "expect"),
    ...rest,
  };
}

export function BuilderProvider({ env, children }: { env: BuilderEnv; children: ReactNode }) {
  return <BuilderContext.Provider value={env}>{children}</BuilderContext.Provider>;
}

export function useBuilder(): BuilderEnv {
  const env = useContext(BuilderContext);
  if (!env) throw new Error("useBuilder outside BuilderProvider");
  return env;
}

const COUNT_OP_NAMES: Record<string, string> = { ">=": "gte", ">": "gt", "=": "eq", "!=": "neq", "<": "lt", "<=": "lte" };
export const COUNT_OP_SYMBOLS: Record<string, string> = { ">=": "≥", ">": ">", "=": "=", "!=": "≠", "<": "<", "<=": "≤" };

/** Words for what the reference names by key; the key (or the server's label) when there are none. */
export function useLabels() {
  const { t } = useI18n();
  const env = useContext(BuilderContext);
  const maybe = (key: string, fallback: string) => (isMessageKey(key) ? t(key) : fallback);
  return {
    kind: (kind: string) => maybe(`builder.kind.${kind}`, kindTitle(env?.ref.definition_schema, kind)),
    op: (op: Pick<OperatorRef, "key" | "label">) => maybe(`builder.op.${op.key}`, op.label),
    opKey: (key: string) => {
      const op = env?.ref.operators.find((o) => o.key === key);
      return maybe(`builder.op.${key}`, op?.label ?? key);
    },
    unit: (unit: string) => maybe(`builder.unit.${unit}`, unit),
    countOp: (op: string) => {
      const name = COUNT_OP_NAMES[op];
      const words = name ? maybe(`builder.count.${name}`, op) : op;
      return `${words} (${COUNT_OP_SYMBOLS[op] ?? op})`;
    },
    fn: (fn: string) => maybe(`builder.fn.${fn}`, fn),
    expect: (e: string) => maybe(`builder.expect.${e}`, e),
    channel: (c: string) => maybe(`builder.channel.${c}`, c),
    valueType: (type: string) => maybe(`builder.type.${type}`, type),
  };
}

/** A visually hidden label for the control rendered by `children(id)`. */
export function Labelled({ label, children }: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <>
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      {children(id)}
    </>
  );
}
