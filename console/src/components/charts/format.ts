// Numbers, money, rates and days in the user's language (Intl), for the analytics pages, their
// charts and their data tables. The reports' days are UTC days named "YYYY-MM-DD": they are
// formatted in UTC, so a day is never shown as the one before in a time zone west of UTC.
import type { Language } from "../../i18n";

export interface Formats {
  lang: Language;
  /** 12,345 / 12,345 */
  number: (n: number) => string;
  /** 12.3K / 1.2万: axis labels */
  compact: (n: number) => string;
  /** a rate 0..1 as 12.3 % */
  percent: (rate: number | null | undefined) => string;
  /** an amount in `currency` (ISO 4217), or a plain number when the report has none */
  money: (amount: number, currency: string | null | undefined) => string;
  /** a compact amount for axis labels */
  compactMoney: (amount: number, currency: string | null | undefined) => string;
  /** "2026-03-02" → "Mar 2" / "3月2日" */
  day: (iso: string) => string;
  /** "2026-03-02" → "Mar 2, 2026" / "2026年3月2日" */
  dayLong: (iso: string) => string;
  /** a period named by its first day: "March 2026" for a month, else the day ("Mar 2, 2026") */
  period: (iso: string, interval: "day" | "week" | "month") => string;
}

/** "YYYY-MM-DD" → a Date at that day's UTC midnight (null when not such a date). */
export function utcDate(iso: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return null;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(date.getTime()) ? null : date;
}

const cache = new Map<string, Formats>();

export function formatsFor(lang: Language): Formats {
  const cached = cache.get(lang);
  if (cached) return cached;
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  const compact = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  const money = new Map<string, Intl.NumberFormat>();
  const moneyIn = (currency: string, compactForm: boolean): Intl.NumberFormat | null => {
    const key = `${currency}:${compactForm}`;
    let format = money.get(key);
    if (!format) {
      try {
        format = new Intl.NumberFormat(lang, {
          style: "currency",
          currency,
          ...(compactForm ? { notation: "compact", maximumFractionDigits: 1 } : {}),
        });
      } catch {
        return null; // not an ISO 4217 code Intl knows: the number and the code
      }
      money.set(key, format);
    }
    return format;
  };
  const day = new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", timeZone: "UTC" });
  const dayLong = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });
  const month = new Intl.DateTimeFormat(lang, { year: "numeric", month: "long", timeZone: "UTC" });
  const onDate = (format: Intl.DateTimeFormat) => (iso: string) => {
    const date = utcDate(iso);
    return date ? format.format(date) : iso;
  };
  const formats: Formats = {
    lang,
    number: (n) => number.format(n),
    compact: (n) => compact.format(n),
    percent: (rate) => (rate === null || rate === undefined ? "—" : percent.format(rate)),
    money: (amount, currency) => {
      const format = currency ? moneyIn(currency, false) : null;
      if (format) return format.format(amount);
      return currency ? `${currency} ${number.format(amount)}` : number.format(amount);
    },
    compactMoney: (amount, currency) => {
      const format = currency ? moneyIn(currency, true) : null;
      return format ? format.format(amount) : compact.format(amount);
    },
    day: onDate(day),
    dayLong: onDate(dayLong),
    period: (iso, interval) => onDate(interval === "month" ? month : dayLong)(iso),
  };
  cache.set(lang, formats);
  return formats;
}

/**
 * The time a UTC day starts at in `zone` (today's offset), as the user reads times: "8:00 AM"
 * for Asia/Shanghai; null when it is midnight there too (UTC, London in winter) or the zone
 * is unknown.
 */
export function utcMidnightIn(zone: string | null | undefined, lang: Language, now: Date = new Date()): string | null {
  if (!zone) return null;
  const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  try {
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(midnight);
    const hour = parts.find((p) => p.type === "hour")?.value;
    const minute = parts.find((p) => p.type === "minute")?.value;
    if (hour === "00" && minute === "00") return null;
    return new Intl.DateTimeFormat(lang, { timeZone: zone, hour: "numeric", minute: "2-digit" }).format(midnight);
  } catch {
    return null;
  }
}
