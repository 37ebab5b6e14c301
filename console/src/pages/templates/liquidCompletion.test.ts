import { describe, expect, it } from "vitest";
import { CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { EditorState } from "@codemirror/state";
import { liquidCompletionSource, liquidSpot } from "./liquidCompletion";
import { templateVariables } from "./variables";

const variables = templateVariables(
  [
    { name: "tier", type: "string", label: "Loyalty tier" },
    { name: "email", type: "string" }, // a contact field already: not twice
    { name: "bad name", type: "string" }, // not a Liquid identifier: left out
  ],
  [{ name: "orders_90d", value_type: "number" }],
);
const source = liquidCompletionSource(() => variables, (kind) => `[${kind}]`);

/** The completion at `‸` in `doc`. */
function complete(doc: string): CompletionResult | null {
  const pos = doc.indexOf("‸");
  const text = doc.slice(0, pos) + doc.slice(pos + 1);
  const state = EditorState.create({ doc: text });
  return source(new CompletionContext(state, pos, false)) as CompletionResult | null;
}
const labels = (r: CompletionResult | null) => (r?.options ?? []).map((o) => o.label);
const apply = (r: CompletionResult | null, label: string) => r?.options.find((o) => o.label === label)?.apply;

describe("Liquid completion", () => {
  it("offers the names a template can use as soon as `{{ ` is typed", () => {
    const r = complete("Hi {{ ‸");
    expect(r?.from).toBe(6);
    const names = labels(r);
    for (const name of [
      "contact.first_name",
      "contact.email",
      "contact.tier",
      "computed.orders_90d",
      "offer.code",
      "offer.display",
      "event.name",
      "links.unsubscribe_url",
    ]) {
      expect(names).toContain(name);
    }
    expect(names.filter((n) => n === "contact.email")).toHaveLength(1);
    expect(names.some((n) => n.includes("bad name"))).toBe(false);
    // grouped, with the attribute's label and the trait's type beside the name
    const tier = r?.options.find((o) => o.label === "contact.tier");
    expect(tier?.detail).toBe("Loyalty tier · string");
    expect(tier?.section).toMatchObject({ name: "[attribute]" });
    expect(r?.options.find((o) => o.label === "computed.orders_90d")?.detail).toBe("number");
  });

  it("completes a partly typed path from its start, and closes an unclosed output", () => {
    const r = complete("Hi {{ contact.fi‸");
    expect(r?.from).toBe(6);
    expect(r?.validFor instanceof RegExp && r.validFor.test("contact.first_n")).toBe(true);
    expect(apply(r, "contact.first_name")).toBe("contact.first_name }}");
    // already closed: nothing added
    expect(apply(complete("Hi {{ contact.fi‸ }}!"), "contact.first_name")).toBe("contact.first_name");
    // closed right after the cursor (as closeBrackets leaves `{{` when typed): the space before `}}`
    expect(apply(complete("Hi {{ contact.fi‸}}!"), "contact.first_name")).toBe("contact.first_name ");
    // no space after the braces
    expect(complete("{{con‸")?.from).toBe(2);
  });

  it("offers filters after a pipe and variables as filter arguments", () => {
    const filters = complete("{{ contact.first_name | def‸");
    expect(labels(filters)).toContain("default");
    expect(apply(filters, "default")).toBe('default: ""');
    expect(filters?.from).toBe(24);
    expect(labels(complete("{{ contact.first_name | default: ‸"))).toContain("contact.last_name");
  });

  it("offers tags after `{%`, and names inside a tag", () => {
    expect(labels(complete("{% ‸"))).toEqual(expect.arrayContaining(["if", "for", "endif", "assign"]));
    expect(labels(complete("{%- unl‸"))).toContain("unless");
    const inIf = complete("{% if offer.‸");
    expect(labels(inIf)).toContain("offer.code");
    expect(apply(inIf, "offer.code")).toBe("offer.code"); // a tag is never closed with }}
  });

  it("stays quiet outside Liquid, after it is closed, and inside string literals", () => {
    expect(complete("Hello con‸")).toBeNull();
    expect(complete("{{ contact.first_name }} and ‸")).toBeNull();
    expect(complete('{{ contact.first_name | default: "fri‸')).toBeNull();
    expect(complete("{{ contact.first_name\"‸")).toBeNull();
  });

  it("reads where the cursor is", () => {
    expect(liquidSpot("{{ ", "")).toEqual({ at: "variable", word: "", closed: false });
    expect(liquidSpot("{{ offer.co", " }}")).toEqual({ at: "variable", word: "offer.co", closed: true });
    expect(liquidSpot("{{ x | up", "")).toEqual({ at: "filter", word: "up" });
    expect(liquidSpot("{% el", "")).toEqual({ at: "tag", word: "el" });
    expect(liquidSpot("{% comment %} {{ ", "")).toEqual({ at: "variable", word: "", closed: false });
  });
});
