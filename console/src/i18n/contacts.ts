// The contact pages import this module: it registers their catalog when their chunk loads.
import { contactsEn } from "./contacts.en";
import { contactsZhCN } from "./contacts.zh-CN";
import { registerCatalog } from "./catalogs";

export const contactsCatalogs = { en: contactsEn, "zh-CN": contactsZhCN };
registerCatalog(contactsCatalogs);
