import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type DragEvent } from "react";
import { Alert, Button, Input, message as antMessage, Modal, Segmented, Select, Spin, Tag, Tooltip } from "antd";
import {
  ApartmentOutlined,
  ArrowLeftOutlined,
  CopyOutlined,
  DeleteOutlined,
  RedoOutlined,
  SaveOutlined,
  SnippetsOutlined,
  UndoOutlined,
} from "@ant-design/icons";
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { Link, useLocation, useNavigate, useParams, useSearchParams } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import type { SegmentReference, Topic } from "../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { useSegmentReference, useTopics } from "../segments/queries";
import { JourneyCanvas, PALETTE_MIME } from "./Canvas";
import { kindLabel } from "./describe";
import {
  addNode,
  autoLayout,
  completePositions,
  connect,
  copyNodes,
  definitionEquals,
  emptyDefinition,
  errorTarget,
  layoutFrom,
  NODE_GROUPS,
  nodesOf,
  pasteNodes,
  positionsFrom,
  reachableFrom,
  removeEdges,
  removeNodes,
  renameNode,
  startOf,
  TRIGGER_NODE_ID,
  type Clipboard,
  type ErrorTarget,
  type Position,
  type Positions,
} from "./graph";
import { historyReducer, startHistory, type Snapshot } from "./history";
import { Inspector } from "./Inspector";
import { KIND_ICONS, NamesContext } from "./NodeView";
import { LiveStatsPanel, SimulationPanel, VersionsPanel } from "./panels";
import type { Definition, Journey, JourneyPanelProps, Layout, Overlays } from "./panels/overlay";
import { journeyKey, journeysKey, useCampaignList, useJourney, useJourneySchema, useTemplateList } from "./queries";
import { missingRequired, nodeDefName, triggerDefName, type JsonSchema } from "./schemaForm";
import { StatusTag } from "./StatusTag";
import "../../i18n/audiences";
import "../../i18n/journeys";
import "./journeys.css";

type Mode = "edit" | "live" | "simulate" | "versions";
const MODES: Mode[] = ["edit", "live", "simulate", "versions"];

/** `/journeys/:id` and `/journeys/new`: the visual editor. */
export default function JourneyPage() {
  const { id } = useParams();
  const journeyId = id === undefined ? null : Number(id);
  const { t } = useI18n();
  const query = useJourney(journeyId !== null && Number.isFinite(journeyId) ? journeyId : null);
  const schema = useJourneySchema();
  const reference = useSegmentReference();
  const topics = useTopics();
  const failed = query.error ?? schema.error ?? reference.error;
  if (failed) {
    return (
      <>
        <Link to="/journeys" className="back-link">
          <ArrowLeftOutlined /> {t("journeys.back")}
        </Link>
        <PageTitle title={t("journeys.title")}>{t("journeys.title")}</PageTitle>
        <ErrorAlert error={failed} onRetry={() => void Promise.all([query.refetch(), schema.refetch(), reference.refetch()])} />
      </>
    );
  }
  if ((journeyId !== null && !query.data) || !schema.data || !reference.data) return <Spin className="page-spin" />;
  return (
    <ReactFlowProvider>
      <Editor
        key={query.data?.id ?? "new"}
        journey={query.data ?? null}
        schema={schema.data as JsonSchema}
        reference={reference.data}
        topics={topics.data?.data ?? []}
      />
    </ReactFlowProvider>
  );
}

function initialSnapshot(journey: Journey | null): Snapshot {
  const definition = (journey?.draft as Definition | null) ?? emptyDefinition();
  return { definition, positions: completePositions(definition, positionsFrom(journey?.layout)) };
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) || !!el.closest(".ant-select, .ant-picker, .cm-editor, [role=dialog]");
}

/** Local problems before the server sees the definition: no start, unreachable, required fields. */
function localProblems(definition: Definition, schema: JsonSchema, t: ReturnType<typeof useI18n>["t"]): Map<string, string> {
  const out = new Map<string, string>();
  const nodes = nodesOf(definition);
  const reachable = reachableFrom(definition);
  if (!startOf(definition) || !(String(definition.start) in nodes)) out.set(TRIGGER_NODE_ID, t("journeys.problem.noStart"));
  const trigger = (definition.trigger ?? {}) as Record<string, unknown>;
  const missingTrigger = missingRequired(schema, triggerDefName(schema, String(trigger.type ?? "")), trigger);
  if (missingTrigger.length && !out.has(TRIGGER_NODE_ID)) out.set(TRIGGER_NODE_ID, t("journeys.problem.missing", { fields: missingTrigger.join(", ") }));
  for (const [id, node] of Object.entries(nodes)) {
    const missing = missingRequired(schema, nodeDefName(schema, node.type), node);
    if (missing.length) out.set(id, t("journeys.problem.missing", { fields: missing.join(", ") }));
    else if (!reachable.has(id)) out.set(id, t("journeys.unreachable"));
  }
  return out;
}

