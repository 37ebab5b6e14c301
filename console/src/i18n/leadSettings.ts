// Settings → Lead management, Settings → CRM and the contact profile's CRM panel import this
// module: it registers their catalog when their chunk loads.
import { leadSettingsEn } from "./leadSettings.en";
import { leadSettingsZhCN } from "./leadSettings.zh-CN";
import { registerCatalog } from "./catalogs";

export const leadSettingsCatalogs = { en: leadSettingsEn, "zh-CN": leadSettingsZhCN };
registerCatalog(leadSettingsCatalogs);
