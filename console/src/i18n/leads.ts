// My leads and the task inbox import this module: it registers their catalog when their
// chunk loads.
import { leadsEn } from "./leads.en";
import { leadsZhCN } from "./leads.zh-CN";
import { registerCatalog } from "./catalogs";

export const leadsCatalogs = { en: leadsEn, "zh-CN": leadsZhCN };
registerCatalog(leadsCatalogs);