function Editor({ journey, schema, reference, topics }: { journey: Journey | null; schema: JsonSchema; reference: SegmentReference; topics: Topic[] }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const workspace = useWorkspaceKey();
  const flow = useReactFlow();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  // "Draft saved." for a journey just created: its page is another route, mounted after the save
  const justSaved = (location.state as { saved?: boolean } | null)?.saved === true;
  useEffect(() => {
    if (!justSaved) return;
    void message.success(t("journeys.saved"));
    navigate(location.pathname + location.search, { replace: true, state: null });
  }, [justSaved, message, t, navigate, location.pathname, location.search]);

  const [history, dispatch] = useReducer(historyReducer, journey, (j) => startHistory(initialSnapshot(j)));
  const { definition, positions } = history.present;
  const [name, setName] = useState(journey?.name ?? "");
  const [campaignId, setCampaignId] = useState<number | null>(journey?.campaign_id ?? null);
  const saved = useRef<{ snapshot: Snapshot; name: string; campaignId: number | null }>({
    snapshot: history.present,
    name: journey?.name ?? "",
    campaignId: journey?.campaign_id ?? null,
  });
  const campaigns = useCampaignList();
  const [selectedNodes, setSelectedNodes] = useState<ReadonlySet<string>>(() => new Set());
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(() => new Set());
  const [overlays, setOverlays] = useState<Overlays>({});
  const [shown, setShown] = useState<{ definition: Definition; positions: Positions } | null>(null);
  const [serverError, setServerError] = useState<{ message: string; target: ErrorTarget } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const clipboard = useRef<Clipboard | null>(null);

  const modeParam = params.get("mode") as Mode | null;
  const mode: Mode = journey && modeParam && MODES.includes(modeParam) ? modeParam : "edit";
  const readOnly = !canEdit || mode !== "edit" || journey?.status === "archived";
  const dirty =
    !definitionEquals(saved.current.snapshot.definition, definition) ||
    !definitionEquals(layoutFrom(saved.current.snapshot.definition, saved.current.snapshot.positions), layoutFrom(definition, positions)) ||
    name !== saved.current.name ||
    campaignId !== saved.current.campaignId;

  const templates = useTemplateList();
  const names = useMemo(
    () => ({
      templates: new Map((templates.data?.data ?? []).map((tpl) => [tpl.id, { name: tpl.name, channel: tpl.channel }])),
      segments: new Map(reference.segments.map((s) => [s.id, s.name])),
      topics: new Map(topics.map((tp) => [tp.id, tp.name])),
    }),
    [templates.data, reference.segments, topics],
  );

  const problems = useMemo(() => localProblems(definition, schema, t), [definition, schema, t]);
  const errors = useMemo(() => {
    const out = new Map<string, string>();
    if (serverError?.target.nodeId) out.set(serverError.target.nodeId, serverError.target.text);
    return out;
  }, [serverError]);

  // leaving with unsaved changes asks first (closing the tab, reloading)
  useEffect(() => {
    if (!dirty || readOnly) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty, readOnly]);

  const edit = useCallback((next: Snapshot | ((s: Snapshot) => Snapshot), record = true) => dispatch({ type: "edit", next, record }), []);
  const editDefinition = useCallback((f: (d: Definition) => Definition) => edit((s) => ({ ...s, definition: f(s.definition) })), [edit]);

  const selectOnly = useCallback((id: string | null) => {
    setSelectedNodes(new Set(id ? [id] : []));
    setSelectedEdges(new Set());
  }, []);

  const focusNode = useCallback(
    (id: string | null) => {
      selectOnly(id);
      if (id) {
        const p = (shown?.positions ?? positions)[id];
        if (p) void flow.setCenter(p.x + 120, p.y + 48, { zoom: Math.max(flow.getZoom(), 0.8), duration: 300 });
      }
    },
    [selectOnly, flow, positions, shown],
  );

  const selectedId = selectedNodes.size === 1 ? [...selectedNodes][0] ?? null : null;

  // --- edits ---------------------------------------------------------------------------------
  const addKind = useCallback(
    (kind: string, at?: Position) => {
      if (readOnly) return;
      let newId = "";
      edit((s) => {
        const after = at ? null : selectedId;
        const result = addNode(at ? { ...s.definition, start: startOf(s.definition) ?? "" } : s.definition, kind, after);
        newId = result.id;
        const place =
          at ??
          (after && s.positions[after] ? { x: s.positions[after].x, y: s.positions[after].y + 150 } : { x: (s.positions[TRIGGER_NODE_ID]?.x ?? 0), y: Math.max(0, ...Object.values(s.positions).map((p) => p.y)) + 150 });
        return { definition: result.definition, positions: { ...s.positions, [result.id]: place } };
      });
      window.setTimeout(() => {
        selectOnly(newId);
        // keep the new step in view (it is placed below the one it follows)
        const node = flow.getInternalNode(newId);
        const box = document.querySelector(".journey-canvas")?.getBoundingClientRect();
        if (!node || !box) return;
        const { x, y, zoom } = flow.getViewport();
        const p = node.internals.positionAbsolute;
        const left = p.x * zoom + x;
        const top = p.y * zoom + y;
        if (left < 0 || top < 0 || left + 240 * zoom > box.width || top + 100 * zoom > box.height) {
          void flow.setCenter(p.x + 120, p.y + 48, { zoom, duration: 200 });
        }
      }, 0);
    },
    [readOnly, edit, selectedId, selectOnly, flow],
  );

  const deleteSelection = useCallback(
    (nodeIds: string[], edgeIds: string[]) => {
      if (readOnly || (!nodeIds.length && !edgeIds.length)) return;
      edit((s) => {
        const d = removeNodes(removeEdges(s.definition, edgeIds), nodeIds);
        const p = { ...s.positions };
        for (const id of nodeIds) delete p[id];
        return { definition: d, positions: p };
      });
      setSelectedNodes(new Set());
      setSelectedEdges(new Set());
    },
    [readOnly, edit],
  );

  const copy = useCallback(() => {
    const clip = copyNodes(definition, positions, selectedNodes);
    if (clip) {
      clipboard.current = clip;
      void message.info(t("journeys.copied", { n: Object.keys(clip.nodes).length }));
    }
  }, [definition, positions, selectedNodes, message, t]);

  const paste = useCallback(() => {
    const clip = clipboard.current;
    if (!clip || readOnly) return;
    let ids: string[] = [];
    edit((s) => {
      const r = pasteNodes(s.definition, s.positions, clip);
      ids = r.ids;
      return { definition: r.definition, positions: r.positions };
    });
    window.setTimeout(() => {
      setSelectedNodes(new Set(ids));
      setSelectedEdges(new Set());
    }, 0);
  }, [readOnly, edit]);

  const layout = useCallback(() => {
    edit((s) => ({ ...s, positions: autoLayout(s.definition) }));
    window.setTimeout(() => void flow.fitView({ padding: 0.15, maxZoom: 1, duration: 300 }), 50);
  }, [edit, flow]);

  const rename = useCallback(
    (from: string, to: string): string | null => {
      const r = renameNode(definition, positions, from, to);
      if (!r) {
        void message.error(t("journeys.renameRefused", { id: to }));
        return "refused";
      }
      edit(r);
      selectOnly(to);
      return null;
    },
    [definition, positions, edit, selectOnly, message, t],
  );

  // keyboard: undo, redo, copy, paste (Delete is the canvas's own)
  useEffect(() => {
    if (mode !== "edit") return;
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || isTyping(e.target)) return;
      const key = e.key.toLowerCase();
      if (key === "z" && !e.shiftKey && !readOnly) dispatch({ type: "undo" });
      else if (((key === "z" && e.shiftKey) || key === "y") && !readOnly) dispatch({ type: "redo" });
      else if (key === "c") copy();
      else if (key === "v") paste();
      else return;
      e.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [mode, readOnly, copy, paste]);

  // --- saving and status ----------------------------------------------------------------------
  const showError = useCallback(
    (error: unknown) => {
      if (error instanceof ApiError && error.status === 422 && error.message) {
        const target = errorTarget(error.message, definition);
        setServerError({ message: error.message, target });
        if (target.nodeId) focusNode(target.nodeId);
        return;
      }
      void message.error(errorText(error, t));
    },
    [definition, focusNode, message, t],
  );

  const save = useCallback(async (): Promise<Journey | null> => {
    if (!name.trim()) {
      void message.error(t("journeys.nameRequired"));
      document.getElementById("journey-name")?.focus();
      return null;
    }
    setBusy("save");
    setServerError(null);
    const layoutBody = layoutFrom(definition, positions) as Layout;
    try {
      let result: Journey;
      if (!journey) {
        result = await unwrap(api.POST("/api/v1/journeys", { body: { name: name.trim(), definition, layout: layoutBody, campaign_id: campaignId } }));
      } else {
        const body: Record<string, unknown> = { definition, layout: layoutBody };
        if (name.trim() !== journey.name) body.name = name.trim();
        if (campaignId !== (journey.campaign_id ?? null)) body.campaign_id = campaignId;
        result = await unwrap(api.PATCH("/api/v1/journeys/{journey_id}", { params: { path: { journey_id: journey.id } }, body }));
      }
      saved.current = { snapshot: history.present, name: name.trim(), campaignId };
      queryClient.setQueryData(journeyKey(workspace, result.id), result);
      void queryClient.invalidateQueries({ queryKey: journeysKey(workspace) });
      // A new journey's page is another route: the message is shown there (this one unmounts).
      if (!journey) navigate(`/journeys/${result.id}`, { replace: true, state: { saved: true } });
      else void message.success(t("journeys.saved"));
      return result;
    } catch (error) {
      showError(error);
      return null;
    } finally {
      setBusy(null);
    }
  }, [name, campaignId, definition, positions, journey, history.present, queryClient, workspace, message, t, navigate, showError]);

  const status = useCallback(
    async (action: "publish" | "pause" | "resume" | "archive") => {
      if (!journey) return;
      setBusy(action);
      try {
        if (action === "publish" && dirty) {
          const ok = await save();
          if (!ok) return;
        }
        const path = `/api/v1/journeys/{journey_id}/${action}` as const;
        const result = await unwrap(api.POST(path, { params: { path: { journey_id: journey.id } } }));
        queryClient.setQueryData(journeyKey(workspace, result.id), result);
        void queryClient.invalidateQueries({ queryKey: journeysKey(workspace) });
        void message.success(t(`journeys.done.${action}`, { version: result.version ?? "" }));
      } catch (error) {
        showError(error);
      } finally {
        setBusy(null);
      }
    },
    [journey, dirty, save, queryClient, workspace, message, t, showError],
  );

  const confirm = (action: "publish" | "pause" | "archive") => {
    void modal.confirm({
      title: t(`journeys.confirm.${action}.title`, { name: journey?.name ?? "" }),
      content: t(`journeys.confirm.${action}.body`, { version: (journey?.version ?? 0) + 1 }),
      okText: t(`journeys.action.${action}`),
      cancelText: t("common.cancel"),
      okButtonProps: action === "archive" ? { danger: true } : undefined,
      onOk: () => status(action),
    });
  };

  // --- panels ---------------------------------------------------------------------------------
  const setMode = (next: Mode) => {
    const p = new URLSearchParams(params);
    if (next === "edit") p.delete("mode");
    else p.set("mode", next);
    setParams(p, { replace: true });
    setOverlays({});
    setShown(null);
  };
  const onShowDefinition = useCallback((d: Definition | null, l?: Layout | null) => {
    setShown(d ? { definition: d, positions: completePositions(d, positionsFrom(l)) } : null);
  }, []);
  const panelProps: JourneyPanelProps | null = journey
    ? {
        journey,
        definition: shown?.definition ?? definition,
        selectedNodeId: selectedId,
        onOverlays: setOverlays,
        onSelectNode: focusNode,
        onShowDefinition,
      }
    : null;

  const onDragStart = (e: DragEvent, kind: string) => {
    e.dataTransfer.setData(PALETTE_MIME, kind);
    e.dataTransfer.effectAllowed = "copy";
  };

  const title = journey ? journey.name : t("journeys.newTitle");
  const problemList = [...problems.entries()];
  const canvasDefinition = shown?.definition ?? definition;
  const canvasPositions = shown?.positions ?? positions;

  return (
    <div className="journey-page">
      {modalHolder}
      {messageHolder}
      <Link to="/journeys" className="back-link">
        <ArrowLeftOutlined /> {t("journeys.back")}
      </Link>
      <div className="page-head journey-head">
        <div className="journey-heading">
          <PageTitle title={title}>{title}</PageTitle>
          {journey ? <StatusTag status={journey.status} /> : null}
          {journey?.version ? <Tag>{t("journeys.liveVersion", { version: journey.version })}</Tag> : null}
          {dirty && !readOnly ? <Tag className="journey-unsaved">{t("journeys.unsaved")}</Tag> : null}
        </div>
        {canEdit && journey?.status !== "archived" ? (
          <div className="journey-actions">
            <Button type={journey ? "default" : "primary"} icon={<SaveOutlined />} loading={busy === "save"} disabled={!!busy && busy !== "save"} onClick={() => void save()}>
              {t("journeys.action.save")}
            </Button>
            {journey ? (
              <Button type="primary" loading={busy === "publish"} disabled={!!busy && busy !== "publish"} onClick={() => confirm("publish")}>
                {t("journeys.action.publish")}
              </Button>
            ) : null}
            {journey?.status === "active" ? (
              <Button loading={busy === "pause"} disabled={!!busy} onClick={() => confirm("pause")}>
                {t("journeys.action.pause")}
              </Button>
            ) : null}
            {journey?.status === "paused" ? (
              <Button loading={busy === "resume"} disabled={!!busy} onClick={() => void status("resume")}>
                {t("journeys.action.resume")}
              </Button>
            ) : null}
            {journey ? (
              <Button danger loading={busy === "archive"} disabled={!!busy} onClick={() => confirm("archive")}>
                {t("journeys.action.archive")}
              </Button>
            ) : null}
          </div>
        ) : null}
      </div>
      {journey?.status === "archived" ? <Alert type="info" showIcon title={t("journeys.archivedNote")} className="journey-alert" /> : null}
      {!canEdit ? <Alert type="info" showIcon title={t("journeys.readOnlyNote")} className="journey-alert" /> : null}
      <div className="journey-bar">
        {canEdit && journey?.status !== "archived" ? (
          <div className="journey-name">
            <label htmlFor="journey-name">{t("journeys.name")}</label>
            <Input id="journey-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} style={{ width: 280 }} status={!name.trim() && !journey ? "warning" : ""} />
            <label htmlFor="journey-campaign">{t("journeys.campaign")}</label>
            <Select<number>
              id="journey-campaign"
              value={campaignId ?? undefined}
              onChange={(value) => setCampaignId(value ?? null)}
              allowClear
              showSearch={{ optionFilterProp: "label" }}
              placeholder={t("journeys.campaignNone")}
              loading={campaigns.isLoading}
              options={(campaigns.data?.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
              style={{ width: 220 }}
            />
          </div>
        ) : null}
        {journey ? (
          <Segmented<Mode>
            aria-label={t("journeys.mode")}
            value={mode}
            onChange={setMode}
            options={MODES.map((m) => ({ value: m, label: t(`journeys.mode.${m}`) }))}
          />
        ) : null}
        {mode === "edit" && !readOnly ? (
          <div className="journey-tools" role="toolbar" aria-label={t("journeys.tools")}>
            <Tooltip title={t("journeys.undoKey")}>
              <Button icon={<UndoOutlined />} aria-label={t("journeys.undo")} disabled={!history.past.length} onClick={() => dispatch({ type: "undo" })} />
            </Tooltip>
            <Tooltip title={t("journeys.redoKey")}>
              <Button icon={<RedoOutlined />} aria-label={t("journeys.redo")} disabled={!history.future.length} onClick={() => dispatch({ type: "redo" })} />
            </Tooltip>
            <Tooltip title={t("journeys.copyKey")}>
              <Button icon={<CopyOutlined />} aria-label={t("journeys.copy")} disabled={![...selectedNodes].some((id) => id !== TRIGGER_NODE_ID)} onClick={copy} />
            </Tooltip>
            <Tooltip title={t("journeys.pasteKey")}>
              <Button icon={<SnippetsOutlined />} aria-label={t("journeys.paste")} onClick={paste} />
            </Tooltip>
            <Tooltip title={t("journeys.deleteKey")}>
              <Button
                icon={<DeleteOutlined />}
                aria-label={t("journeys.deleteSelected")}
                disabled={![...selectedNodes].some((id) => id !== TRIGGER_NODE_ID) && !selectedEdges.size}
                onClick={() => deleteSelection([...selectedNodes], [...selectedEdges])}
              />
            </Tooltip>
            <Button icon={<ApartmentOutlined />} onClick={layout}>
              {t("journeys.autoLayout")}
            </Button>
          </div>
        ) : null}
      </div>
      {serverError ? (
        <Alert
          type="error"
          showIcon
          className="journey-alert"
          title={t("journeys.serverError")}
          description={
            serverError.target.nodeId ? (
              <button type="button" className="link-like" onClick={() => focusNode(serverError.target.nodeId)}>
                {serverError.message}
              </button>
            ) : (
              serverError.message
            )
          }
          closable={{ onClose: () => setServerError(null), "aria-label": t("journeys.dismiss") }}
        />
      ) : null}
      <div className={`journey-workspace journey-mode-${mode}`}>
        {mode === "edit" && !readOnly ? (
          <nav className="journey-palette" aria-label={t("journeys.palette")}>
            <p className="text-secondary journey-palette-hint">{t("journeys.paletteHint")}</p>
            {NODE_GROUPS.map((g) => (
              <div key={g.key} className="palette-group" role="group" aria-labelledby={`palette-${g.key}`}>
                <h2 className="palette-title" id={`palette-${g.key}`}>
                  {t(`journeys.group.${g.key}`)}
                </h2>
                {g.kinds.map((kind) => (
                  <button
                    key={kind}
                    type="button"
                    className="palette-item"
                    draggable
                    onDragStart={(e) => onDragStart(e, kind)}
                    onClick={() => addKind(kind)}
                    aria-label={selectedId ? t("journeys.addAfter", { kind: kindLabel(kind, t), id: selectedId === TRIGGER_NODE_ID ? t("journeys.trigger") : selectedId }) : t("journeys.add", { kind: kindLabel(kind, t) })}
                    data-kind={kind}
                  >
                    <span aria-hidden="true">{KIND_ICONS[kind]}</span> {kindLabel(kind, t)}
                  </button>
                ))}
              </div>
            ))}
          </nav>
        ) : null}
        <section className="journey-canvas-wrap" aria-label={t("journeys.canvas")}>
          <NamesContext.Provider value={names}>
            <JourneyCanvas
              definition={canvasDefinition}
              positions={canvasPositions}
              overlays={overlays}
              errors={shown ? EMPTY_MAP : errors}
              warnings={shown || mode !== "edit" ? EMPTY_MAP : problems}
              selectedNodes={selectedNodes}
              selectedEdges={selectedEdges}
              readOnly={readOnly || shown !== null}
              onSelectionChange={(n, e) => {
                setSelectedNodes(n);
                setSelectedEdges(e);
              }}
              onMoveStart={() => dispatch({ type: "checkpoint" })}
              onMove={(moves) => edit((s) => ({ ...s, positions: { ...s.positions, ...moves } }), false)}
              onConnect={(source, handle, target) => editDefinition((d) => connect(d, source, handle, target))}
              onDelete={deleteSelection}
              onDropKind={(kind, at) => addKind(kind, at)}
            />
          </NamesContext.Provider>
        </section>
        <aside className="journey-side" aria-label={mode === "edit" ? t("journeys.inspector") : t(`journeys.mode.${mode}`)}>
          {mode === "edit" ? (
            <>
              {problemList.length ? (
                <section className="journey-problems" aria-labelledby="journey-problems-title">
                  <h2 id="journey-problems-title">{t("journeys.problems", { n: problemList.length })}</h2>
                  <ul>
                    {problemList.map(([id, text]) => (
                      <li key={id}>
                        <button type="button" className="link-like" onClick={() => focusNode(id)}>
                          <strong>{id === TRIGGER_NODE_ID ? t("journeys.trigger") : id}</strong>: {text}
                        </button>
                      </li>
                    ))}
                  </ul>
                </section>
              ) : null}
              <Inspector
                schema={schema}
                reference={reference}
                topics={topics}
                definition={definition}
                selectedId={selectedId}
                readOnly={readOnly}
                error={serverError?.target ?? null}
                onChange={(d) => edit((s) => ({ ...s, definition: d }))}
                onRename={rename}
                onSelectNode={focusNode}
              />
            </>
          ) : panelProps ? (
            mode === "live" ? (
              <LiveStatsPanel {...panelProps} />
            ) : mode === "simulate" ? (
              <SimulationPanel {...panelProps} />
            ) : (
              <VersionsPanel {...panelProps} />
            )
          ) : null}
        </aside>
      </div>
    </div>
  );
}

const EMPTY_MAP: ReadonlyMap<string, string> = new Map();
