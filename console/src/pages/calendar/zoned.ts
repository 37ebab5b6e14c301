/**
 * Wall-clock dates and times in an IANA time zone, with Intl only (no time-zone library).
 *
 * A day is a civil date string `YYYY-MM-DD`; a wall time is `HH:MM`. Instants are `Date`s
 * (or ISO strings from the API). The workspace's zone decides which day an instant falls on.
 */

export interface Wall {
  date: string; // YYYY-MM-DD
  time: string; // HH:MM
}

const partFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormat(zone: string): Intl.DateTimeFormat {
  let f = partFormatters.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch {
      f = partsFormat("UTC");
    }
    partFormatters.set(zone, f);
  }
  return f;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function fields(instant: Date, zone: string): [number, number, number, number, number, number] {
  const get: Record<string, number> = {};
  for (const p of partsFormat(zone).formatToParts(instant)) if (p.type !== "literal") get[p.type] = Number(p.value);
  return [get.year!, get.month!, get.day!, get.hour! % 24, get.minute!, get.second!];
}

/** The wall date and time of `instant` in `zone`. */
export function toWall(instant: Date | string, zone: string): Wall {
  const d = typeof instant === "string" ? new Date(instant) : instant;
  const [y, m, day, h, min] = fields(d, zone);
  return { date: `${pad(y, 4)}-${pad(m)}-${pad(day)}`, time: `${pad(h)}:${pad(min)}` };
}

/** The offset of `zone` from UTC at `instant`, in minutes (Shanghai: +480). */
export function offsetMinutes(instant: Date, zone: string): number {
  const [y, m, d, h, min, s] = fields(instant, zone);
  const asUtc = Date.UTC(y, m - 1, d, h, min, s);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/**
 * The instant at which `zone`'s clocks show `date` `time`. In a gap (spring forward) the
 * instant after the gap; in an overlap (fall back) the earlier one.
 */
export function fromWall(date: string, time: string, zone: string): Date {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const [h, min] = time.split(":").map(Number) as [number, number];
  const guess = Date.UTC(y, m - 1, d, h, min);
  const first = guess - offsetMinutes(new Date(guess), zone) * 60_000;
  const second = guess - offsetMinutes(new Date(first), zone) * 60_000;
  if (first === second) return new Date(first);
  // the offset changes around this wall time: take the reading that shows it, else the later
  const shows = (t: number) => {
    const w = toWall(new Date(t), zone);
    return w.date === date && w.time === `${pad(h)}:${pad(min)}`;
  };
  const earlier = Math.min(first, second);
  if (shows(earlier)) return new Date(earlier);
  if (shows(Math.max(first, second))) return new Date(Math.max(first, second));
  return new Date(Math.max(first, second));
}

/** `date` plus `days` (civil arithmetic, no zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** 0 = Monday … 6 = Sunday. */
export function weekday(date: string): number {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

/** Days from `a` to `b` (b − a). */
export function daysBetween(a: string, b: string): number {
  const t = (s: string) => {
    const [y, m, d] = s.split("-").map(Number) as [number, number, number];
    return Date.UTC(y, m - 1, d);
  };
  return Math.round((t(b) - t(a)) / 86_400_000);
}

/** A Date whose local fields read `date` at noon: for formatting a civil date with Intl in UTC. */
export function civilDate(date: string): Date {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d, 12));
}

/** Today's date in `zone`. */
export function today(zone: string, now: Date = new Date()): string {
  return toWall(now, zone).date;
}
