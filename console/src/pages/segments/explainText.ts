import type { MessageKey, Params } from "../../i18n";
import type { Window } from "./builder/model";

/** An explanation node: the definition's node plus `holds` and the deciding values. */
export type ExplainNode = Record<string, unknown> & { type?: string; holds?: boolean; text?: string; path?: string };

/** What the sentences need: words for keys, labels from the reference, number and date formats. */
export interface ExplainWords {
  t: (key: MessageKey, params?: Params) => string;
  opKey: (key: string) => string;
  unit: (unit: string) => string;
  fn: (fn: string) => string;
  channel: (channel: string) => string;
  field: (name: string) => string;
  window: (window: Window | undefined) => string;
  number: (n: number) => string;
  instant: (iso: string) => string;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function said(value: unknown, w: ExplainWords): string {
  if (value === null || value === undefined) return w.t("explainText.notSet");
  if (typeof value === "number") return w.number(value);
  if (typeof value === "boolean") return w.t(value ? "common.yes" : "common.no");
  if (typeof value === "string") return ISO_INSTANT.test(value) ? w.instant(value) : `“${value}”`;
  if (Array.isArray(value)) return value.map((v) => said(v, w)).join(", ");
  if (typeof value === "object" && "amount" in value && "unit" in value) {
    const d = value as { amount: unknown; unit: unknown };
    return `${said(d.amount, w)} ${w.unit(String(d.unit))}`;
  }
  return JSON.stringify(value);
}

/** "is at least 3", "is between 1 and 2 days ago": the operator's label with its values. */
export function expectedText(operator: unknown, value: unknown, w: ExplainWords): string {
  let label = w.opKey(String(operator ?? ""));
  if (value === undefined) return label;
  if (label.includes("…")) {
    const parts = Array.isArray(value) ? value : [value];
    for (const part of parts) label = label.replace("…", said(part, w));
    return label;
  }
  return `${label} ${said(value, w)}`;
}

function eventName(name: unknown, w: ExplainWords): string {
  return typeof name === "string" ? `“${name}”` : w.t("explainText.anyEvent");
}

/**
 * The explanation of one node in the user's language, from its structured values (the
 * server's `text` is English only). Null for a kind it does not know (the caller then shows
 * the server's text).
 */
export function explainSentence(node: ExplainNode, w: ExplainWords): string | null {
  const { t } = w;
  const holds = node.holds === true;
  const window = node.window as Window | undefined;
  const windowWords = () => w.window(window);
  switch (node.type) {
    case "all":
    case "any": {
      const children = Array.isArray(node.conditions) ? (node.conditions as ExplainNode[]) : [];
      return t("explainText.group", {
        met: children.filter((c) => c.holds === true).length,
        total: children.length,
        need: t(node.type === "all" ? "explainText.needAll" : "explainText.needAny"),
      });
    }
    case "not":
      return t(holds ? "explainText.notPasses" : "explainText.notFails");
    case "tag": {
      const present = node.present !== false;
      const has = holds === present;
      return t(has ? "explainText.tagHas" : "explainText.tagHasNot", { tag: String(node.tag ?? "") });
    }
    case "segment": {
      const name = typeof node.segment_name === "string" ? node.segment_name : `#${String(node.segment_id)}`;
      return t(node.actual === true ? "explainText.segmentIn" : "explainText.segmentOut", { name });
    }
    case "subscription": {
      const where = [
        typeof node.channel === "string" ? w.channel(node.channel) : null,
        typeof node.topic === "string" ? t("explainText.topic", { topic: node.topic }) : null,
      ]
        .filter(Boolean)
        .join(" / ");
      return t(node.actual === true ? "explainText.mayReceive" : "explainText.mayNotReceive", { where });
    }
    case "random_bucket":
      return t("explainText.bucket", {
        position: w.number(Number(node.actual ?? 0)),
        percent: w.number(Number(node.percent ?? 0)),
      });
    case "sequence": {
      const first = (node.first as { event?: unknown } | undefined)?.event;
      return t("explainText.sequence", { event: eventName(first, w), window: windowWords() });
    }
    case "performed":
    case "not_performed":
      return t("explainText.performed", {
        actual: w.number(Number(node.actual ?? 0)),
        expected: String(node.expected ?? ""),
        event: eventName(node.event, w),
        window: windowWords(),
      });
    case "aggregate":
      return t("explainText.aggregate", {
        fn: w.fn(String(node.function ?? "")),
        property: String(node.property ?? ""),
        event: eventName(node.event, w),
        window: windowWords(),
        actual: node.actual === null || node.actual === undefined ? t("explainText.none") : said(node.actual, w),
        expected: expectedText(node.operator, node.value, w),
      });
    case "first_performed":
    case "last_performed":
      return t(node.type === "first_performed" ? "explainText.firstDid" : "explainText.lastDid", {
        event: eventName(node.event, w),
        when: typeof node.actual === "string" ? w.instant(node.actual) : t("explainText.never"),
        expected: expectedText(node.operator, node.value, w),
      });
    case "predicted": {
      // probabilities (0–1 in the definition) are read as percents, as the builder edits them
      const pct = (v: unknown) => (typeof v === "number" ? `${w.number(Math.round(v * 1000) / 10)}%` : said(v, w));
      const values = Array.isArray(node.value) ? node.value : [node.value];
      let expected = w.opKey(String(node.operator ?? ""));
      if (expected.includes("…")) for (const v of values) expected = expected.replace("…", pct(v));
      else expected = `${expected} ${values.map(pct).join(", ")}`;
      const model = String(node.model ?? "");
      if (typeof node.actual !== "number") return t("explainText.predictedNone", { model, expected });
      return t("explainText.predicted", { model, actual: pct(node.actual), expected });
    }
    case "attribute":
      if (node.actual === null || node.actual === undefined) {
        return t("explainText.attributeNotSet", {
          field: w.field(String(node.attribute ?? "")),
          expected: expectedText(node.operator, node.value, w),
        });
      }
      return t("explainText.attribute", {
        field: w.field(String(node.attribute ?? "")),
        actual: said(node.actual, w),
        expected: expectedText(node.operator, node.value, w),
      });
    default:
      return null;
  }
}
