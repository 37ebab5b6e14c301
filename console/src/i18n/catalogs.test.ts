import { describe, expect, it } from "vitest";
import { accountsCatalogs } from "./accounts";
import { audiencesCatalogs } from "./audiences";
import { settingsCatalogs } from "./settings";
import { analyticsCatalogs } from "./analytics";
import { contactsCatalogs } from "./contacts";
import { contentCatalogs } from "./content";
import { offersCatalogs } from "./offers";
import { broadcastsCatalogs } from "./broadcasts";
import { campaignsCatalogs } from "./campaigns";
import { journeyPanelsCatalogs } from "./journeyPanels";
import { journeysCatalogs } from "./journeys";
import { leadsCatalogs } from "./leads";
import { leadSettingsCatalogs } from "./leadSettings";
import { scoringCatalogs } from "./scoring";
import { predictCatalogs } from "./predict";
import { catalogs, languageFromBrowser, translate, type Language } from "./catalogs";

const languages = Object.keys(catalogs) as Language[];
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("catalogs", () => {
  it("has English and Simplified Chinese", () => {
    expect(languages.sort()).toEqual(["en", "zh-CN"]);
  });

  it.each(languages)("%s has every key of every other catalog, and no other", (lang) => {
    const keys = Object.keys(catalogs[lang]).sort();
    for (const other of languages) {
      const otherKeys = Object.keys(catalogs[other]).sort();
      expect(keys.filter((k) => !otherKeys.includes(k)), `in ${lang}, missing from ${other}`).toEqual([]);
      expect(otherKeys.filter((k) => !keys.includes(k)), `in ${other}, missing from ${lang}`).toEqual([]);
    }
  });

  it.each(languages)("%s has no empty text", (lang) => {
    const empty = Object.entries(catalogs[lang])
      .filter(([, text]) => typeof text !== "string" || text.trim() === "")
      .map(([key]) => key);
    expect(empty).toEqual([]);
  });

  it.each(languages)("%s uses the same {placeholders} as English", (lang) => {
    const wrong = Object.entries(catalogs.en)
      .filter(([key, text]) => placeholders(text).join() !== placeholders(catalogs[lang][key as keyof typeof catalogs.en]).join())
      .map(([key]) => key);
    expect(wrong).toEqual([]);
  });

  // Feature catalogs (loaded with their pages) follow the same rules, and add no core key.
  describe.each([
    ["audiences", audiencesCatalogs],
    ["accounts", accountsCatalogs],
    ["settings", settingsCatalogs],
    ["analytics", analyticsCatalogs],
    ["contacts", contactsCatalogs],
    ["content", contentCatalogs],
    ["offers", offersCatalogs],
    ["broadcasts", broadcastsCatalogs],
    ["campaigns", campaignsCatalogs],
    ["journeyPanels", journeyPanelsCatalogs],
    ["journeys", journeysCatalogs],
    ["leads", leadsCatalogs],
    ["leadSettings", leadSettingsCatalogs],
    ["scoring", scoringCatalogs],
    ["predict", predictCatalogs],
  ] as const)("the %s catalog", (_, feature) => {
    const featureLanguages = Object.keys(feature) as Language[];

    it("has every language of the core catalogs", () => {
      expect(featureLanguages.sort()).toEqual([...languages].sort());
    });

    it.each(languages)("in %s has the same keys as in English, none empty, the same placeholders", (lang) => {
      const english = feature.en as Record<string, string>;
      const other = feature[lang] as Record<string, string>;
      expect(Object.keys(other).sort()).toEqual(Object.keys(english).sort());
      expect(Object.entries(other).filter(([, text]) => text.trim() === "").map(([k]) => k)).toEqual([]);
      const wrong = Object.keys(english).filter((k) => placeholders(english[k] ?? "").join() !== placeholders(other[k] ?? "").join());
      expect(wrong).toEqual([]);
    });

    it("repeats no key of the core catalog", () => {
      expect(Object.keys(feature.en).filter((k) => k in catalogs.en)).toEqual([]);
    });

    it("is registered: t() finds its strings", () => {
      expect(translate("zh-CN", "segments.title")).toBe("细分");
      expect(translate("en", "builder.condition", { n: "1.2" })).toBe("Condition 1.2");
    });
  });

  it("registers the settings catalog", () => {
    expect(translate("zh-CN", "audit.title")).toBe("审计日志");
    expect(translate("en", "users.passwordShort", { n: 12 })).toBe("At least 12 characters");
  });

  it("fills placeholders", () => {
    expect(translate("en", "login.tooManyAttempts", { seconds: 30 })).toBe(
      "Too many sign-in attempts. Try again in 30 seconds.",
    );
    expect(translate("zh-CN", "login.tooManyAttempts", { seconds: 30 })).toBe("登录尝试次数过多，请在 30 秒后重试。");
  });

  it("defaults to the browser's language", () => {
    expect(languageFromBrowser(["zh-CN", "en"])).toBe("zh-CN");
    expect(languageFromBrowser(["zh-TW"])).toBe("zh-CN");
    expect(languageFromBrowser(["en-GB", "zh-CN"])).toBe("en");
    expect(languageFromBrowser(["fr-FR"])).toBe("en");
    expect(languageFromBrowser([])).toBe("en");
  });
});
