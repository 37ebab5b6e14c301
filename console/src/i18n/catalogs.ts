import type { AccountsKey } from "./accounts.en";
import type { AnalyticsKey } from "./analytics.en";
import type { AudiencesKey } from "./audiences.en";
import type { BroadcastsKey } from "./broadcasts.en";
import type { CampaignsKey } from "./campaigns.en";
import type { ContactsKey } from "./contacts.en";
import type { ContentKey } from "./content.en";
import type { OffersKey } from "./offers.en";
import type { JourneyPanelsKey } from "./journeyPanels.en";
import type { JourneysKey } from "./journeys.en";
import type { LeadsKey } from "./leads.en";
import type { LeadSettingsKey } from "./leadSettings.en";
import type { PredictKey } from "./predict.en";
import type { ScoringKey } from "./scoring.en";
import type { SettingsKey } from "./settings.en";
import { en, type Catalog, type MessageKey as CoreKey } from "./en";
import { zhCN } from "./zh-CN";

export type Language = "en" | "zh-CN";
export type { Catalog };

/**
 * Every key `t` takes: the core catalog's (in the first download) and those of the feature
 * catalogs, which a feature's pages register when their chunk loads (`registerCatalog`).
 * Only the feature's own pages may use its keys. The import above is of a type only: the
 * feature's strings stay out of the entry chunk.
 */
export type MessageKey =
  | CoreKey
  | CampaignsKey
  | AudiencesKey
  | SettingsKey
  | AnalyticsKey
  | ContactsKey
  | ContentKey
  | OffersKey
  | JourneyPanelsKey
  | JourneysKey
  | LeadsKey
  | LeadSettingsKey
  | BroadcastsKey
  | ScoringKey
  | PredictKey
  | AccountsKey;

export const LANGUAGES: { code: Language; label: string }[] = [
  { code: "en", label: "English" },
  { code: "zh-CN", label: "中文" },
];

export const catalogs: Record<Language, Catalog> = { en, "zh-CN": zhCN };

/** The strings of the feature catalogs loaded so far. */
const registered: Record<Language, Record<string, string>> = { en: {}, "zh-CN": {} };

/** Adds a feature's catalog (one per language, the same keys: see catalogs.test.ts). */
export function registerCatalog(parts: Record<Language, Record<string, string>>): void {
  for (const lang of Object.keys(registered) as Language[]) Object.assign(registered[lang], parts[lang]);
}

export type Params = Record<string, string | number>;

function lookup(lang: Language, key: string): string | undefined {
  return (catalogs[lang] as Record<string, string | undefined>)[key] ?? registered[lang][key];
}

export function translate(lang: Language, key: MessageKey, params?: Params): string {
  const text = lookup(lang, key) ?? lookup("en", key) ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** The language of a browser language tag list: Chinese for any `zh*`, else English. */
export function languageFromBrowser(tags: readonly string[]): Language {
  for (const tag of tags) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

/** Whether `key` is a key of the catalogs (for keys built from data, e.g. an operator's key). */
export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key) || Object.prototype.hasOwnProperty.call(registered.en, key);
}
