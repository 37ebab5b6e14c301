// The Audiences pages import this module: it registers their catalog when their chunk loads.
import { audiencesEn } from "./audiences.en";
import { audiencesZhCN } from "./audiences.zh-CN";
import { registerCatalog } from "./catalogs";

export const audiencesCatalogs = { en: audiencesEn, "zh-CN": audiencesZhCN };
registerCatalog(audiencesCatalogs);
