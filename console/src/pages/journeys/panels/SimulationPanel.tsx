import { lazy, Suspense, useEffect, useMemo, useRef, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Alert, AutoComplete, Button, Input, InputNumber, Radio, Select, Space, Spin, Tag } from "antd";
import { DeleteOutlined, EditOutlined, PlayCircleOutlined, PlusOutlined } from "@ant-design/icons";
import { api, unwrap } from "../../../api/client";
import { ApiError } from "../../../api/http";
import { contactLabel, type Contact } from "../../../api/types";
import { useWorkspaceTimeZone } from "../../../auth/SessionProvider";
import { DateTime, dateTimeFormat } from "../../../components/DateTime";
import { errorText } from "../../../components/ErrorAlert";
import { useI18n, type MessageKey } from "../../../i18n";
import "../../../i18n/journeyPanels";
import "../../../i18n/audiences"; // the contact picker's strings
import { ContactPicker } from "../../segments/ContactPicker";
import { timeZones } from "../../settings/intlLists";
import { channelLabel, nodeTypeLabel, outcomeLabel, reasonLabel, stateLabel } from "./labels";
import {
  DURATION_UNITS,
  emptyForm,
  finalNode,
  journeyEventNames,
  simulationOverlays,
  simulationRequest,
  type DurationUnit,
  type FormProblem,
  type SimulationForm,
  type SimulationRead,
  type TimelineRow,
} from "./model";
import type { JourneyPanelProps } from "./overlay";
import { useLatest, useOwnDefinition, useVersions } from "./queries";
import { sameValue } from "./diff";
import "./panels.css";

const MessagePreview = lazy(() => import("./MessagePreview"));

const PROBLEM_KEYS: Record<FormProblem["problem"], MessageKey> = {
  json: "journeyPanels.sim.problem.json",
  jsonObject: "journeyPanels.sim.problem.jsonObject",
  required: "journeyPanels.sim.problem.required",
  positive: "journeyPanels.sim.problem.positive",
};

function UnitSelect({ id, value, onChange, label }: { id: string; value: DurationUnit; onChange: (u: DurationUnit) => void; label: string }) {
  const { t } = useI18n();
  return (
    <Select
      id={id}
      aria-label={label}
      value={value}
      onChange={onChange}
      style={{ width: 110 }}
      popupMatchSelectWidth={false}
      options={DURATION_UNITS.map((u) => ({ value: u, label: t(`journeyPanels.unit.${u}`) }))}
    />
  );
}

function FieldError({ id, problem }: { id: string; problem: FormProblem | undefined }) {
  const { t } = useI18n();
  if (!problem) return null;
  return (
    <div id={id} className="jp-field-error" role="alert">
      {t(PROBLEM_KEYS[problem.problem])}
    </div>
  );
}

let nextRowId = 1;

