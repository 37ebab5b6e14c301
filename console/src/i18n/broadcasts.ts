// The broadcast pages import this module: it registers their catalog when their chunk loads.
import { broadcastsEn } from "./broadcasts.en";
import { broadcastsZhCN } from "./broadcasts.zh-CN";
import { registerCatalog } from "./catalogs";

export const broadcastsCatalogs = { en: broadcastsEn, "zh-CN": broadcastsZhCN };
registerCatalog(broadcastsCatalogs);
