// The offers, forms and landing-page pages import this module: it registers their catalog when their chunk loads.
import { offersEn } from "./offers.en";
import { offersZhCN } from "./offers.zh-CN";
import { registerCatalog } from "./catalogs";

export const offersCatalogs = { en: offersEn, "zh-CN": offersZhCN };
registerCatalog(offersCatalogs);
