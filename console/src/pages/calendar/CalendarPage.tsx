import { useMemo, useState, type DragEvent, type ReactNode } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, DatePicker, message as antMessage, Modal, Radio, Space, Spin } from "antd";
import { ClockCircleOutlined, LeftOutlined, RightOutlined } from "@ant-design/icons";
import dayjs, { type Dayjs } from "dayjs";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useCanEdit, useWorkspaceKey, useWorkspaceTimeZone } from "../../auth/SessionProvider";
import { dateTimeFormat } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import "../../i18n/campaigns";
import {
  canMove,
  columnAt,
  fetchRange,
  monthWeeks,
  placeItems,
  rescheduleTo,
  sendsOn,
  shiftAnchor,
  slotOf,
  slotTime,
  SLOTS_PER_DAY,
  viewDays,
  weekBars,
  weekDays,
  type CalendarEntry,
  type Placed,
  type Reschedule,
  type View,
} from "./calendarModel";
import { civilDate, today } from "./zoned";
import "./calendar.css";

const SLOT_PX = 20;
/** the week view's hour column (as in calendar.css) */
const GUTTER_PX = 56;

function linkOf(item: CalendarEntry): string {
  if (item.kind === "campaign") return `/campaigns/${item.id}`;
  if (item.kind === "broadcast") return `/broadcasts/${item.id}`;
  return `/journeys/${item.id}`;
}

function statusKey(item: CalendarEntry): MessageKey {
  if (item.kind === "campaign") return `campaigns.status.${item.status}` as MessageKey;
  if (item.kind === "broadcast") return `campaign.bstatus.${item.status}` as MessageKey;
  return `campaign.jstatus.${item.status}` as MessageKey;
}

function itemClass(item: CalendarEntry): string {
  return `cal-item cal-${item.kind} cal-status-${item.status}`;
}

interface Ctx {
  zone: string;
  canEdit: boolean;
  dragging: Placed | null;
  setDragging: (p: Placed | null) => void;
  onReschedule: (p: Placed) => void;
  move: (p: Placed, day: string, time: string | null) => void;
}

/** A send (broadcast) chip: a link; a draft can be dragged, and rescheduled by its button. */
function SendChip({ p, ctx, compact }: { p: Placed; ctx: Ctx; compact?: boolean }) {
  const { t } = useI18n();
  const movable = ctx.canEdit && canMove(p.item);
  const time = p.local ? t("calendar.local", { time: p.time ?? "" }) : (p.time ?? "");
  const status = t(statusKey(p.item));
  return (
    <li className={`${itemClass(p.item)}${compact ? " cal-compact" : ""}`}>
      <Link
        to={linkOf(p.item)}
        draggable={movable}
        aria-label={t("calendar.sendLabel", { kind: t("calendar.kind.broadcast"), name: p.item.name, status, time })}
        onDragStart={(e: DragEvent) => {
          e.dataTransfer.setData("text/plain", String(p.item.id));
          e.dataTransfer.effectAllowed = "move";
          ctx.setDragging(p);
        }}
        onDragEnd={() => ctx.setDragging(null)}
      >
        <span className="cal-time">{p.local ? <ClockCircleOutlined aria-hidden="true" /> : null} {p.time}</span>{" "}
        <span className="cal-name">{p.item.name}</span>
      </Link>
      {movable ? (
        <button
          type="button"
          className="cal-reschedule"
          aria-label={t("calendar.rescheduleLabel", { name: p.item.name })}
          title={t("calendar.reschedule")}
          onClick={() => ctx.onReschedule(p)}
        >
          <ClockCircleOutlined aria-hidden="true" />
        </button>
      ) : null}
    </li>
  );
}

/** A span (campaign, live journey) bar within one week row. */
function SpanBar({ p, start, end, lane, firstRow }: { p: Placed; start: number; end: number; lane: number; firstRow: number }) {
  const { t } = useI18n();
  const status = t(statusKey(p.item));
  return (
    <Link
      to={linkOf(p.item)}
      className={`${itemClass(p.item)} cal-bar`}
      style={{ gridColumn: `${start + 1} / ${end + 2}`, gridRow: `${firstRow + lane}` }}
      aria-label={t("calendar.itemLabel", { kind: t(`calendar.kind.${p.item.kind}`), name: p.item.name, status })}
      draggable={false}
    >
      {p.item.name}
    </Link>
  );
}

function dropHandlers(ctx: Ctx, onDrop: (e: DragEvent<HTMLElement>, p: Placed) => void) {
  return {
    onDragOver: (e: DragEvent<HTMLElement>) => {
      if (!ctx.dragging) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
    },
    onDrop: (e: DragEvent<HTMLElement>) => {
      const p = ctx.dragging;
      if (!p) return;
      e.preventDefault();
      ctx.setDragging(null);
      onDrop(e, p);
    },
  };
}

