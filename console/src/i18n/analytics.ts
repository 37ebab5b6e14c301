// The Analytics pages import this module: it registers their catalog when their chunk loads.
import { analyticsEn } from "./analytics.en";
import { analyticsZhCN } from "./analytics.zh-CN";
import { registerCatalog } from "./catalogs";

export const analyticsCatalogs = { en: analyticsEn, "zh-CN": analyticsZhCN };
registerCatalog(analyticsCatalogs);
