// The scoring pages and the contact profile's Scores tab import this module: it registers
// their catalog when their chunk loads.
import { registerCatalog } from "./catalogs";
import { scoringEn } from "./scoring.en";
import { scoringZhCN } from "./scoring.zh-CN";

export const scoringCatalogs = { en: scoringEn, "zh-CN": scoringZhCN };
registerCatalog(scoringCatalogs);
