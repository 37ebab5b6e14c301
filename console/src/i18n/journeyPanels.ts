// The journey canvas's side panels import this module: it registers their catalog when their chunk loads.
import { journeyPanelsEn } from "./journeyPanels.en";
import { journeyPanelsZhCN } from "./journeyPanels.zh-CN";
import { registerCatalog } from "./catalogs";

export const journeyPanelsCatalogs = { en: journeyPanelsEn, "zh-CN": journeyPanelsZhCN };
registerCatalog(journeyPanelsCatalogs);
