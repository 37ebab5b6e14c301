import { useEffect, useMemo, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Empty, Modal, Segmented, Select, Spin, Tag, message as antMessage } from "antd";
import { ReloadOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import { api, unwrap } from "../../../api/client";
import { contactLabel } from "../../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../../auth/SessionProvider";
import { DateTime } from "../../../components/DateTime";
import { ErrorAlert, errorText } from "../../../components/ErrorAlert";
import { useI18n } from "../../../i18n";
import "../../../i18n/journeyPanels";
import { nodeOrder, nodeTypeLabel, nodeTypeOf, stateLabel, reasonLabel } from "./labels";
import { conversionRate, nodesElsewhere, statsOverlays, type EnrollmentState, type JourneyEnrollment, type JourneyStats } from "./model";
import { TRIGGER_NODE_ID, type JourneyPanelProps } from "./overlay";
import { enrollmentsKey, LIVE_REFRESH_MS, statsKey, useJourneyStats, useLatest, useNodeEnrollments, useOwnDefinition, useVersions } from "./queries";
import { sameValue } from "./diff";
import "./panels.css";


function useFormats() {
  const { lang } = useI18n();
  return useMemo(
    () => ({
      number: new Intl.NumberFormat(lang),
      percent: new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }),
      time: new Intl.DateTimeFormat(lang, { timeStyle: "medium" }),
    }),
    [lang],
  );
}

function Totals({ stats }: { stats: JourneyStats }) {
  const { t } = useI18n();
  const f = useFormats();
  const rate = conversionRate(stats.totals);
  const items = [
    { key: "entered", label: t("journeyPanels.live.entered"), value: f.number.format(stats.totals.entered) },
    { key: "active", label: t("journeyPanels.live.active"), value: f.number.format(stats.totals.active) },
    {
      key: "converted",
      label: t("journeyPanels.live.converted"),
      value: f.number.format(stats.totals.converted),
      extra: rate === null ? null : t("journeyPanels.live.rate", { rate: f.percent.format(rate) }),
    },
    { key: "exited", label: t("journeyPanels.live.exited"), value: f.number.format(stats.totals.exited) },
  ];
  return (
    <>
    <dl className="jp-totals" data-testid="live-totals">
      {items.map((item) => (
        <div key={item.key} className={`jp-total jp-total-${item.key}`}>
          <dt>{item.label}</dt>
          <dd>
            <span className="jp-total-value">{item.value}</span>
            {item.extra ? <span className="jp-total-extra">{item.extra}</span> : null}
          </dd>
        </div>
      ))}
    </dl>
    <p className="text-secondary jp-hint">{t("journeyPanels.live.completedLine", { n: f.number.format(stats.totals.completed) })}</p>
    </>
  );
}