function MonthView({ anchor, placed, ctx, todayKey }: { anchor: string; placed: Placed[]; ctx: Ctx; todayKey: string }) {
  const { lang, t } = useI18n();
  const weeks = monthWeeks(anchor);
  const month = anchor.slice(0, 7);
  const dayName = new Intl.DateTimeFormat(lang, { weekday: "short", timeZone: "UTC" });
  const dayLong = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeZone: "UTC" });
  return (
    <div className="cal-month">
      <div className="cal-weekdays" aria-hidden="true">
        {weeks[0]!.map((d) => (
          <div key={d}>{dayName.format(civilDate(d))}</div>
        ))}
      </div>
      {weeks.map((week) => {
        const { bars, lanes } = weekBars(placed, week);
        return (
          <div
            key={week[0]}
            className="cal-week"
            style={{ gridTemplateRows: `28px repeat(${lanes}, 24px) minmax(64px, auto)` }}
            {...dropHandlers(ctx, (e, p) => {
              const rect = e.currentTarget.getBoundingClientRect();
              ctx.move(p, week[columnAt(e.clientX, rect.left, rect.width)]!, null);
            })}
          >
            {week.map((d, i) => (
              <div
                key={d}
                className={`cal-day${d.slice(0, 7) !== month ? " cal-outside" : ""}${d === todayKey ? " cal-today" : ""}`}
                style={{ gridColumn: i + 1, gridRow: "1 / -1" }}
                data-day={d}
              >
                <span className="cal-date">{Number(d.slice(8))}</span>
              </div>
            ))}
            {bars.map((b) => (
              <SpanBar key={`${b.placed.item.kind}-${b.placed.item.id}`} p={b.placed} start={b.start} end={b.end} lane={b.lane} firstRow={2} />
            ))}
            {week.map((d, i) => {
              const sends = sendsOn(placed, d);
              return sends.length ? (
                <ul
                  key={d}
                  className="cal-sends"
                  style={{ gridColumn: i + 1, gridRow: lanes + 2 }}
                  aria-label={t("calendar.dayLabel", { date: dayLong.format(civilDate(d)), count: sends.length })}
                >
                  {sends.map((p) => (
                    <SendChip key={p.item.id} p={p} ctx={ctx} compact />
                  ))}
                </ul>
              ) : null;
            })}
          </div>
        );
      })}
    </div>
  );
}

function WeekView({ anchor, placed, ctx, todayKey }: { anchor: string; placed: Placed[]; ctx: Ctx; todayKey: string }) {
  const { lang, t } = useI18n();
  const days = weekDays(anchor);
  const { bars, lanes } = weekBars(placed, days);
  const dayHead = new Intl.DateTimeFormat(lang, { weekday: "short", month: "numeric", day: "numeric", timeZone: "UTC" });
  const dayLong = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeZone: "UTC" });
  const cells = new Map<string, Placed[]>();
  for (const d of days) {
    for (const p of sendsOn(placed, d)) {
      const key = `${d} ${slotOf(p.time ?? "00:00")}`;
      cells.set(key, [...(cells.get(key) ?? []), p]);
    }
  }
  return (
    <div className="cal-weekview">
      <div className="cal-week-head">
        <div />
        {days.map((d) => (
          <div key={d} className={d === todayKey ? "cal-today" : undefined}>
            {dayHead.format(civilDate(d))}
          </div>
        ))}
      </div>
      <div className="cal-allday">
        <div className="cal-gutter">{t("calendar.allDay")}</div>
        <div
          className="cal-week cal-week-spans"
          style={{ gridTemplateRows: `repeat(${Math.max(1, lanes)}, 24px)` }}
          {...dropHandlers(ctx, (e, p) => {
            const rect = e.currentTarget.getBoundingClientRect();
            ctx.move(p, days[columnAt(e.clientX, rect.left, rect.width)]!, null);
          })}
        >
          {days.map((d, i) => (
            <div key={d} className="cal-day" style={{ gridColumn: i + 1, gridRow: "1 / -1" }} />
          ))}
          {bars.map((b) => (
            <SpanBar key={`${b.placed.item.kind}-${b.placed.item.id}`} p={b.placed} start={b.start} end={b.end} lane={b.lane} firstRow={1} />
          ))}
        </div>
      </div>
      <div className="cal-time-scroll" tabIndex={0} role="region" aria-label={t("calendar.time")}>
        <div
          className="cal-time-grid"
          style={{ gridTemplateRows: `repeat(${SLOTS_PER_DAY}, ${SLOT_PX}px)` }}
          {...dropHandlers(ctx, (e, p) => {
            const rect = e.currentTarget.getBoundingClientRect();
            const day = days[columnAt(e.clientX, rect.left + GUTTER_PX, rect.width - GUTTER_PX)]!;
            ctx.move(p, day, slotTime(Math.floor((e.clientY - rect.top) / SLOT_PX)));
          })}
        >
          {Array.from({ length: 24 }, (_, h) => (
            <div key={h} className="cal-hour" style={{ gridColumn: 1, gridRow: `${h * 2 + 1} / span 2` }}>
              {`${String(h).padStart(2, "0")}:00`}
            </div>
          ))}
          {days.map((d, i) => (
            <div key={d} className={`cal-day-col${d === todayKey ? " cal-today" : ""}`} style={{ gridColumn: i + 2, gridRow: "1 / -1" }} />
          ))}
          {[...cells.entries()].map(([key, sends]) => {
            const [d, slot] = key.split(" ") as [string, string];
            return (
              <ul
                key={key}
                className="cal-sends cal-slot-sends"
                style={{ gridColumn: days.indexOf(d) + 2, gridRow: `${Number(slot) + 1} / span 2` }}
                aria-label={t("calendar.dayLabel", { date: `${dayLong.format(civilDate(d))} ${slotTime(Number(slot))}`, count: sends.length })}
              >
                {sends.map((p) => (
                  <SendChip key={p.item.id} p={p} ctx={ctx} />
                ))}
              </ul>
            );
          })}
        </div>
      </div>
    </div>
  );
}

