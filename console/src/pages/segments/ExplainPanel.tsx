import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { Alert, Button, Spin, Tag } from "antd";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { contactLabel, type Segment } from "../../api/types";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import { useLabels } from "./builder/BuilderContext";
import { windowText } from "./builder/describe";
import { ContactPicker } from "./ContactPicker";
import { explainSentence, expectedText, type ExplainNode, type ExplainWords } from "./explainText";
import { useSegmentReference } from "./queries";

/** The words of the explanation sentences in the user's language. */
function useExplainWords(): ExplainWords {
  const i18n = useI18n();
  const labels = useLabels();
  const reference = useSegmentReference();
  const number = new Intl.NumberFormat(i18n.lang, { maximumFractionDigits: 4 });
  return {
    t: i18n.t,
    opKey: labels.opKey,
    unit: labels.unit,
    fn: labels.fn,
    channel: labels.channel,
    field: (name) => {
      const label = reference.data?.fields.find((f) => f.name === name)?.label;
      return label ? `${label} (${name})` : name;
    },
    window: (window) => windowText(window, i18n),
    number: (n) => number.format(n),
    instant: (iso) => i18n.formatDateTime(iso),
  };
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function Value({ value }: { value: unknown }) {
  const { t, lang } = useI18n();
  if (value === null || value === undefined) return <>{t("explain.nothing")}</>;
  if (typeof value === "boolean") return <>{value ? t("common.yes") : t("common.no")}</>;
  if (typeof value === "number") return <>{new Intl.NumberFormat(lang, { maximumFractionDigits: 4 }).format(value)}</>;
  if (typeof value === "string") return ISO_INSTANT.test(value) ? <DateTime value={value} /> : <>{value}</>;
  return <code>{JSON.stringify(value)}</code>;
}

function Verdict({ holds }: { holds: boolean }) {
  const { t } = useI18n();
  return holds ? (
    <span className="explain-verdict explain-yes">
      <span className="explain-mark" aria-hidden="true">✓</span>
      <span className="visually-hidden">{t("explain.holds")}</span>
    </span>
  ) : (
    <span className="explain-verdict explain-no">
      <span className="explain-mark" aria-hidden="true">✗</span>
      <span className="visually-hidden">{t("explain.fails")}</span>
    </span>
  );
}

function Deciding({ node, words }: { node: ExplainNode; words: ExplainWords }) {
  const { t } = useI18n();
  const has = (key: string) => key in node;
  const items: { key: string; label: string; value: ReactNode }[] = [];
  if (has("segment_name")) {
    const id = node.segment_id;
    items.push({
      key: "segment",
      label: t("explain.segment"),
      value:
        typeof id === "number" ? (
          <Link to={`/segments/${id}`}>{typeof node.segment_name === "string" ? node.segment_name : `#${id}`}</Link>
        ) : (
          <Value value={node.segment_name} />
        ),
    });
  }
  if (has("actual")) items.push({ key: "actual", label: t("explain.actual"), value: <Value value={node.actual} /> });
  if (has("expected")) {
    // the server's words are English: an operator's are said again in the user's language
    const expected = typeof node.operator === "string" ? expectedText(node.operator, node.value, words) : node.expected;
    items.push({ key: "expected", label: t("explain.expected"), value: <Value value={expected} /> });
  }
  if (has("window_start") || has("window_end")) {
    items.push({
      key: "window",
      label: t("explain.window"),
      value: (
        <>
          {node.window_start ? <DateTime value={String(node.window_start)} /> : t("explain.open")} →{" "}
          {node.window_end ? <DateTime value={String(node.window_end)} /> : t("explain.open")}
        </>
      ),
    });
  }
  if (items.length === 0) return null;
  return (
    <dl className="explain-values">
      {items.map((i) => (
        <div key={i.key}>
          <dt>{i.label}</dt>
          <dd>{i.value}</dd>
        </div>
      ))}
    </dl>
  );
}

function ExplainTree({ node, words }: { node: ExplainNode; words: ExplainWords }) {
  const labels = useLabels();
  const sentence = explainSentence(node, words);
  const children = Array.isArray(node.conditions)
    ? (node.conditions as ExplainNode[])
    : typeof node.condition === "object" && node.condition !== null
      ? [node.condition as ExplainNode]
      : [];
  return (
    <li className={`explain-node ${node.holds ? "holds" : "fails"}`}>
      <div className="explain-line">
        <Verdict holds={node.holds === true} />
        <strong className="explain-kind">{labels.kind(String(node.type ?? ""))}</strong>
        {sentence !== null ? (
          <span className="explain-text">{sentence}</span>
        ) : node.text ? (
          <span className="explain-text" lang="en">
            {node.text}
          </span>
        ) : null}
      </div>
      <Deciding node={node} words={words} />
      {children.length > 0 ? (
        <ul className="explain-children">
          {children.map((c, i) => (
            <ExplainTree key={String(c.path ?? i)} node={c} words={words} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

/** Why a contact is (or is not) in a segment: the tree with each condition's verdict and values. */
export function ExplainPanel({ segment }: { segment: Segment }) {
  const { t } = useI18n();
  const words = useExplainWords();
  const workspace = useWorkspaceKey();
  const [params, setParams] = useSearchParams();
  const contactParam = params.get("contact");
  const contactId = /^\d+$/.test(contactParam ?? "") ? Number(contactParam) : null;

  const choose = (id: number | null) => {
    const next = new URLSearchParams(params);
    next.set("tab", "explain");
    if (id === null) next.delete("contact");
    else next.set("contact", String(id));
    setParams(next, { replace: true });
  };

  const contact = useQuery({
    queryKey: ["contact", workspace, contactId ?? 0],
    queryFn: () => unwrap(api.GET("/api/v1/contacts/{contact_id}", { params: { path: { contact_id: contactId ?? 0 } } })),
    enabled: contactId !== null,
  });
  const explain = useQuery({
    queryKey: ["segment-explain", workspace, segment.id, segment.updated_at, contactId],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/segments/{segment_id}/explain/{contact_id}", {
          params: { path: { segment_id: segment.id, contact_id: contactId ?? 0 } },
        }),
      ),
    enabled: contactId !== null,
    staleTime: 0,
  });
  const result = explain.data;
  const name = contact.data ? (contactLabel(contact.data) ?? t("contacts.unnamed", { id: contact.data.id })) : null;

  return (
    <section aria-labelledby="explain-title" className="explain-panel">
      <h2 id="explain-title" className="section-title">
        {t("explain.title")}
      </h2>
      <ContactPicker
        id="explain-contact"
        label={t("explain.find")}
        action={(n) => t("explain.pick", { name: n })}
        onPick={(c) => choose(c.id)}
      />
      {contactId !== null ? (
        <div className="explain-result" aria-live="polite">
          <div className="explain-head">
            <h3 className="preview-subtitle">
              {t("explain.for")}{" "}
              <Link className="inline-link" to={`/contacts/${contactId}`}>{name ?? t("contacts.unnamed", { id: contactId })}</Link>
            </h3>
            <Button size="small" onClick={() => void explain.refetch()} loading={explain.isFetching}>
              {t("explain.again")}
            </Button>
          </div>
          {explain.isError ? (
            <ErrorAlert error={explain.error} onRetry={() => void explain.refetch()} />
          ) : !result ? (
            <Spin />
          ) : (
            <>
              <div className="explain-summary">
                <Tag color={result.matches ? "green" : "default"}>
                  {result.matches ? t("explain.matches") : t("explain.notMatches")}
                </Tag>
                <Tag color={result.member ? "green" : "default"}>
                  {result.member ? t("explain.member") : t("explain.notMember")}
                </Tag>
                <span className="text-secondary">
                  {t("explain.asOf")} <DateTime value={result.as_of} />
                </span>
              </div>
              {result.matches !== result.member ? (
                <Alert type="info" showIcon title={t("explain.catchingUp")} style={{ marginBottom: 12 }} />
              ) : null}
              <ul className="explain-tree" aria-label={t("explain.tree")}>
                <ExplainTree node={result.root as ExplainNode} words={words} />
              </ul>
            </>
          )}
        </div>
      ) : null}
    </section>
  );
}
