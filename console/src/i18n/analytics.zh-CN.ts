import type { AnalyticsKey } from "./analytics.en";

// 分析（仪表盘与报表）的简体中文文案。键与 analytics.en.ts 一一对应。
export const analyticsZhCN: Record<AnalyticsKey, string> = {
  "dashboard.title": "仪表盘",
  "reports.title": "报表",
};