function TimelineEditor({
  rows,
  onChange,
  suggestions,
  problems,
}: {
  rows: TimelineRow[];
  onChange: (rows: TimelineRow[]) => void;
  suggestions: string[];
  problems: FormProblem[];
}) {
  const { t } = useI18n();
  const zone = useWorkspaceTimeZone();
  const set = (i: number, patch: Partial<TimelineRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const problem = (field: string) => problems.find((p) => p.field === field);
  return (
    <fieldset className="jp-fieldset">
      <legend>{t("journeyPanels.sim.timeline")}</legend>
      <p className="text-secondary jp-hint">{t("journeyPanels.sim.timelineHint", { zone: zone ?? t("journeyPanels.sim.browserZone") })}</p>
      {rows.length > 0 ? (
        <ol className="jp-timeline-rows">
          {rows.map((row, i) => {
            const base = `jp-event-${row.id}`;
            const atProblem = problem(`events.${i}.at`);
            const eventProblem = problem(`events.${i}.event`);
            const propsProblem = problem(`events.${i}.properties`);
            return (
              <li key={row.id} className="jp-timeline-row" data-testid="timeline-row">
                <div className="jp-row-line">
                  <label htmlFor={`${base}-mode`} className="visually-hidden">
                    {t("journeyPanels.sim.when", { n: i + 1 })}
                  </label>
                  <Select
                    id={`${base}-mode`}
                    value={row.mode}
                    onChange={(mode: TimelineRow["mode"]) => set(i, { mode })}
                    style={{ width: 96 }}
                    popupMatchSelectWidth={false}
                    options={[
                      { value: "after", label: t("journeyPanels.sim.after") },
                      { value: "at", label: t("journeyPanels.sim.at") },
                    ]}
                  />
                  {row.mode === "after" ? (
                    <>
                      <InputNumber
                        id={`${base}-amount`}
                        aria-label={t("journeyPanels.sim.amount", { n: i + 1 })}
                        min={0}
                        value={row.amount}
                        onChange={(amount) => set(i, { amount: typeof amount === "number" ? amount : null })}
                        style={{ width: 72 }}
                        status={atProblem ? "error" : undefined}
                        aria-describedby={atProblem ? `${base}-at-error` : undefined}
                      />
                      <UnitSelect
                        id={`${base}-unit`}
                        label={t("journeyPanels.sim.unit", { n: i + 1 })}
                        value={row.unit}
                        onChange={(unit) => set(i, { unit })}
                      />
                    </>
                  ) : (
                    <Input
                      id={`${base}-instant`}
                      type="datetime-local"
                      aria-label={t("journeyPanels.sim.instant", { n: i + 1 })}
                      value={row.instant ?? ""}
                      onChange={(e) => set(i, { instant: e.target.value || null })}
                      style={{ width: 200 }}
                      status={atProblem ? "error" : undefined}
                      aria-describedby={atProblem ? `${base}-at-error` : undefined}
                    />
                  )}
                  <Button
                    size="small"
                    type="text"
                    icon={<DeleteOutlined />}
                    aria-label={t("journeyPanels.sim.removeEvent", { n: i + 1 })}
                    onClick={() => onChange(rows.filter((_, j) => j !== i))}
                  />
                </div>
                <FieldError id={`${base}-at-error`} problem={atProblem} />
                <label htmlFor={`${base}-name`} className="jp-label">
                  {t("journeyPanels.sim.eventName", { n: i + 1 })}
                </label>
                <AutoComplete
                  id={`${base}-name`}
                  value={row.event}
                  onChange={(event: string) => set(i, { event })}
                  options={suggestions.filter((s) => s.toLowerCase().includes(row.event.toLowerCase())).map((s) => ({ value: s }))}
                  placeholder={t("journeyPanels.sim.eventPlaceholder")}
                  status={eventProblem ? "error" : undefined}
                  style={{ width: "100%" }}
                />
                <FieldError id={`${base}-name-error`} problem={eventProblem} />
                <label htmlFor={`${base}-props`} className="jp-label">
                  {t("journeyPanels.sim.properties")}
                </label>
                <Input.TextArea
                  id={`${base}-props`}
                  value={row.properties}
                  onChange={(e) => set(i, { properties: e.target.value })}
                  autoSize={{ minRows: 1, maxRows: 6 }}
                  placeholder='{"order_id": "A-1", "total": 42}'
                  className="jp-code"
                  status={propsProblem ? "error" : undefined}
                  aria-describedby={propsProblem ? `${base}-props-error` : undefined}
                />
                <FieldError id={`${base}-props-error`} problem={propsProblem} />
              </li>
            );
          })}
        </ol>
      ) : (
        <p className="text-secondary jp-small">{t("journeyPanels.sim.noEvents")}</p>
      )}
      <Button
        size="small"
        icon={<PlusOutlined />}
        onClick={() =>
          onChange([
            ...rows,
            { id: nextRowId++, mode: "after", amount: 1, unit: "days", instant: null, event: suggestions[0] ?? "", properties: "" },
          ])
        }
      >
        {t("journeyPanels.sim.addEvent")}
      </Button>
    </fieldset>
  );
}

function HypotheticalContact({ form, onChange }: { form: SimulationForm; onChange: (c: SimulationForm["contact"]) => void }) {
  const { t } = useI18n();
  const c = form.contact;
  const zones = useMemo(() => timeZones(), []);
  const set = (patch: Partial<SimulationForm["contact"]>) => onChange({ ...c, ...patch });
  const setTrait = (i: number, patch: Partial<{ key: string; value: string }>) =>
    set({ traits: c.traits.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  return (
    <div className="jp-grid" data-testid="hypothetical-contact">
      <label htmlFor="jp-sim-email">{t("journeyPanels.sim.email")}</label>
      <Input id="jp-sim-email" type="email" value={c.email} onChange={(e) => set({ email: e.target.value })} autoComplete="off" />
      <label htmlFor="jp-sim-phone">{t("journeyPanels.sim.phone")}</label>
      <Input id="jp-sim-phone" value={c.phone} onChange={(e) => set({ phone: e.target.value })} placeholder="+8613800138000" autoComplete="off" />
      <label htmlFor="jp-sim-first-name">{t("journeyPanels.sim.firstName")}</label>
      <Input id="jp-sim-first-name" value={c.first_name} onChange={(e) => set({ first_name: e.target.value })} autoComplete="off" />
      <label htmlFor="jp-sim-timezone">{t("journeyPanels.sim.timezone")}</label>
      <AutoComplete
        id="jp-sim-timezone"
        value={c.timezone}
        onChange={(timezone: string) => set({ timezone })}
        options={zones
          .filter((z) => z.toLowerCase().includes(c.timezone.toLowerCase()))
          .slice(0, 50)
          .map((z) => ({ value: z }))}
        placeholder={t("journeyPanels.sim.timezonePlaceholder")}
      />
      <label htmlFor="jp-sim-tags">{t("journeyPanels.sim.tags")}</label>
      <Select
        id="jp-sim-tags"
        mode="tags"
        value={c.tags}
        onChange={(tags: string[]) => set({ tags })}
        tokenSeparators={[","]}
        open={false}
        suffixIcon={null}
        placeholder={t("journeyPanels.sim.tagsPlaceholder")}
      />
      <fieldset className="jp-fieldset jp-grid-wide">
        <legend>{t("journeyPanels.sim.traits")}</legend>
        <p className="text-secondary jp-hint">{t("journeyPanels.sim.traitsHint")}</p>
        {c.traits.map((row, i) => (
          <div key={i} className="jp-row-line" data-testid="trait-row">
            <Input
              aria-label={t("journeyPanels.sim.traitKey", { n: i + 1 })}
              value={row.key}
              onChange={(e) => setTrait(i, { key: e.target.value })}
              placeholder={t("journeyPanels.sim.traitKeyPlaceholder")}
              style={{ width: "40%" }}
            />
            <Input
              aria-label={t("journeyPanels.sim.traitValue", { n: i + 1 })}
              value={row.value}
              onChange={(e) => setTrait(i, { value: e.target.value })}
              placeholder={t("journeyPanels.sim.traitValuePlaceholder")}
              style={{ width: "45%" }}
            />
            <Button
              size="small"
              type="text"
              icon={<DeleteOutlined />}
              aria-label={t("journeyPanels.sim.removeTrait", { n: i + 1 })}
              onClick={() => set({ traits: c.traits.filter((_, j) => j !== i) })}
            />
          </div>
        ))}
        <Button size="small" icon={<PlusOutlined />} onClick={() => set({ traits: [...c.traits, { key: "", value: "" }] })}>
          {t("journeyPanels.sim.addTrait")}
        </Button>
      </fieldset>
    </div>
  );
}

function simulationError(error: unknown, t: (k: MessageKey, p?: Record<string, string | number>) => string): string {
  if (error instanceof ApiError && error.code === "simulation_too_long") {
    return `${t("journeyPanels.sim.tooLong")} ${error.message}`;
  }
  return errorText(error, t);
}

function Result({
  result,
  who,
  selectedNodeId,
  onSelectNode,
}: {
  result: SimulationRead;
  who: string;
  selectedNodeId: string | null;
  onSelectNode: (id: string) => void;
}) {
  const { t } = useI18n();
  const final = result.final;
  if (!result.entered) {
    return (
      <Alert
        type="warning"
        showIcon
        title={t("journeyPanels.sim.notEntered")}
        description={reasonLabel(t, result.reason ?? "refused")}
        data-testid="sim-not-entered"
      />
    );
  }
  const notes = result.notes.filter((n) => !n.startsWith("consent, suppression"));
  return (
    <div className="jp-result" data-testid="sim-result">
      {final ? (
        <dl className="jp-facts jp-final" data-testid="sim-final">
          <div>
            <dt>{t("journeyPanels.sim.finalState")}</dt>
            <dd>
              <Tag className={`jp-tag jp-tag-${final.state}`}>{stateLabel(t, final.state)}</Tag>
            </dd>
          </div>
          {finalNode(result) ? (
            <div>
              <dt>{final.state === "active" ? t("journeyPanels.sim.stillAt") : t("journeyPanels.sim.endedAt")}</dt>
              <dd>{finalNode(result)}</dd>
            </div>
          ) : null}
          {final.exit_reason ? (
            <div>
              <dt>{t("journeyPanels.live.reason")}</dt>
              <dd>{reasonLabel(t, final.exit_reason)}</dd>
            </div>
          ) : null}
          {final.ended_at ? (
            <div>
              <dt>{t("journeyPanels.sim.endedOn")}</dt>
              <dd>
                <DateTime value={final.ended_at} />
              </dd>
            </div>
          ) : null}
          {final.state === "active" && final.resume_at ? (
            <div>
              <dt>{t("journeyPanels.live.resumes")}</dt>
              <dd>
                <DateTime value={final.resume_at} />
              </dd>
            </div>
          ) : null}
          <div>
            <dt>{t("journeyPanels.sim.simulated")}</dt>
            <dd>
              <DateTime value={result.start} /> – <DateTime value={result.until} />
            </dd>
          </div>
        </dl>
      ) : null}
      {result.truncated ? <Alert type="warning" showIcon className="jp-alert" title={t("journeyPanels.sim.truncated")} /> : null}
      <p className="text-secondary jp-hint">{t("journeyPanels.sim.sendTimeRules")}</p>
      {notes.map((n) => (
        <p key={n} className="text-secondary jp-hint">
          {n}
        </p>
      ))}

      <h3 className="jp-subtitle">{t("journeyPanels.sim.path")}</h3>
      <ol className="jp-path" data-testid="sim-path">
        {result.path.map((step, i) => (
          <li key={i} className={selectedNodeId === step.node ? "jp-step jp-step-selected" : "jp-step"}>
            <span className="jp-step-time">
              <DateTime value={step.at} />
            </span>
            <Button type="link" size="small" className="jp-node-button" onClick={() => onSelectNode(step.node)} aria-pressed={selectedNodeId === step.node}>
              {step.node}
            </Button>
            <span className="jp-node-type">{nodeTypeLabel(t, step.type)}</span>
            <Tag className="jp-outcome">{outcomeLabel(t, step.outcome)}</Tag>
            {step.message !== null && step.message !== undefined ? (
              <a href={`#jp-message-${step.message}`} className="jp-small">
                {t("journeyPanels.sim.messageN", { n: step.message + 1 })}
              </a>
            ) : null}
          </li>
        ))}
      </ol>

      {result.waits.length > 0 ? (
        <>
          <h3 className="jp-subtitle">{t("journeyPanels.sim.waits")}</h3>
          <ul className="jp-list" data-testid="sim-waits">
            {result.waits.map((w, i) => (
              <li key={i} className="jp-wait">
                <strong>{w.node}</strong> <span className="jp-node-type">{nodeTypeLabel(t, w.type)}</span>
                <div>
                  <DateTime value={w.from} /> →{" "}
                  {w.until ? <DateTime value={w.until} /> : w.event ? t("journeyPanels.sim.untilEvent", { event: w.event }) : t("journeyPanels.sim.noTimer")}
                </div>
                <div className="text-secondary jp-small">
                  {w.ended_at ? (
                    <>
                      {t("journeyPanels.sim.waitEnded", { how: outcomeLabel(t, w.outcome ?? "next") })} <DateTime value={w.ended_at} />
                    </>
                  ) : (
                    t("journeyPanels.sim.stillWaiting")
                  )}
                  {w.event && w.until ? ` · ${t("journeyPanels.sim.waitsForEvent", { event: w.event })}` : ""}
                </div>
              </li>
            ))}
          </ul>
        </>
      ) : null}

      <h3 className="jp-subtitle">{t("journeyPanels.sim.messages", { n: result.messages.length })}</h3>
      {result.messages.length === 0 ? <p className="text-secondary">{t("journeyPanels.sim.noMessages")}</p> : null}
      {result.messages.map((m, i) => (
        <article key={i} id={`jp-message-${i}`} className="jp-message" data-testid="sim-message" aria-labelledby={`jp-message-${i}-title`}>
          <h4 id={`jp-message-${i}-title`} className="jp-message-title">
            {t("journeyPanels.sim.messageTitle", { n: i + 1, channel: channelLabel(t, m.channel), node: m.node })}
          </h4>
          <dl className="jp-facts">
            <div>
              <dt>{t("journeyPanels.sim.queuedAt")}</dt>
              <dd>
                <DateTime value={m.at} />
              </dd>
            </div>
            <div>
              <dt>{t("journeyPanels.sim.to")}</dt>
              <dd>{m.to ?? t("journeyPanels.sim.noAddress")}</dd>
            </div>
            <div>
              <dt>{t("journeyPanels.sim.kind")}</dt>
              <dd>{m.transactional ? t("journeyPanels.sim.transactional") : t("journeyPanels.sim.marketing")}</dd>
            </div>
          </dl>
          {m.warning ? <Alert type="warning" showIcon className="jp-alert" title={m.warning} /> : null}
          {m.error ? <Alert type="error" showIcon className="jp-alert" title={t("journeyPanels.sim.renderFailed")} description={m.error} /> : null}
          {m.content ? (
            <Suspense fallback={<Spin size="small" />}>
              <MessagePreview channel={m.channel} content={m.content} who={who} />
            </Suspense>
          ) : null}
        </article>
      ))}
    </div>
  );
}

/**
 * The Simulate mode's panel: a real or hypothetical contact, a timeline of scripted events,
 * the draft or live version → `POST /journeys/{id}/simulate`; the answer as a path, waits and
 * rendered messages, and lit on the canvas.
 */
export function SimulationPanel({ journey, definition, selectedNodeId, onOverlays, onSelectNode, onShowDefinition }: JourneyPanelProps) {
  const { t, lang } = useI18n();
  const zone = useWorkspaceTimeZone();
  const published = journey.version !== null && journey.version !== undefined;
  const [form, setForm] = useState<SimulationForm>(() => emptyForm("draft"));
  const [contact, setContact] = useState<Contact | null>(null);
  const [picking, setPicking] = useState(false);
  const [problems, setProblems] = useState<FormProblem[]>([]);
  // the form folds into a summary once a run answers, so the result is what the panel shows
  const [editing, setEditing] = useState(true);
  const overlaysRef = useLatest(onOverlays);
  const showRef = useLatest(onShowDefinition);
  const resultRef = useRef<HTMLDivElement>(null);
  const versions = useVersions(journey, published);
  const liveVersion = versions.data?.data.find((v) => v.id === journey.version_id) ?? null;
  const [drawn, setDrawn] = useState(false);
  const own = useOwnDefinition(definition, drawn);
  const trigger = (form.version === "live" && liveVersion ? liveVersion.definition : own).trigger as { type?: unknown } | undefined;
  const triggerType = typeof trigger?.type === "string" ? trigger.type : null;
  const suggestions = useMemo(
    () => [...new Set([...journeyEventNames(own), ...(liveVersion ? journeyEventNames(liveVersion.definition) : [])])].sort(),
    [own, liveVersion],
  );

  const run = useMutation({
    mutationFn: (body: NonNullable<ReturnType<typeof simulationRequest>["body"]>) =>
      unwrap(api.POST("/api/v1/journeys/{journey_id}/simulate", { params: { path: { journey_id: journey.id } }, body })),
    onSuccess: () => setEditing(false),
  });

  // A new answer: the focus on the result (read by screen readers), the panel scrolled back
  // to its top, where the folded scenario and the outcome are.
  useEffect(() => {
    const el = resultRef.current;
    if (!run.data || !el) return;
    el.focus({ preventScroll: true });
    for (let p = el.parentElement; p; p = p.parentElement) {
      const overflow = getComputedStyle(p).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && p.scrollHeight > p.clientHeight) {
        p.scrollTop = 0;
        break;
      }
    }
  }, [run.data]);

  const format = dateTimeFormat(lang, zone);
  useEffect(() => {
    if (!run.data) {
      overlaysRef.current({});
      return;
    }
    overlaysRef.current(
      simulationOverlays(run.data, {
        waitsUntil: (iso) => t("journeyPanels.sim.noteWaitsUntil", { time: format.format(new Date(iso)) }),
        waitsFor: (event) => t("journeyPanels.sim.noteWaitsFor", { event }),
        message: (channel, gist) => t("journeyPanels.sim.noteMessage", { channel: channelLabel(t, channel), gist }),
      }),
    );
  }, [run.data, overlaysRef, t, format]);
  // A run of the live version is drawn on the live version's steps when the draft differs.
  const needsLive = run.data?.version === "live" && liveVersion !== null && !sameValue(liveVersion.definition, own);
  const drawnRef = useLatest(drawn);
  useEffect(() => {
    if (needsLive && liveVersion) {
      showRef.current(liveVersion.definition, liveVersion.layout ?? null);
      setDrawn(true);
    } else if (drawnRef.current) {
      showRef.current(null);
      setDrawn(false);
    }
  }, [needsLive, liveVersion, showRef, drawnRef]);
  useEffect(
    () => () => {
      overlaysRef.current({});
      if (drawnRef.current) showRef.current(null);
    },
    [overlaysRef, showRef, drawnRef],
  );

  const submit = () => {
    const request = simulationRequest(form, triggerType, zone);
    setProblems(request.problems);
    if (request.body) run.mutate(request.body);
  };
  const problem = (field: string) => problems.find((p) => p.field === field);
  const who =
    form.who === "real"
      ? contact
        ? (contactLabel(contact) ?? t("contacts.unnamed", { id: contact.id }))
        : ""
      : form.contact.first_name || form.contact.email || t("journeyPanels.sim.hypothetical");

  return (
    <section className="journey-panel" aria-labelledby="jp-sim-title" data-testid="simulation-panel">
      <h2 id="jp-sim-title" className="section-title">
        {t("journeyPanels.sim.title")}
      </h2>
      <p className="text-secondary jp-hint">{t("journeyPanels.sim.intro")}</p>
      {!editing ? (
        <div className="jp-scenario" data-testid="sim-scenario">
          <dl className="jp-facts">
            <div>
              <dt>{t("journeyPanels.sim.contact")}</dt>
              <dd>
                {form.who === "real" && contact ? `${who} #${contact.id}` : t("journeyPanels.sim.whoHypothetical", { who })}
              </dd>
            </div>
            <div>
              <dt>{t("journeyPanels.sim.version")}</dt>
              <dd>{form.version === "live" ? t("journeyPanels.sim.live", { version: journey.version ?? 0 }) : t("journeyPanels.sim.draft")}</dd>
            </div>
            <div>
              <dt>{t("journeyPanels.sim.timeline")}</dt>
              <dd>{form.events.length}</dd>
            </div>
            <div>
              <dt>{t("journeyPanels.sim.until")}</dt>
              <dd>
                {form.untilAmount} {t(`journeyPanels.unit.${form.untilUnit}`)}
              </dd>
            </div>
          </dl>
          <div className="jp-actions">
            <Button icon={<EditOutlined />} onClick={() => setEditing(true)} aria-expanded={false}>
              {t("journeyPanels.sim.edit")}
            </Button>
            <Button
              onClick={() => {
                run.reset();
                setEditing(true);
                onSelectNode(null);
              }}
            >
              {t("journeyPanels.sim.clear")}
            </Button>
          </div>
        </div>
      ) : null}
      <form
        hidden={!editing}
        className="jp-form"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        noValidate
      >
        <fieldset className="jp-fieldset">
          <legend>{t("journeyPanels.sim.version")}</legend>
          <Radio.Group value={form.version} onChange={(e) => setForm({ ...form, version: e.target.value as "draft" | "live" })}>
            <Radio value="draft">{t("journeyPanels.sim.draft")}</Radio>
            <Radio value="live" disabled={!published}>
              {published ? t("journeyPanels.sim.live", { version: journey.version ?? 0 }) : t("journeyPanels.sim.noLive")}
            </Radio>
          </Radio.Group>
        </fieldset>

        <fieldset className="jp-fieldset">
          <legend>{t("journeyPanels.sim.contact")}</legend>
          <Radio.Group value={form.who} onChange={(e) => setForm({ ...form, who: e.target.value as "real" | "hypothetical" })}>
            <Radio value="hypothetical">{t("journeyPanels.sim.hypothetical")}</Radio>
            <Radio value="real">{t("journeyPanels.sim.real")}</Radio>
          </Radio.Group>
          {form.who === "real" ? (
            <div className="jp-real-contact">
              {contact ? (
                <p data-testid="sim-contact">
                  <strong>{contactLabel(contact) ?? t("contacts.unnamed", { id: contact.id })}</strong>{" "}
                  <span className="text-secondary">#{contact.id}</span>{" "}
                  <Button size="small" type="link" onClick={() => setPicking(true)} aria-expanded={picking}>
                    {t("journeyPanels.sim.changeContact")}
                  </Button>
                </p>
              ) : null}
              {!contact || picking ? (
                <ContactPicker
                  id="jp-sim-contact-search"
                  label={t("journeyPanels.sim.findContact")}
                  action={(name) => t("journeyPanels.sim.useContact", { name })}
                  onPick={(c) => {
                    setContact(c);
                    setForm((f) => ({ ...f, contactId: c.id }));
                    setPicking(false);
                  }}
                />
              ) : null}
              <FieldError id="jp-sim-contact-error" problem={problem("contact")} />
            </div>
          ) : (
            <HypotheticalContact form={form} onChange={(c) => setForm({ ...form, contact: c })} />
          )}
        </fieldset>

        <TimelineEditor rows={form.events} onChange={(events) => setForm({ ...form, events })} suggestions={suggestions} problems={problems} />

        <fieldset className="jp-fieldset">
          <legend>{t("journeyPanels.sim.until")}</legend>
          <Space.Compact>
            <InputNumber
              id="jp-sim-until"
              aria-label={t("journeyPanels.sim.untilAmount")}
              min={1}
              value={form.untilAmount}
              onChange={(v) => setForm({ ...form, untilAmount: typeof v === "number" ? v : null })}
              status={problem("until") ? "error" : undefined}
              style={{ width: 90 }}
            />
            <UnitSelect id="jp-sim-until-unit" label={t("journeyPanels.sim.untilUnit")} value={form.untilUnit} onChange={(untilUnit) => setForm({ ...form, untilUnit })} />
          </Space.Compact>
          <FieldError id="jp-sim-until-error" problem={problem("until")} />
          <p className="text-secondary jp-hint">{t("journeyPanels.sim.untilHint")}</p>
        </fieldset>

        <details className="jp-details">
          <summary>{t("journeyPanels.sim.more")}</summary>
          <label htmlFor="jp-sim-payload" className="jp-label">
            {t("journeyPanels.sim.payload")}
          </label>
          <Input.TextArea
            id="jp-sim-payload"
            className="jp-code"
            value={form.payload}
            onChange={(e) => setForm({ ...form, payload: e.target.value })}
            autoSize={{ minRows: 2, maxRows: 8 }}
            placeholder='{"plan": "pro"}'
            status={problem("payload") ? "error" : undefined}
          />
          <FieldError id="jp-sim-payload-error" problem={problem("payload")} />
          {triggerType === "event" ? (
            <>
              <label htmlFor="jp-sim-trigger-event" className="jp-label">
                {t("journeyPanels.sim.triggerEvent")}
              </label>
              <Input.TextArea
                id="jp-sim-trigger-event"
                className="jp-code"
                value={form.triggerEvent}
                onChange={(e) => setForm({ ...form, triggerEvent: e.target.value })}
                autoSize={{ minRows: 2, maxRows: 8 }}
                status={problem("triggerEvent") ? "error" : undefined}
              />
              <FieldError id="jp-sim-trigger-event-error" problem={problem("triggerEvent")} />
            </>
          ) : null}
        </details>

        <div className="jp-actions">
          <Button type="primary" htmlType="submit" icon={<PlayCircleOutlined />} loading={run.isPending}>
            {t("journeyPanels.sim.run")}
          </Button>
          {run.data ? (
            <Button
              onClick={() => {
                run.reset();
                onSelectNode(null);
              }}
            >
              {t("journeyPanels.sim.clear")}
            </Button>
          ) : null}
        </div>
        {problems.length > 0 ? <p className="jp-field-error">{t("journeyPanels.sim.fixFields")}</p> : null}
      </form>

      <div ref={resultRef} tabIndex={-1} className="jp-result-anchor" aria-live="polite">
        {run.isError ? (
          <Alert type="error" showIcon className="jp-alert" title={t("journeyPanels.sim.failed")} description={simulationError(run.error, t)} data-testid="sim-error" />
        ) : null}
        {run.data ? (
          <>
            <h3 className="jp-subtitle">{t("journeyPanels.sim.resultTitle")}</h3>
            {needsLive ? <p className="text-secondary jp-hint">{t("journeyPanels.sim.showsLive", { version: journey.version ?? 0 })}</p> : null}
            <Result result={run.data} who={who} selectedNodeId={selectedNodeId} onSelectNode={onSelectNode} />
          </>
        ) : null}
      </div>
    </section>
  );
}
