// The accounts pages import this module: it registers their catalog when their chunk loads.
import { accountsEn } from "./accounts.en";
import { accountsZhCN } from "./accounts.zh-CN";
import { registerCatalog } from "./catalogs";

export const accountsCatalogs = { en: accountsEn, "zh-CN": accountsZhCN };
registerCatalog(accountsCatalogs);
