import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import dayjs from "dayjs";
import "dayjs/locale/zh-cn";
import {
  isMessageKey,
  LANGUAGES,
  registerCatalog,
  languageFromBrowser,
  translate,
  type Language,
  type MessageKey,
  type Params,
} from "./catalogs";

export { LANGUAGES, translate, languageFromBrowser, isMessageKey, registerCatalog };
export type { Language, MessageKey, Params };

export const LANGUAGE_STORAGE_KEY = "kairos.language";

function isLanguage(value: unknown): value is Language {
  return LANGUAGES.some((l) => l.code === value);
}

/** The saved choice, else the browser's language. */
export function initialLanguage(): Language {
  try {
    const saved = window.localStorage.getItem(LANGUAGE_STORAGE_KEY);
    if (isLanguage(saved)) return saved;
  } catch {
    // storage disabled: fall through to the browser's language
  }
  const tags = navigator.languages?.length ? navigator.languages : [navigator.language];
  return languageFromBrowser(tags.filter(Boolean));
}

export interface I18n {
  lang: Language;
  setLang: (lang: Language) => void;
  t: (key: MessageKey, params?: Params) => string;
  /** Date and time in the chosen language and the browser's time zone. */
  formatDateTime: (iso: string | null | undefined) => string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children, language }: { children: ReactNode; language?: Language }) {
  const [lang, setLangState] = useState<Language>(() => language ?? initialLanguage());

  const setLang = useCallback((next: Language) => {
    setLangState(next);
    try {
      window.localStorage.setItem(LANGUAGE_STORAGE_KEY, next);
    } catch {
      // not persisted: the choice lasts for this page
    }
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
    dayjs.locale(lang === "zh-CN" ? "zh-cn" : "en");
  }, [lang]);

  const value = useMemo<I18n>(() => {
    const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    return {
      lang,
      setLang,
      t: (key, params) => translate(lang, key, params),
      formatDateTime: (iso) => {
        if (!iso) return translate(lang, "common.none");
        const date = new Date(iso);
        return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
      },
    };
  }, [lang, setLang]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
