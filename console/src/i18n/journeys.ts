// The Journeys pages import this module: it registers their catalog when their chunk loads.
import { journeysEn } from "./journeys.en";
import { journeysZhCN } from "./journeys.zh-CN";
import { registerCatalog } from "./catalogs";

export const journeysCatalogs = { en: journeysEn, "zh-CN": journeysZhCN };
registerCatalog(journeysCatalogs);
