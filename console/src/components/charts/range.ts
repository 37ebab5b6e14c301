// Date ranges of the analytics pages: whole UTC days, as the reports count them. A range is
// its first and last day ("YYYY-MM-DD", both included); the API gets [first 00:00 UTC, the
// day after the last 00:00 UTC). Kept in the page's address (?from=&to=) so a range can be
// linked to and survives a reload.

export interface DayRange {
  from: string;
  to: string;
}

/** What the reports accept at most (422 invalid_range beyond). */
export const MAX_DAYS = 400;
export const PRESET_DAYS = [7, 30, 90] as const;

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function parse(iso: string): number | null {
  if (!ISO_DAY.test(iso)) return null;
  const time = Date.parse(`${iso}T00:00:00Z`);
  return Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== iso ? null : time;
}

export function addDays(iso: string, days: number): string {
  const time = parse(iso);
  if (time === null) return iso;
  return new Date(time + days * 86_400_000).toISOString().slice(0, 10);
}

/** Today's UTC day (the reports' "today"). */
export function utcToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** The `days` days ending with today (UTC), today included. */
export function lastDays(days: number, today: string = utcToday()): DayRange {
  return { from: addDays(today, -(days - 1)), to: today };
}

/** Days in the range, both ends included. */
export function dayCount(range: DayRange): number {
  const from = parse(range.from);
  const to = parse(range.to);
  return from === null || to === null ? 0 : Math.round((to - from) / 86_400_000) + 1;
}

/** The range's instants for the API: start (first day 00:00 UTC) and end (exclusive). */
export function rangeParams(range: DayRange): { start: string; end: string } {
  return { start: `${range.from}T00:00:00Z`, end: `${addDays(range.to, 1)}T00:00:00Z` };
}

/** The preset the range is, if it is one (ending today). */
export function presetOf(range: DayRange, today: string = utcToday()): number | null {
  if (range.to !== today) return null;
  return PRESET_DAYS.find((days) => dayCount(range) === days) ?? null;
}

/**
 * The range in `?from=&to=`, when valid (real days, from ≤ to, at most MAX_DAYS); else the
 * last `defaultDays` days.
 */
export function rangeFromSearch(params: URLSearchParams, defaultDays: number, today: string = utcToday()): DayRange {
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const range = { from, to };
  if (parse(from) !== null && parse(to) !== null) {
    const days = dayCount(range);
    if (days >= 1 && days <= MAX_DAYS) return range;
  }
  return lastDays(defaultDays, today);
}

/** `params` with the range written into it (the other parameters kept). */
export function withRange(params: URLSearchParams, range: DayRange): URLSearchParams {
  const next = new URLSearchParams(params);
  next.set("from", range.from);
  next.set("to", range.to);
  return next;
}
