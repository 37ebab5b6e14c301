/**
 * The calendar's layout, pure: which days a view shows, where each item of `GET /calendar`
 * goes in them (in the workspace's time zone), and what a drop means for a draft broadcast.
 */
import { addDays, daysBetween, fromWall, toWall, weekday } from "./zoned";

export type CalendarKind = "campaign" | "broadcast" | "journey";

export interface CalendarEntry {
  kind: CalendarKind;
  id: number;
  name: string;
  status: string;
  starts_at: string | null;
  ends_at: string | null;
  campaign_id: number | null;
  channel?: string | null;
  local_date?: string | null;
  local_time?: string | null;
}

export type View = "month" | "week";

/** Half-hour slots in the week view's time grid. */
export const SLOT_MINUTES = 30;
export const SLOTS_PER_DAY = (24 * 60) / SLOT_MINUTES;

/** The weeks (Monday first) a month view shows: every week that has a day of the month. */
export function monthWeeks(anchor: string): string[][] {
  const first = `${anchor.slice(0, 7)}-01`;
  const lastDay = addDays(`${addDays(first, 31).slice(0, 7)}-01`, -1);
  const weeks: string[][] = [];
  for (let day = addDays(first, -weekday(first)); day <= lastDay; day = addDays(day, 7)) {
    weeks.push(Array.from({ length: 7 }, (_, i) => addDays(day, i)));
  }
  return weeks;
}

/** The week (Monday to Sunday) of `anchor`. */
export function weekDays(anchor: string): string[] {
  const start = addDays(anchor, -weekday(anchor));
  return Array.from({ length: 7 }, (_, i) => addDays(start, i));
}

/** The days a view shows around `anchor`. */
export function viewDays(view: View, anchor: string): string[] {
  return view === "month" ? monthWeeks(anchor).flat() : weekDays(anchor);
}

/** The anchor of the previous or next period. */
export function shiftAnchor(view: View, anchor: string, by: number): string {
  if (view === "week") return addDays(anchor, 7 * by);
  const [y, m] = anchor.split("-").map(Number) as [number, number];
  const index = y * 12 + (m - 1) + by;
  return `${String(Math.floor(index / 12)).padStart(4, "0")}-${String((index % 12) + 1).padStart(2, "0")}-01`;
}

/** `[start, end)` instants of the days shown, for `GET /calendar`. */
export function fetchRange(days: string[], zone: string): { start: string; end: string } {
  return {
    start: fromWall(days[0]!, "00:00", zone).toISOString(),
    end: fromWall(addDays(days[days.length - 1]!, 1), "00:00", zone).toISOString(),
  };
}

/** Where an item is in the workspace's zone: its first and last day, and a time for sends. */
export interface Placed {
  item: CalendarEntry;
  /** first and last day (inclusive); open ends are clipped to the days shown */
  from: string;
  to: string;
  /** the day and time of a broadcast (local-time broadcasts: their local date and time) */
  time: string | null;
  /** a local-time broadcast: each contact's own zone */
  local: boolean;
  /** the span goes on before / after the days shown */
  continuesBefore: boolean;
  continuesAfter: boolean;
}

/** Places the items in the days shown (those outside are dropped). */
export function placeItems(items: CalendarEntry[], days: string[], zone: string): Placed[] {
  const first = days[0]!;
  const last = days[days.length - 1]!;
  const placed: Placed[] = [];
  for (const item of items) {
    if (item.kind === "broadcast") {
      let day: string;
      let time: string;
      const local = Boolean(item.local_date && item.local_time);
      if (local) {
        day = item.local_date!;
        time = item.local_time!;
      } else if (item.starts_at) {
        ({ date: day, time } = toWall(item.starts_at, zone));
      } else continue;
      if (day < first || day > last) continue;
      placed.push({ item, from: day, to: day, time, local, continuesBefore: false, continuesAfter: false });
      continue;
    }
    const start = item.starts_at ? toWall(item.starts_at, zone).date : null;
    // an end instant is exclusive: a campaign ending at midnight ends the day before
    const end = item.ends_at ? toWall(new Date(new Date(item.ends_at).getTime() - 1), zone).date : null;
    const from = start && start > first ? start : first;
    const to = end && end < last ? end : last;
    if (from > last || to < first || to < from) continue;
    placed.push({
      item,
      from,
      to,
      time: null,
      local: false,
      continuesBefore: start === null || start < first,
      continuesAfter: end === null || end > last,
    });
  }
  return placed.sort(
    (a, b) =>
      a.from.localeCompare(b.from) ||
      (a.time ?? "").localeCompare(b.time ?? "") ||
      daysBetween(b.from, b.to) - daysBetween(a.from, a.to) ||
      a.item.kind.localeCompare(b.item.kind) ||
      a.item.id - b.item.id,
  );
}

export interface Bar {
  placed: Placed;
  /** first and last column (0–6) in the week */
  start: number;
  end: number;
  lane: number;
}

/** The spans (campaigns, journeys) of one week, in lanes so that none overlap. */
export function weekBars(placed: Placed[], week: string[]): { bars: Bar[]; lanes: number } {
  const bars: Bar[] = [];
  const laneEnds: number[] = [];
  for (const p of placed) {
    if (p.item.kind === "broadcast") continue;
    if (p.to < week[0]! || p.from > week[6]!) continue;
    const start = Math.max(0, daysBetween(week[0]!, p.from));
    const end = Math.min(6, daysBetween(week[0]!, p.to));
    let lane = laneEnds.findIndex((e) => e < start);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(end);
    } else laneEnds[lane] = end;
    bars.push({ placed: p, start, end, lane });
  }
  return { bars, lanes: laneEnds.length };
}

/** The broadcasts of one day, by time. */
export function sendsOn(placed: Placed[], day: string): Placed[] {
  return placed.filter((p) => p.item.kind === "broadcast" && p.from === day);
}

/** The half-hour slot (0–47) of a wall time. */
export function slotOf(time: string): number {
  const [h, m] = time.split(":").map(Number) as [number, number];
  return Math.min(SLOTS_PER_DAY - 1, Math.floor((h * 60 + m) / SLOT_MINUTES));
}

/** The wall time a slot starts at. */
export function slotTime(slot: number): string {
  const minutes = Math.max(0, Math.min(SLOTS_PER_DAY - 1, slot)) * SLOT_MINUTES;
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** Whether a calendar item can be moved (drafts of broadcasts only: the API changes drafts). */
export function canMove(item: CalendarEntry): boolean {
  return item.kind === "broadcast" && item.status === "draft";
}

/** What `PATCH /broadcasts/{id}` takes to move a broadcast. */
export type Reschedule = { send_at: string } | { local_date: string; local_time: string };

/**
 * A broadcast dropped on `day` (month view: at its current time of day; week view: at
 * `time`). A local-time broadcast keeps being one (its local date and time change); one at an
 * instant gets the instant of that wall time in the workspace's zone.
 */
export function rescheduleTo(placed: Placed, day: string, time: string | null, zone: string): Reschedule {
  const at = time ?? placed.time ?? "09:00";
  if (placed.local) return { local_date: day, local_time: at };
  return { send_at: fromWall(day, at, zone).toISOString() };
}

/** The column (0–6) under a pointer at `x` in an element of `width` starting at `left`. */
export function columnAt(x: number, left: number, width: number, columns = 7): number {
  return Math.max(0, Math.min(columns - 1, Math.floor(((x - left) / width) * columns)));
}
