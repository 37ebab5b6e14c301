// The predictive model pages and the contact profile's Predictions tab import this module:
// it registers their catalog when their chunk loads.
import { registerCatalog } from "./catalogs";
import { predictEn } from "./predict.en";
import { predictZhCN } from "./predict.zh-CN";

export const predictCatalogs = { en: predictEn, "zh-CN": predictZhCN };
registerCatalog(predictCatalogs);