/** The keyboard way to move a draft: a date and time picker (the wall time of the zone, or local). */
function RescheduleModal({ p, zone, saving, error, onSave, onClose }: {
  p: Placed;
  zone: string;
  saving: boolean;
  error: unknown;
  onSave: (day: string, time: string) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [value, setValue] = useState<Dayjs | null>(() => dayjs(`${p.from}T${p.time ?? "09:00"}`));
  return (
    <Modal
      open
      title={t("calendar.rescheduleTitle", { name: p.item.name })}
      okText={t("calendar.save")}
      cancelText={t("calendar.cancel")}
      confirmLoading={saving}
      okButtonProps={{ disabled: !value }}
      onOk={() => value && onSave(value.format("YYYY-MM-DD"), value.format("HH:mm"))}
      onCancel={onClose}
    >
      <label htmlFor="reschedule-at" className="cal-modal-label">
        {p.local ? t("calendar.newLocalTime") : t("calendar.newTime")}
      </label>
      <DatePicker
        id="reschedule-at"
        showTime={{ format: "HH:mm", minuteStep: 5 }}
        format="YYYY-MM-DD HH:mm"
        value={value}
        onChange={setValue}
        style={{ width: 240 }}
      />
      <p className="text-secondary cal-modal-hint">{p.local ? t("calendar.newLocalTimeHint") : t("calendar.newTimeHint", { zone })}</p>
      {error ? <Alert type="error" showIcon title={errorText(error, t)} /> : null}
    </Modal>
  );
}

const LEGEND: { cls: string; key: MessageKey }[] = [
  { cls: "cal-item cal-campaign", key: "calendar.kind.campaign" },
  { cls: "cal-item cal-broadcast", key: "calendar.kind.broadcast" },
  { cls: "cal-item cal-journey", key: "calendar.kind.journey" },
  { cls: "cal-item cal-broadcast cal-status-draft", key: "calendar.legend.draft" },
  { cls: "cal-item cal-campaign cal-status-completed", key: "calendar.legend.done" },
];

/** `/calendar?view=month|week&date=YYYY-MM-DD`: campaigns, broadcasts and live journeys. */
export default function CalendarPage() {
  const { t, lang } = useI18n();
  const ws = useWorkspaceKey();
  const zone = useWorkspaceTimeZone() ?? "UTC";
  const canEdit = useCanEdit();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const view: View = params.get("view") === "week" ? "week" : "month";
  const todayKey = today(zone);
  const dateParam = params.get("date");
  const anchor = dateParam && /^\d{4}-\d{2}-\d{2}$/.test(dateParam) ? dateParam : todayKey;
  const days = useMemo(() => viewDays(view, anchor), [view, anchor]);
  const range = useMemo(() => fetchRange(days, zone), [days, zone]);
  const [dragging, setDragging] = useState<Placed | null>(null);
  const [editing, setEditing] = useState<Placed | null>(null);
  const [message, holder] = antMessage.useMessage();

  const key = ["calendar", ws, range.start, range.end] as const;
  const query = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/api/v1/calendar", { params: { query: range } })),
    placeholderData: keepPreviousData,
  });
  const placed = useMemo(() => placeItems(query.data?.data ?? [], days, zone), [query.data, days, zone]);

  const describe = (change: Reschedule) =>
    "send_at" in change
      ? dateTimeFormat(lang, zone).format(new Date(change.send_at))
      : t("calendar.local", { time: `${change.local_date} ${change.local_time}` });
  const reschedule = useMutation({
    mutationFn: ({ p, change }: { p: Placed; change: Reschedule }) =>
      unwrap(api.PATCH("/api/v1/broadcasts/{broadcast_id}", { params: { path: { broadcast_id: p.item.id } }, body: change })),
    onSuccess: (_, { p, change }) => {
      setEditing(null);
      void message.success(t("calendar.rescheduled", { name: p.item.name, when: describe(change) }));
      void queryClient.invalidateQueries({ queryKey: ["calendar", ws] });
      void queryClient.invalidateQueries({ queryKey: ["broadcasts", ws] });
      void queryClient.invalidateQueries({ queryKey: ["broadcast", ws, p.item.id] });
    },
    onError: (error, { p }) => {
      if (!editing) void message.error(t("calendar.rescheduleFailed", { name: p.item.name, reason: errorText(error, t) }));
    },
  });
  const move = (p: Placed, day: string, time: string | null) => {
    const change = rescheduleTo(p, day, time, zone);
    if (day === p.from && (time ?? p.time) === p.time) return;
    reschedule.mutate({ p, change });
  };
  const ctx: Ctx = {
    zone,
    canEdit,
    dragging,
    setDragging,
    onReschedule: (p) => (reschedule.reset(), setEditing(p)),
    move,
  };

  const go = (next: { view?: View; date?: string }) =>
    setParams({ view: next.view ?? view, date: next.date ?? anchor }, { replace: false });
  const periodLabel =
    view === "month"
      ? new Intl.DateTimeFormat(lang, { year: "numeric", month: "long", timeZone: "UTC" }).format(civilDate(anchor))
      : t("calendar.weekOf", { date: new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" }).format(civilDate(days[0]!)) });
  const prevLabel = view === "month" ? t("calendar.prevMonth") : t("calendar.prevWeek");
  const nextLabel = view === "month" ? t("calendar.nextMonth") : t("calendar.nextWeek");

  let grid: ReactNode;
  if (view === "month") grid = <MonthView anchor={anchor} placed={placed} ctx={ctx} todayKey={todayKey} />;
  else grid = <WeekView anchor={anchor} placed={placed} ctx={ctx} todayKey={todayKey} />;

  return (
    <>
      {holder}
      <div className="page-head">
        <PageTitle title={t("calendar.title")}>{t("calendar.title")}</PageTitle>
      </div>
      <p className="text-secondary page-intro">{t("calendar.zone", { zone })}</p>
      <div className="cal-toolbar">
        <Space wrap>
          <Button icon={<LeftOutlined />} aria-label={prevLabel} title={prevLabel} onClick={() => go({ date: shiftAnchor(view, anchor, -1) })} />
          <Button onClick={() => go({ date: todayKey })}>{t("calendar.today")}</Button>
          <Button icon={<RightOutlined />} aria-label={nextLabel} title={nextLabel} onClick={() => go({ date: shiftAnchor(view, anchor, 1) })} />
          <h2 className="cal-period" aria-live="polite">
            {periodLabel}
          </h2>
          {query.isFetching ? <Spin size="small" /> : null}
        </Space>
        <Radio.Group
          aria-label={t("calendar.view")}
          optionType="button"
          value={view}
          onChange={(e) => go({ view: e.target.value as View })}
          options={[
            { value: "month", label: t("calendar.month") },
            { value: "week", label: t("calendar.week") },
          ]}
        />
      </div>
      <ul className="cal-legend" aria-label={t("calendar.legend")}>
        {LEGEND.map((l) => (
          <li key={l.key}>
            <span className={`${l.cls} cal-swatch`} aria-hidden="true" />
            {t(l.key)}
          </li>
        ))}
      </ul>
      {canEdit ? <p className="text-secondary cal-hint">{t("calendar.dragHint")}</p> : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.isSuccess && placed.length === 0 ? <Alert type="info" showIcon title={t("calendar.empty")} className="page-alert" /> : null}
      <section className={`cal cal-${view}-view${dragging ? " cal-dragging" : ""}`} aria-label={t("calendar.grid", { period: periodLabel })}>
        {grid}
      </section>
      {editing ? (
        <RescheduleModal
          p={editing}
          zone={zone}
          saving={reschedule.isPending}
          error={reschedule.error}
          onSave={(day, time) => reschedule.mutate({ p: editing, change: rescheduleTo(editing, day, time, zone) })}
          onClose={() => setEditing(null)}
        />
      ) : null}
    </>
  );
}
