// The Content pages (templates) import this module: it registers their catalog when their chunk loads.
import { contentEn } from "./content.en";
import { contentZhCN } from "./content.zh-CN";
import { registerCatalog } from "./catalogs";

export const contentCatalogs = { en: contentEn, "zh-CN": contentZhCN };
registerCatalog(contentCatalogs);
