// The campaign, calendar and notification pages import this module: it registers their
// catalog when their chunk loads.
import { campaignsEn } from "./campaigns.en";
import { campaignsZhCN } from "./campaigns.zh-CN";
import { registerCatalog } from "./catalogs";

export const campaignsCatalogs = { en: campaignsEn, "zh-CN": campaignsZhCN };
registerCatalog(campaignsCatalogs);
