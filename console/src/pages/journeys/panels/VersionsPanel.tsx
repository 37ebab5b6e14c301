import { useEffect, useMemo, useState } from "react";
import { Button, Empty, Select, Spin, Tag } from "antd";
import { DiffOutlined, EyeOutlined, RollbackOutlined } from "@ant-design/icons";
import { DateTime } from "../../../components/DateTime";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { useI18n } from "../../../i18n";
import "../../../i18n/journeyPanels";
import { diffDefinitions, diffOverlays, isUnchanged, mergeForDiff, nodesOf, sameValue, type DefinitionDiff } from "./diff";
import { fieldLabel, nodeTypeLabel, sectionLabel } from "./labels";
import type { JourneyVersion } from "./model";
import type { Definition, JourneyPanelProps, Layout } from "./overlay";
import { useLatest, useOwnDefinition, useVersions } from "./queries";
import "./panels.css";

/** A side of a comparison: "draft" or a version number. */
type Side = "draft" | number;

type Shown = { kind: "version"; number: number } | { kind: "diff"; from: Side; to: Side } | null;

function DiffList({ diff, onSelectNode }: { diff: DefinitionDiff; onSelectNode: (id: string) => void }) {
  const { t } = useI18n();
  if (isUnchanged(diff)) return null;
  const fieldList = (fields: string[]) => fields.map((f) => fieldLabel(t, f)).join(t("journeyPanels.versions.listSeparator"));
  const nodeButton = (id: string) => (
    <Button type="link" size="small" className="jp-node-button" onClick={() => onSelectNode(id)}>
      {id}
    </Button>
  );
  return (
    <div className="jp-diff" data-testid="diff-list">
      <ul className="jp-list">
        {diff.sections.map((s) => (
          <li key={s.section} className="jp-diff-item jp-diff-changed">
            <Tag className="jp-tag jp-tag-changed">{t("journeyPanels.versions.changedTag")}</Tag>
            {sectionLabel(t, s.section)}
            {s.fields.length > 0 ? <span className="text-secondary"> · {fieldList(s.fields)}</span> : null}
          </li>
        ))}
        {diff.added.map((n) => (
          <li key={`a-${n.id}`} className="jp-diff-item jp-diff-added" data-testid="diff-added">
            <Tag className="jp-tag jp-tag-added">{t("journeyPanels.versions.addedTag")}</Tag>
            {nodeButton(n.id)} <span className="jp-node-type">{nodeTypeLabel(t, n.type)}</span>
          </li>
        ))}
        {diff.removed.map((n) => (
          <li key={`r-${n.id}`} className="jp-diff-item jp-diff-removed" data-testid="diff-removed">
            <Tag className="jp-tag jp-tag-removed">{t("journeyPanels.versions.removedTag")}</Tag>
            {nodeButton(n.id)} <span className="jp-node-type">{nodeTypeLabel(t, n.type)}</span>
          </li>
        ))}
        {diff.changed.map((n) => (
          <li key={`c-${n.id}`} className="jp-diff-item jp-diff-changed" data-testid="diff-changed">
            <Tag className="jp-tag jp-tag-changed">{t("journeyPanels.versions.changedTag")}</Tag>
            {nodeButton(n.id)} <span className="jp-node-type">{nodeTypeLabel(t, n.type)}</span>
            <div className="text-secondary jp-small">{t("journeyPanels.versions.fields", { fields: fieldList(n.fields) })}</div>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The Versions mode's panel: the published versions (number, when, by whom, which is live),
 * each viewable on the canvas, and a comparison of any two (or the draft) as a list and on
 * the canvas: both sides' nodes, added / removed / changed ones marked.
 */
export function VersionsPanel({ journey, definition, onOverlays, onSelectNode, onShowDefinition }: JourneyPanelProps) {
  const { t } = useI18n();
  const [shown, setShown] = useState<Shown>(null);
  // the draft, kept while a version or a comparison is on the canvas
  const draft = useOwnDefinition(definition, shown !== null);
  const versions = useVersions(journey);
  const list = useMemo(() => [...(versions.data?.data ?? [])].sort((a, b) => b.number - a.number), [versions.data]);
  const live = list.find((v) => v.id === journey.version_id) ?? null;
  const draftDiffers = live ? !sameValue(draft, live.definition) : true;
  const [from, setFrom] = useState<Side | null>(null);
  const [to, setTo] = useState<Side | null>(null);
  const callbacks = useLatest({ onOverlays, onShowDefinition });

  // Default comparison: the live version against the draft when they differ, else the two latest versions.
  const defaults = useMemo((): [Side | null, Side | null] => {
    if (live && draftDiffers) return [live.number, "draft"];
    if (list.length >= 2) return [list[1]!.number, list[0]!.number];
    if (live) return [live.number, "draft"];
    return [null, "draft"];
  }, [live, draftDiffers, list]);
  const fromSide = from ?? defaults[0];
  const toSide = to ?? defaults[1];

  const sideOf = (side: Side): { definition: Definition; layout: Layout | null } | null => {
    if (side === "draft") return { definition: draft, layout: journey.layout ?? null };
    const v = list.find((x) => x.number === side);
    return v ? { definition: v.definition, layout: v.layout ?? null } : null;
  };
  const sideName = (side: Side) =>
    side === "draft" ? t("journeyPanels.versions.draft") : t("journeyPanels.versions.versionN", { n: side });

  const a = fromSide !== null ? sideOf(fromSide) : null;
  const b = toSide !== null ? sideOf(toSide) : null;
  const diff = a && b ? diffDefinitions(a.definition, b.definition) : null;

  // Leaving the panel puts the journey back on the canvas.
  useEffect(
    () => () => {
      callbacks.current.onOverlays({});
      callbacks.current.onShowDefinition(null);
    },
    [callbacks],
  );

  const view = (v: JourneyVersion) => {
    setShown({ kind: "version", number: v.number });
    onOverlays({});
    onShowDefinition(v.definition, v.layout ?? null);
  };
  const names = (fields: string[]) => fields.map((f) => fieldLabel(t, f)).join(t("journeyPanels.versions.listSeparator"));
  const showDiff = () => {
    if (!a || !b || !diff || fromSide === null || toSide === null) return;
    const merged = mergeForDiff(a.definition, b.definition, a.layout, b.layout);
    setShown({ kind: "diff", from: fromSide, to: toSide });
    onShowDefinition(merged.definition, merged.layout);
    onOverlays(
      diffOverlays(diff, {
        added: t("journeyPanels.versions.noteAdded"),
        removed: t("journeyPanels.versions.noteRemoved"),
        changed: (fields) => t("journeyPanels.versions.noteChanged", { fields: names(fields) }),
        section: (section, fields) =>
          fields.length > 0
            ? t("journeyPanels.versions.noteSectionFields", { section: sectionLabel(t, section), fields: names(fields) })
            : t("journeyPanels.versions.noteSection", { section: sectionLabel(t, section) }),
      }),
    );
  };
  const back = () => {
    setShown(null);
    onOverlays({});
    onShowDefinition(null);
  };
  const compare = (x: Side, y: Side) => {
    setFrom(x);
    setTo(y);
  };

  const sides: { value: string; label: string }[] = [
    { value: "draft", label: t("journeyPanels.versions.draft") },
    ...list.map((v) => ({
      value: String(v.number),
      label: v.id === journey.version_id ? t("journeyPanels.versions.versionLive", { n: v.number }) : t("journeyPanels.versions.versionN", { n: v.number }),
    })),
  ];
  const parse = (value: string): Side => (value === "draft" ? "draft" : Number(value));
  const showingThisDiff = shown?.kind === "diff" && shown.from === fromSide && shown.to === toSide;

  return (
    <section className="journey-panel" aria-labelledby="jp-versions-title" data-testid="versions-panel">
      <h2 id="jp-versions-title" className="section-title">
        {t("journeyPanels.versions.title")}
      </h2>
      {shown ? (
        <div className="jp-showing" data-testid="versions-showing" role="status">
          <p>
            <strong>
              {shown.kind === "version"
                ? t("journeyPanels.versions.showingVersion", { n: shown.number })
                : t("journeyPanels.versions.showingDiff", { from: sideName(shown.from), to: sideName(shown.to) })}
            </strong>
          </p>
          {shown.kind === "diff" ? <p className="jp-small">{t("journeyPanels.versions.legend")}</p> : null}
          <Button size="small" icon={<RollbackOutlined />} onClick={back}>
            {t("journeyPanels.versions.back")}
          </Button>
        </div>
      ) : null}
      {versions.isError ? <ErrorAlert error={versions.error} onRetry={() => void versions.refetch()} /> : null}
      {versions.isPending ? <Spin /> : null}

      {versions.isSuccess ? (
        <>
          <h3 className="jp-subtitle">{t("journeyPanels.versions.compare")}</h3>
          <div className="jp-compare">
            <div className="jp-field">
              <label htmlFor="jp-compare-from">{t("journeyPanels.versions.from")}</label>
              <Select
                id="jp-compare-from"
                size="small"
                value={fromSide === null ? undefined : String(fromSide)}
                placeholder={t("journeyPanels.versions.pick")}
                onChange={(v: string) => setFrom(parse(v))}
                options={sides}
                popupMatchSelectWidth={false}
                style={{ minWidth: 140 }}
              />
            </div>
            <div className="jp-field">
              <label htmlFor="jp-compare-to">{t("journeyPanels.versions.to")}</label>
              <Select
                id="jp-compare-to"
                size="small"
                value={toSide === null ? undefined : String(toSide)}
                placeholder={t("journeyPanels.versions.pick")}
                onChange={(v: string) => setTo(parse(v))}
                options={sides}
                popupMatchSelectWidth={false}
                style={{ minWidth: 140 }}
              />
            </div>
          </div>
          {diff && fromSide !== null && toSide !== null ? (
            <>
              <p className="jp-small jp-comparing">
                <strong>{t("journeyPanels.versions.comparing", { from: sideName(fromSide), to: sideName(toSide) })}</strong>{" "}
                {isUnchanged(diff)
                  ? t("journeyPanels.versions.same")
                  : t("journeyPanels.versions.summary", { added: diff.added.length, removed: diff.removed.length, changed: diff.changed.length + diff.sections.length })}
              </p>
              <DiffList diff={diff} onSelectNode={(id) => onSelectNode(id)} />
              {!isUnchanged(diff) ? (
                <Button size="small" icon={<DiffOutlined />} onClick={showDiff} disabled={showingThisDiff}>
                  {t("journeyPanels.versions.showDiff")}
                </Button>
              ) : null}
            </>
          ) : (
            <p className="text-secondary jp-hint">{t("journeyPanels.versions.pickTwo")}</p>
          )}

          <h3 className="jp-subtitle">{t("journeyPanels.versions.published")}</h3>
          <ol className="jp-list jp-versions" data-testid="versions-list">
            <li className="jp-version" data-testid="version-draft">
              <div className="jp-version-head">
                <strong>{t("journeyPanels.versions.draft")}</strong>
                {live ? (
                  draftDiffers ? (
                    <Tag className="jp-tag jp-tag-unpublished">{t("journeyPanels.versions.unpublished")}</Tag>
                  ) : (
                    <Tag>{t("journeyPanels.versions.sameAsLive")}</Tag>
                  )
                ) : null}
              </div>
              <div className="text-secondary jp-small">
                {t("journeyPanels.versions.nodes", { n: Object.keys(nodesOf(draft)).length })}
              </div>
              {live && draftDiffers ? (
                <Button size="small" type="link" className="jp-inline-button" onClick={() => compare(live.number, "draft")}>
                  {t("journeyPanels.versions.compareWithLive")}
                </Button>
              ) : null}
            </li>
            {list.map((v, i) => {
              const previous = list[i + 1];
              const isLive = v.id === journey.version_id;
              return (
                <li key={v.id} className={isLive ? "jp-version jp-version-live" : "jp-version"} data-testid={`version-${v.number}`}>
                  <div className="jp-version-head">
                    <strong>{t("journeyPanels.versions.versionN", { n: v.number })}</strong>
                    {isLive ? <Tag className="jp-tag jp-tag-live">{t("journeyPanels.versions.live")}</Tag> : null}
                    {shown?.kind === "version" && shown.number === v.number ? <Tag className="jp-tag jp-tag-shown">{t("journeyPanels.versions.onCanvas")}</Tag> : null}
                  </div>
                  <div className="text-secondary jp-small">
                    {t("journeyPanels.versions.publishedAt")} <DateTime value={v.created_at} />
                    {v.published_by ? ` · ${t("journeyPanels.versions.by", { who: v.published_by })}` : ""}
                  </div>
                  <div className="text-secondary jp-small">{t("journeyPanels.versions.nodes", { n: Object.keys(nodesOf(v.definition)).length })}</div>
                  <div className="jp-version-actions">
                    <Button size="small" icon={<EyeOutlined />} onClick={() => view(v)} aria-label={t("journeyPanels.versions.viewN", { n: v.number })}>
                      {t("journeyPanels.versions.view")}
                    </Button>
                    {previous ? (
                      <Button size="small" type="link" className="jp-inline-button" onClick={() => compare(previous.number, v.number)}>
                        {t("journeyPanels.versions.compareWithPrevious", { n: previous.number })}
                      </Button>
                    ) : null}
                  </div>
                </li>
              );
            })}
          </ol>
          {list.length === 0 ? <Empty description={t("journeyPanels.versions.none")} /> : null}
        </>
      ) : null}
    </section>
  );
}
