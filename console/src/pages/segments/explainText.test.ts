import { describe, expect, it } from "vitest";
import { translate, type Language } from "../../i18n/catalogs";
import "../../i18n/audiences";
import { windowText } from "./builder/describe";
import { explainSentence, type ExplainWords } from "./explainText";

const OPS: Record<string, Record<Language, string>> = {
  gte: { en: "is at least", "zh-CN": "大于等于" },
  between_ago: { en: "is between … and … ago", "zh-CN": "距今介于…和…之间" },
};

function words(lang: Language): ExplainWords {
  const t = (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) => translate(lang, key, params);
  return {
    t,
    opKey: (key) => OPS[key]?.[lang] ?? key,
    unit: (unit) => translate(lang, `builder.unit.${unit}` as Parameters<typeof translate>[1]),
    fn: (fn) => translate(lang, `builder.fn.${fn}` as Parameters<typeof translate>[1]),
    channel: (c) => translate(lang, `builder.channel.${c}` as Parameters<typeof translate>[1]),
    field: (name) => name,
    window: (w) => windowText(w, { t, formatDateTime: (iso) => iso ?? "" }),
    number: (n) => new Intl.NumberFormat(lang).format(n),
    instant: (iso) => iso.slice(0, 10),
  };
}

const performed = {
  type: "performed",
  holds: false,
  event: "Product Viewed",
  count: { op: ">=", value: 3 },
  window: { last: { amount: 7, unit: "days" } },
  actual: 2,
  expected: "≥ 3",
};

describe("explanations in the user's language", () => {
  it("says what a contact did against what was needed, with the event and window", () => {
    expect(explainSentence(performed, words("en"))).toBe("2 of ≥ 3 “Product Viewed”, last 7 days");
    expect(explainSentence(performed, words("zh-CN"))).toBe("过去 7 天：“Product Viewed” 2 次（需要 ≥ 3）");
  });

  it("counts a group's conditions that hold, and names segments rather than ids", () => {
    const group = { type: "all", holds: false, conditions: [performed, { ...performed, holds: true }] };
    expect(explainSentence(group, words("zh-CN"))).toBe("2 个条件中满足 1 个（需全部满足）");
    const seg = { type: "segment", segment_id: 4, segment_name: "VIP", member: true, actual: false, holds: false };
    expect(explainSentence(seg, words("en"))).toBe("is not a member of “VIP” (its stored members, now)");
  });

  it("puts an operator's values where its label leaves room for them", () => {
    const attribute = {
      type: "attribute",
      attribute: "traits.signed_up_at",
      operator: "between_ago",
      value: [
        { amount: 1, unit: "days" },
        { amount: 2, unit: "weeks" },
      ],
      actual: null,
      holds: false,
    };
    expect(explainSentence(attribute, words("en"))).toBe(
      "traits.signed_up_at is not set (needed: is between 1 days and 2 weeks ago)",
    );
    expect(explainSentence(attribute, words("zh-CN"))).toBe(
      "traits.signed_up_at 未设置（需要 距今介于1 天和2 周之间）",
    );
  });

  it("leaves a kind it does not know to the server's text", () => {
    expect(explainSentence({ type: "future_kind", text: "x" }, words("en"))).toBeNull();
  });
});
