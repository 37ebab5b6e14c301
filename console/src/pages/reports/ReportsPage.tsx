// /reports/*: the reports index and each report, every one a chunk of its own (ECharts is
// another, loaded with the first chart).
import { lazy, Suspense } from "react";
import { Spin } from "antd";
import { Route, Routes } from "react-router";
import "../../i18n/analytics";

const ReportsIndexPage = lazy(() => import("./ReportsIndexPage"));
const CampaignReportPage = lazy(() => import("./CampaignReportPage"));
const BroadcastReportPage = lazy(() => import("./BroadcastReportPage"));
const JourneyReportPage = lazy(() => import("./JourneyReportPage"));
const FunnelReportPage = lazy(() => import("./FunnelReportPage"));
const TimeseriesReportPage = lazy(() => import("./TimeseriesReportPage"));
const LifecycleReportPage = lazy(() => import("./LifecycleReportPage"));
const NotFoundPage = lazy(() => import("../NotFoundPage"));

export default function ReportsPage() {
  return (
    <Suspense fallback={<Spin className="page-spin" />}>
      <Routes>
        <Route index element={<ReportsIndexPage />} />
        <Route path="campaigns/:id" element={<CampaignReportPage />} />
        <Route path="broadcasts/:id" element={<BroadcastReportPage />} />
        <Route path="journeys/:id" element={<JourneyReportPage />} />
        <Route path="funnel" element={<FunnelReportPage />} />
        <Route path="timeseries" element={<TimeseriesReportPage />} />
        <Route path="lifecycle" element={<LifecycleReportPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Suspense>
  );
}
