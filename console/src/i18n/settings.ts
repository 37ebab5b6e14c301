// The Settings pages import this module: it registers their catalog when their chunk loads.
import { settingsEn } from "./settings.en";
import { settingsZhCN } from "./settings.zh-CN";
import { registerCatalog } from "./catalogs";

export const settingsCatalogs = { en: settingsEn, "zh-CN": settingsZhCN };
registerCatalog(settingsCatalogs);
