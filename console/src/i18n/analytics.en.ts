// The Analytics area (dashboard and reports) in English: a feature catalog, registered when
// one of its pages loads (see audiences.en.ts). Add a key here and in analytics.zh-CN.ts
// (TypeScript and the catalog test fail until both have it).
export const analyticsEn = {
  "dashboard.title": "Dashboard",
  "reports.title": "Reports",
};

export type AnalyticsKey = keyof typeof analyticsEn;
