import { en, type Catalog, type MessageKey } from "./en";
import { zhCN } from "./zh-CN";

export type Language = "en" | "zh-CN";
export type { MessageKey, Catalog };

export const LANGUAGES: { code: Language; label: string }[] = [
  { code: "en", label: "English" },
  { code: "zh-CN", label: "中文" },
];

export const catalogs: Record<Language, Catalog> = { en, "zh-CN": zhCN };

export type Params = Record<string, string | number>;

export function translate(lang: Language, key: MessageKey, params?: Params): string {
  const text = catalogs[lang][key] ?? catalogs.en[key] ?? key;
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
