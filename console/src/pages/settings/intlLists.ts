// The lists of the workspace form, from the browser's own Intl data (no list shipped with the
// console): IANA time zones, ISO 3166 countries and ISO 4217 currencies, named in the user's
// language. The server checks every value again (422 invalid_timezone / invalid_country /
// invalid_currency), so a browser that knows a code the server does not is still told.
import type { Language } from "../../i18n";

interface IntlWithValues {
  supportedValuesOf?: (key: "timeZone" | "currency") => string[];
}

function supported(key: "timeZone" | "currency"): string[] {
  try {
    return (Intl as unknown as IntlWithValues).supportedValuesOf?.(key) ?? [];
  } catch {
    return [];
  }
}

/** Every IANA zone the browser knows, with UTC first (Intl leaves it out), and `current` kept
 * even when the browser lists it under another name (Asia/Calcutta → Asia/Kolkata). */
export function timeZones(current?: string | null): string[] {
  const zones = supported("timeZone").filter((z) => z !== "UTC");
  const all = ["UTC", ...zones];
  if (current && !all.includes(current)) all.push(current);
  return all;
}

/** The zone's offset now, as "UTC+08:00" (empty when the browser does not know the zone). */
export function zoneOffset(zone: string, now: Date = new Date()): string {
  try {
    const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(now)
      .find((p) => p.type === "timeZoneName")?.value;
    return part ? part.replace("GMT", "UTC").replace(/^UTC$/, "UTC±00:00") : "";
  } catch {
    return "";
  }
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Two-letter codes CLDR names that are not countries (the server refuses them too). */
const NOT_COUNTRIES = new Set(["EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"]);

export interface Named {
  code: string;
  name: string;
}

function displayNames(lang: Language, type: "region" | "currency"): Intl.DisplayNames | null {
  try {
    return new Intl.DisplayNames([lang], { type, fallback: "none" });
  } catch {
    return null;
  }
}

const countryCache = new Map<Language, Named[]>();

/** ISO 3166 alpha-2 countries and territories the browser can name, by name. */
export function countries(lang: Language): Named[] {
  const cached = countryCache.get(lang);
  if (cached) return cached;
  const names = displayNames(lang, "region");
  const out: Named[] = [];
  for (const a of LETTERS) {
    for (const b of LETTERS) {
      const code = a + b;
      if (NOT_COUNTRIES.has(code)) continue;
      const name = names?.of(code);
      if (name && name !== code) out.push({ code, name });
    }
  }
  out.sort((x, y) => x.name.localeCompare(y.name, lang));
  countryCache.set(lang, out);
  return out;
}

const currencyCache = new Map<Language, Named[]>();

/** ISO 4217 currencies the browser knows, by code. */
export function currencies(lang: Language): Named[] {
  const cached = currencyCache.get(lang);
  if (cached) return cached;
  const names = displayNames(lang, "currency");
  const out = supported("currency").map((code) => ({ code, name: names?.of(code) ?? code }));
  currencyCache.set(lang, out);
  return out;
}

/** "FR — France" / "EUR — Euro", or the bare code when the browser cannot name it. */
export function codeAndName(code: string | null | undefined, list: Named[]): string {
  if (!code) return "";
  const found = list.find((n) => n.code === code);
  return found && found.name !== code ? `${code} — ${found.name}` : code;
}
