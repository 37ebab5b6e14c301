import type { components } from "../../api/schema";

type Schemas = components["schemas"];
export type Offer = Schemas["OfferRead"];
export type OfferCreate = Schemas["OfferCreate"];
export type OfferUpdate = Schemas["OfferUpdate"];
export type Coupon = Schemas["CouponRead"];
export type CodeCounts = Schemas["CodeCounts"];
export type OfferKind = OfferCreate["kind"];
export type CouponMode = NonNullable<OfferCreate["coupon_mode"]>;
export type CodeState = Coupon["status"];

export const KINDS: OfferKind[] = ["discount_percent", "discount_amount", "free_shipping", "gift", "points"];
export const COUPON_MODES: CouponMode[] = ["none", "pool", "static"];
export const CODE_STATES: CodeState[] = ["free", "assigned", "redeemed"];
/** Kinds whose value is required (docs/offers.md). */
export const VALUED_KINDS: OfferKind[] = ["discount_percent", "discount_amount", "points"];

/** The key pattern of the server (`offers/service.py`). */
export const KEY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,99}$/;
/** A code as the server accepts it (upper-cased first): 3–64 of A–Z 0–9 . _ - */
export const CODE_PATTERN = /^[A-Z0-9][A-Z0-9._-]{2,63}$/;
/** A generated code's prefix. */
export const PREFIX_PATTERN = /^[A-Z0-9][A-Z0-9_-]{0,19}$/;
export const MAX_IMPORT = 100_000;

/** Where an offer stands now: its status, else where now lies in its window. */
export type Validity = "active" | "paused" | "archived" | "scheduled" | "ended";

export function validity(offer: Pick<Offer, "status" | "starts_at" | "ends_at">, now: Date = new Date()): Validity {
  if (offer.status === "archived") return "archived";
  if (offer.status === "paused") return "paused";
  if (offer.ends_at && new Date(offer.ends_at) <= now) return "ended";
  if (offer.starts_at && new Date(offer.starts_at) > now) return "scheduled";
  return "active";
}

/**
 * Low stock: a pool with codes left for at most a tenth of its size, or fewer than 20 —
 * and never for an offer that can no longer be given (ended, archived), whose free codes
 * are expired, not scarce.
 */
export const LOW_STOCK_SHARE = 0.1;
export const LOW_STOCK_MIN = 20;

export function isLowStock(counts: CodeCounts | null | undefined, state: Validity): boolean {
  if (!counts || state === "ended" || state === "archived") return false;
  return counts.free <= Math.max(LOW_STOCK_MIN, Math.floor(counts.total * LOW_STOCK_SHARE));
}

/**
 * Codes never redeemed of an offer whose window has ended: the free ones were never given,
 * the assigned ones were given and not used in time. Both are expired (the server keeps them
 * as they were; an order may still bring one, and it would still be recorded).
 */
export function expiredCounts(counts: CodeCounts | null | undefined, state: Validity): { free: number; assigned: number } {
  if (!counts || state !== "ended") return { free: 0, assigned: 0 };
  return { free: counts.free, assigned: counts.assigned };
}

export interface ParsedCodes {
  /** The codes to send, upper-cased, first occurrence only. */
  codes: string[];
  /** Lines (1-based) whose code the server would refuse, with the text. */
  invalid: { line: number; text: string }[];
  /** Codes given more than once in the text. */
  repeated: number;
  /** A header line (“code”, “coupon”, …) skipped. */
  header: boolean;
}

const HEADER = /^"?(codes?|coupons?|coupon[ _]codes?|voucher[ _]?codes?|券码|优惠码|兑换码)"?$/i;

/**
 * Codes pasted or read from a file: one per line, or a CSV whose first column is the code
 * (a header naming it is skipped; quotes are removed). Blank lines are skipped. Codes are
 * upper-cased as the server stores them; the ones it would refuse are listed by line, so the
 * user fixes the file before anything is sent (the server refuses the whole import then).
 */
export function parseCodes(text: string): ParsedCodes {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  const seen = new Set<string>();
  const out: ParsedCodes = { codes: [], invalid: [], repeated: 0, header: false };
  lines.forEach((raw, i) => {
    const first = raw.split(/[,;\t]/)[0] ?? "";
    const cell = first.trim().replace(/^"(.*)"$/, "$1").trim();
    if (!cell) return;
    if (i === 0 && HEADER.test(cell)) {
      out.header = true;
      return;
    }
    const code = cell.toUpperCase();
    if (!CODE_PATTERN.test(code)) {
      out.invalid.push({ line: i + 1, text: cell });
      return;
    }
    if (seen.has(code)) {
      out.repeated += 1;
      return;
    }
    seen.add(code);
    out.codes.push(code);
  });
  return out;
}

/** datetime-local value ("2026-03-01T09:30") in `zone` → ISO instant; inverse below. */
export function zonedToIso(local: string, zone: string | null): string | null {
  if (!local) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  if (!zone) return new Date(y, mo - 1, d, h, mi).toISOString();
  // the zone's offset at that moment (twice: across a DST change the first guess may be off)
  let guess = asUtc - offsetOf(asUtc, zone);
  guess = asUtc - offsetOf(guess, zone);
  return new Date(guess).toISOString();
}

export function isoToZoned(iso: string | null | undefined, zone: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const shifted = zone ? new Date(date.getTime() + offsetOf(date.getTime(), zone)) : new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

function offsetOf(instant: number, zone: string): number {
  try {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    }).formatToParts(new Date(instant));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
    return wall - Math.floor(instant / 1000) * 1000;
  } catch {
    return 0;
  }
}

/** The offer's value as people read it: "15%", "€5.00", "1,500 points" (the catalog words it). */
export function formatValue(
  offer: Pick<Offer, "kind" | "value" | "currency">,
  lang: string,
): string | null {
  if (offer.value === null || offer.value === undefined) return null;
  if (offer.kind === "discount_percent") return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 2 }).format(offer.value / 100);
  if (offer.kind === "discount_amount" && offer.currency) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: offer.currency }).format(offer.value);
    } catch {
      return `${offer.value} ${offer.currency}`;
    }
  }
  return new Intl.NumberFormat(lang).format(offer.value);
}