function NodeTable({
  stats,
  definition,
  selected,
  onSelect,
}: {
  stats: JourneyStats;
  definition: JourneyPanelProps["definition"];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const { t } = useI18n();
  const f = useFormats();
  const order = nodeOrder(definition);
  const elsewhere = nodesElsewhere(stats, definition);
  const zero = { entered: 0, current: 0, passed: 0, converted: 0, exited: 0 };
  return (
    <>
      <div className="jp-scroll" tabIndex={0} role="region" aria-label={t("journeyPanels.live.byNode")}>
        <table className="jp-table" data-testid="live-nodes">
          <caption className="visually-hidden">{t("journeyPanels.live.byNodeCaption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("journeyPanels.live.node")}</th>
              <th scope="col" className="jp-num">{t("journeyPanels.live.enteredShort")}</th>
              <th scope="col" className="jp-num">{t("journeyPanels.live.currentShort")}</th>
              <th scope="col" className="jp-num">{t("journeyPanels.live.passedShort")}</th>
              <th scope="col" className="jp-num">{t("journeyPanels.live.convertedShort")}</th>
              <th scope="col" className="jp-num">{t("journeyPanels.live.exitedShort")}</th>
            </tr>
          </thead>
          <tbody>
            {order.map((id) => {
              const s = stats.nodes[id] ?? zero;
              return (
                <tr key={id} className={selected === id ? "jp-row-selected" : undefined} data-node={id}>
                  <th scope="row">
                    <Button
                      type="link"
                      size="small"
                      className="jp-node-button"
                      aria-pressed={selected === id}
                      onClick={() => onSelect(id)}
                    >
                      {id}
                    </Button>
                    <span className="jp-node-type">{nodeTypeLabel(t, nodeTypeOf(definition, id))}</span>
                  </th>
                  <td className="jp-num">{f.number.format(s.entered)}</td>
                  <td className="jp-num jp-current">{f.number.format(s.current)}</td>
                  <td className="jp-num">{f.number.format(s.passed)}</td>
                  <td className="jp-num">{f.number.format(s.converted)}</td>
                  <td className="jp-num">{f.number.format(s.exited)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="text-secondary jp-hint">{t("journeyPanels.live.legend")}</p>
      {elsewhere.length > 0 ? (
        <p className="text-secondary jp-hint" data-testid="live-elsewhere">
          {t("journeyPanels.live.elsewhere", {
            nodes: elsewhere.map(([id, s]) => t("journeyPanels.live.elsewhereNode", { node: id, current: f.number.format(s.current) })).join(", "),
          })}
        </p>
      ) : null}
    </>
  );
}

type StateFilter = EnrollmentState | "all";

function EnrollmentRow({
  enrollment,
  canEdit,
  onRemove,
  removing,
}: {
  enrollment: JourneyEnrollment;
  canEdit: boolean;
  onRemove: (e: JourneyEnrollment) => void;
  removing: boolean;
}) {
  const { t } = useI18n();
  const c = enrollment.contact;
  const name = c ? (contactLabel(c) ?? t("contacts.unnamed", { id: c.id })) : t("journeyPanels.live.erased", { id: enrollment.contact_id });
  const ids = c ? [c.email, c.external_id].filter((v) => v && v !== name).join(" · ") : "";
  return (
    <li className="jp-enrollment" data-testid="enrollment">
      <div className="jp-enrollment-head">
        {c ? <Link to={`/contacts/${c.id}`}>{name}</Link> : <span>{name}</span>}
        <Tag className={`jp-tag jp-tag-${enrollment.state}`}>{stateLabel(t, enrollment.state)}</Tag>
      </div>
      {ids ? <div className="text-secondary jp-small">{ids}</div> : null}
      <dl className="jp-facts">
        <div>
          <dt>{enrollment.state === "active" ? t("journeyPanels.live.since") : t("journeyPanels.live.endedAt")}</dt>
          <dd>
            <DateTime value={enrollment.state === "active" ? (enrollment.node_at ?? enrollment.updated_at) : enrollment.ended_at} />
          </dd>
        </div>
        {enrollment.state === "active" && enrollment.resume_at ? (
          <div>
            <dt>{t("journeyPanels.live.resumes")}</dt>
            <dd>
              <DateTime value={enrollment.resume_at} />
            </dd>
          </div>
        ) : null}
        {enrollment.state === "active" && enrollment.wait_event ? (
          <div>
            <dt>{t("journeyPanels.live.waitsFor")}</dt>
            <dd>{enrollment.wait_event}</dd>
          </div>
        ) : null}
        {enrollment.exit_reason ? (
          <div>
            <dt>{t("journeyPanels.live.reason")}</dt>
            <dd>{reasonLabel(t, enrollment.exit_reason)}</dd>
          </div>
        ) : null}
        <div>
          <dt>{t("journeyPanels.live.entered")}</dt>
          <dd>
            <DateTime value={enrollment.entered_at} />
          </dd>
        </div>
      </dl>
      {canEdit && enrollment.state === "active" ? (
        <Button size="small" danger onClick={() => onRemove(enrollment)} loading={removing}>
          {t("journeyPanels.live.remove")}
        </Button>
      ) : null}
    </li>
  );
}

/** The enrollments at the selected node (all of them for the trigger), with removal. */
function NodeEnrollments({ journeyId, node, live, journey }: { journeyId: number; node: string | null; live: boolean; journey: JourneyPanelProps["journey"] }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [filter, setFilter] = useState<StateFilter>("active");
  const query = useNodeEnrollments(journey, node, filter === "all" ? null : filter, live);
  const rows = query.data?.pages.flatMap((p) => p.data) ?? [];

  const remove = useMutation({
    mutationFn: (e: JourneyEnrollment) =>
      unwrap(
        api.DELETE("/api/v1/journeys/{journey_id}/enrollments/{enrollment_id}", {
          params: { path: { journey_id: journeyId, enrollment_id: e.id } },
        }),
      ),
    onSuccess: (_, e) => {
      void queryClient.invalidateQueries({ queryKey: enrollmentsKey(workspace, journeyId) });
      void queryClient.invalidateQueries({ queryKey: statsKey(workspace, journeyId) });
      const name = e.contact ? (contactLabel(e.contact) ?? t("contacts.unnamed", { id: e.contact_id })) : `#${e.contact_id}`;
      void message.success(t("journeyPanels.live.removed", { name }));
    },
    onError: (error) => void message.error(errorText(error, t)),
  });

  const confirm = (e: JourneyEnrollment) => {
    const name = e.contact ? (contactLabel(e.contact) ?? t("contacts.unnamed", { id: e.contact_id })) : `#${e.contact_id}`;
    void modal.confirm({
      title: t("journeyPanels.live.removeConfirm", { name }),
      content: t("journeyPanels.live.removeHint"),
      okText: t("journeyPanels.live.remove"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => remove.mutateAsync(e).catch(() => undefined),
    });
  };

  const title = node ? t("journeyPanels.live.atNode", { node }) : t("journeyPanels.live.allEnrollments");
  return (
    <section className="jp-section" aria-labelledby="jp-enrollments-title" data-testid="node-enrollments">
      {modalHolder}
      {messageHolder}
      <h3 id="jp-enrollments-title" className="jp-subtitle">
        {title}
      </h3>
      <div className="jp-field-inline">
        <label htmlFor="jp-enrollment-state">{t("journeyPanels.live.show")}</label>
        <Select
          id="jp-enrollment-state"
          size="small"
          value={filter}
          onChange={(v: StateFilter) => setFilter(v)}
          popupMatchSelectWidth={false}
          options={[
            { value: "active", label: node ? t("journeyPanels.live.filter.activeHere") : t("journeyPanels.live.filter.active") },
            { value: "converted", label: t("journeyPanels.state.converted") },
            { value: "exited", label: t("journeyPanels.state.exited") },
            { value: "completed", label: t("journeyPanels.state.completed") },
            { value: "all", label: t("journeyPanels.live.filter.all") },
          ]}
        />
      </div>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.isPending ? <Spin size="small" /> : null}
      {query.isSuccess && rows.length === 0 ? <p className="text-secondary">{t("journeyPanels.live.noEnrollments")}</p> : null}
      {rows.length > 0 ? (
        <ul className="jp-list" aria-label={title}>
          {rows.map((e) => (
            <EnrollmentRow
              key={e.id}
              enrollment={e}
              canEdit={canEdit}
              onRemove={confirm}
              removing={remove.isPending && remove.variables?.id === e.id}
            />
          ))}
        </ul>
      ) : null}
      {query.hasNextPage ? (
        <Button size="small" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
          {t("journeyPanels.live.more")}
        </Button>
      ) : null}
    </section>
  );
}

/**
 * The Live mode's panel: the journey's totals, each node's figures (also drawn on the canvas,
 * refreshed every few seconds while the journey is active), and the enrollments at the node
 * selected on the canvas.
 */
export function LiveStatsPanel({ journey, definition, selectedNodeId, onOverlays, onSelectNode, onShowDefinition }: JourneyPanelProps) {
  const { t } = useI18n();
  const f = useFormats();
  const [scope, setScope] = useState<"live" | "all">("live");
  const version = scope === "live" ? journey.version : null;
  const published = journey.version !== null && journey.version !== undefined;
  const stats = useJourneyStats(journey, version ?? null);
  const callbacks = useLatest({ onOverlays, onShowDefinition });

  // The figures are the live version's: when the draft differs from it, the canvas shows the
  // live version (read-only) rather than the draft.
  const versions = useVersions(journey, published);
  const liveVersion = versions.data?.data.find((v) => v.id === journey.version_id) ?? null;
  const [drawn, setDrawn] = useState<number | null>(null);
  const own = useOwnDefinition(definition, drawn !== null);
  const needsLive = liveVersion !== null && !sameValue(liveVersion.definition, own);
  const shownDefinition = needsLive && liveVersion ? liveVersion.definition : own;
  const drawnRef = useLatest(drawn);
  useEffect(() => {
    if (needsLive && liveVersion) {
      callbacks.current.onShowDefinition(liveVersion.definition, liveVersion.layout ?? null);
      setDrawn(liveVersion.id);
    } else if (drawnRef.current !== null) {
      callbacks.current.onShowDefinition(null);
      setDrawn(null);
    }
  }, [needsLive, liveVersion, callbacks, drawnRef]);
  useEffect(
    () => () => {
      callbacks.current.onOverlays({});
      if (drawnRef.current !== null) callbacks.current.onShowDefinition(null);
    },
    [callbacks, drawnRef],
  );

  useEffect(() => {
    if (stats.data) callbacks.current.onOverlays(statsOverlays(stats.data, shownDefinition));
  }, [stats.data, shownDefinition, callbacks]);

  const live = journey.status === "active";
  const updated = stats.dataUpdatedAt ? f.time.format(new Date(stats.dataUpdatedAt)) : null;
  const node = selectedNodeId === TRIGGER_NODE_ID ? null : selectedNodeId;

  return (
    <section className="journey-panel" aria-labelledby="jp-live-title" data-testid="live-panel">
      <div className="jp-head">
        <h2 id="jp-live-title" className="section-title">
          {t("journeyPanels.live.title")}
        </h2>
        {published ? (
          <Button
            size="small"
            icon={<ReloadOutlined />}
            onClick={() => void stats.refetch()}
            loading={stats.isFetching && !stats.isPending}
          >
            {t("journeyPanels.live.refresh")}
          </Button>
        ) : null}
      </div>
      {!published ? (
        <Empty description={t("journeyPanels.live.notPublished")} />
      ) : (
        <>
          <p className="text-secondary jp-small" aria-live="off">
            {live
              ? t("journeyPanels.live.auto", { seconds: LIVE_REFRESH_MS / 1000 })
              : journey.status === "paused"
                ? t("journeyPanels.live.stillPaused")
                : t("journeyPanels.live.stillArchived")}
            {updated ? ` ${t("journeyPanels.live.updated", { time: updated })}` : ""}
          </p>
          <Segmented
            size="small"
            value={scope}
            onChange={(v) => setScope(v as "live" | "all")}
            options={[
              { value: "live", label: t("journeyPanels.live.scopeLive", { version: journey.version ?? 0 }) },
              { value: "all", label: t("journeyPanels.live.scopeAll") },
            ]}
            aria-label={t("journeyPanels.live.scope")}
          />
          {needsLive ? (
            <p className="text-secondary jp-hint" data-testid="live-shows-version">
              {t("journeyPanels.live.showsLive", { version: journey.version ?? 0 })}
            </p>
          ) : null}
          {stats.isError ? <ErrorAlert error={stats.error} onRetry={() => void stats.refetch()} /> : null}
          {stats.isPending ? <Spin /> : null}
          {stats.data ? (
            <>
              <Totals stats={stats.data} />
              {scope === "all" ? <Alert type="info" showIcon className="jp-alert" title={t("journeyPanels.live.allHint")} /> : null}
              <h3 className="jp-subtitle">{t("journeyPanels.live.byNode")}</h3>
              <NodeTable stats={stats.data} definition={shownDefinition} selected={selectedNodeId} onSelect={(id) => onSelectNode(id)} />
            </>
          ) : null}
          {selectedNodeId ? (
            <NodeEnrollments journeyId={journey.id} node={node} live={live} journey={journey} />
          ) : (
            <p className="text-secondary jp-hint">{t("journeyPanels.live.pickNode")}</p>
          )}
        </>
      )}
    </section>
  );
}
