import type { Completion, CompletionContext, CompletionResult, CompletionSource } from "@codemirror/autocomplete";
import { LIQUID_FILTERS, LIQUID_TAGS, type LiquidVariable, type VariableKind } from "./variables";

/** Where the cursor is, Liquid-wise: in an output `{{ … }}` or a tag `{% … %}`, and what is typed there. */
export type LiquidSpot =
  | { at: "variable"; word: string; closed: boolean }
  | { at: "filter"; word: string }
  | { at: "tag"; word: string };

/**
 * `before`: the text before the cursor; `after`: the text after it on the same line. Null
 * outside Liquid markup and inside a string literal.
 */
export function liquidSpot(before: string, after: string): LiquidSpot | null {
  const output = before.lastIndexOf("{{");
  const tag = before.lastIndexOf("{%");
  const open = Math.max(output, tag);
  if (open < 0) return null;
  let inner = before.slice(open + 2);
  if (inner.includes("}}") || inner.includes("%}")) return null; // closed before the cursor
  if (inner.startsWith("-")) inner = inner.slice(1); // whitespace control: {{- and {%-
  // inside a string literal ("…" or '…'): nothing to complete
  if ((inner.match(/"/g) ?? []).length % 2 === 1 || (inner.match(/'/g) ?? []).length % 2 === 1) return null;
  const isTag = open === tag;
  if (isTag) {
    const name = /^\s*(\w*)$/.exec(inner);
    if (name) return { at: "tag", word: name[1] ?? "" };
    if (/^\s*(raw|comment)\b/.test(inner)) return null;
  }
  const filter = /\|\s*(\w*)$/.exec(inner);
  if (filter) return { at: "filter", word: filter[1] ?? "" };
  const word = /[\w.]*$/.exec(inner)?.[0] ?? "";
  const prefix = inner.slice(0, inner.length - word.length);
  // a name follows the opening, a space, an operator or a filter's colon — not e.g. a quote
  if (prefix !== "" && !/[\s,:=(<>!]$/.test(prefix)) return null;
  const closed = isTag || after.includes("}}");
  return { at: "variable", word, closed };
}

const ORDER: VariableKind[] = ["contact", "attribute", "computed", "offer", "event", "payload", "links", "message"];

/**
 * Completion of Liquid markup in a template: typing `{{ ` offers the contact's fields and
 * attributes, computed traits, the offer, the event, the payload and the links; `|` offers
 * filters; `{% ` offers tags. A name picked in an unclosed `{{ ` closes it.
 */
export function liquidCompletionSource(
  variables: () => LiquidVariable[],
  section: (kind: VariableKind | "filter" | "tag") => string,
): CompletionSource {
  return (context: CompletionContext): CompletionResult | null => {
    const line = context.state.doc.lineAt(context.pos);
    const from = Math.max(0, context.pos - 2000);
    const before = context.state.sliceDoc(from, context.pos);
    const after = context.state.sliceDoc(context.pos, line.to);
    const spot = liquidSpot(before, after);
    if (!spot) return null;
    const start = context.pos - spot.word.length;
    if (spot.at === "tag") {
      return {
        from: start,
        options: LIQUID_TAGS.map((name) => ({ label: name, type: "keyword", section: section("tag") })),
        validFor: /^\w*$/,
      };
    }
    if (spot.at === "filter") {
      return {
        from: start,
        options: LIQUID_FILTERS.map((f) => ({
          label: f.name,
          type: "function",
          detail: f.args?.trim(),
          apply: f.name + (f.args ?? ""),
          section: section("filter"),
        })),
        validFor: /^\w*$/,
      };
    }
    // an unclosed `{{ ` is closed; `}}` right after the cursor (typed, or added by closeBrackets) gets its space
    const closing = !spot.closed ? " }}" : /^-?}}/.test(after) ? " " : "";
    // (listed in the order given: the contact's first name first, not alphabetically)
    const options: Completion[] = variables().map((v, i) => ({
      label: v.path,
      type: v.kind === "computed" || v.kind === "attribute" ? "property" : "variable",
      detail: v.detail,
      apply: v.path + closing,
      section: { name: section(v.kind), rank: ORDER.indexOf(v.kind) },
      boost: Math.max(-99, -i),
    }));
    return { from: start, options, validFor: /^[\w.]*$/ };
  };
}
