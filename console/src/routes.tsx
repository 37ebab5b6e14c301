import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router";
import { FullPageSpin, RequireSession, useSession } from "./auth/SessionProvider";

// One chunk per page, and one for the signed-in shell: the sign-in page carries neither.
const AppShell = lazy(() => import("./layout/AppShell").then((m) => ({ default: m.AppShell })));
const LoginPage = lazy(() => import("./pages/LoginPage"));
const SetupPage = lazy(() => import("./pages/SetupPage"));
const ContactsPage = lazy(() => import("./pages/contacts/ContactsPage"));
const ContactProfilePage = lazy(() => import("./pages/contacts/ContactProfilePage"));
const SegmentsPage = lazy(() => import("./pages/segments/SegmentsPage"));
const SegmentPage = lazy(() => import("./pages/segments/SegmentPage"));
const ComputedTraitsPage = lazy(() => import("./pages/computedTraits/ComputedTraitsPage"));
const TagRulesPage = lazy(() => import("./pages/tagRules/TagRulesPage"));
const ScoringPage = lazy(() => import("./pages/scoring/ScoringPage"));
const ScoreModelPage = lazy(() => import("./pages/scoring/ScoreModelPage"));
const PredictiveModelsPage = lazy(() => import("./pages/predictive/PredictiveModelsPage"));
const PredictiveModelPage = lazy(() => import("./pages/predictive/PredictiveModelPage"));
const AccountsPage = lazy(() => import("./pages/accounts/AccountsPage"));
const AccountPage = lazy(() => import("./pages/accounts/AccountPage"));
const UsersPage = lazy(() => import("./pages/settings/UsersPage"));
const KeysPage = lazy(() => import("./pages/settings/KeysPage"));
const AuditLogPage = lazy(() => import("./pages/settings/AuditLogPage"));
const DashboardPage = lazy(() => import("./pages/dashboard/DashboardPage"));
const ReportsPage = lazy(() => import("./pages/reports/ReportsPage"));
const WorkspacePage = lazy(() => import("./pages/settings/WorkspacePage"));
const ChannelsPage = lazy(() => import("./pages/settings/ChannelsPage"));
const TopicsPage = lazy(() => import("./pages/settings/TopicsPage"));
const MessagingPolicyPage = lazy(() => import("./pages/settings/MessagingPolicyPage"));
const AttributesPage = lazy(() => import("./pages/settings/AttributesPage"));
const LeadManagementPage = lazy(() => import("./pages/settings/LeadManagementPage"));
const CrmPage = lazy(() => import("./pages/settings/CrmPage"));
const TemplatesPage = lazy(() => import("./pages/templates/TemplatesPage"));
const TemplatePage = lazy(() => import("./pages/templates/TemplatePage"));
const JourneysPage = lazy(() => import("./pages/journeys/JourneysPage"));
const JourneyPage = lazy(() => import("./pages/journeys/JourneyPage"));
const BroadcastsPage = lazy(() => import("./pages/broadcasts/BroadcastsPage"));
const BroadcastPage = lazy(() => import("./pages/broadcasts/BroadcastPage"));
const NewBroadcastPage = lazy(() => import("./pages/broadcasts/BroadcastPage").then((m) => ({ default: m.NewBroadcastPage })));
const CampaignsPage = lazy(() => import("./pages/campaigns/CampaignsPage"));
const CampaignPage = lazy(() => import("./pages/campaigns/CampaignPage"));
const CalendarPage = lazy(() => import("./pages/calendar/CalendarPage"));
const OffersPage = lazy(() => import("./pages/offers/OffersPage"));
const OfferPage = lazy(() => import("./pages/offers/OfferPage"));
const FormsPage = lazy(() => import("./pages/forms/FormsPage"));
const FormPage = lazy(() => import("./pages/forms/FormPage"));
const LandingPagesPage = lazy(() => import("./pages/landingPages/LandingPagesPage"));
const LandingPagePage = lazy(() => import("./pages/landingPages/LandingPagePage"));
const LeadsPage = lazy(() => import("./pages/leads/LeadsPage"));
const TasksPage = lazy(() => import("./pages/leads/TasksPage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));

/** Where signing in lands: a sales user's leads, everyone else's dashboard. */
function HomeRedirect() {
  const { workspace } = useSession();
  return <Navigate to={workspace?.role === "sales" ? "/leads" : "/dashboard"} replace />;
}

export function AppRoutes() {
  return (
    <Suspense fallback={<FullPageSpin />}>
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/setup" element={<SetupPage />} />
        <Route
          element={
            <RequireSession>
              <AppShell />
            </RequireSession>
          }
        >
          <Route index element={<HomeRedirect />} />
          <Route path="dashboard" element={<DashboardPage />} />
          <Route path="reports/*" element={<ReportsPage />} />
          <Route path="contacts" element={<ContactsPage />} />
          <Route path="contacts/:id" element={<ContactProfilePage />} />
          <Route path="segments" element={<SegmentsPage />} />
          <Route path="segments/new" element={<SegmentPage key="new" />} />
          <Route path="segments/:id" element={<SegmentPage />} />
          <Route path="computed-traits" element={<ComputedTraitsPage />} />
          <Route path="tag-rules" element={<TagRulesPage />} />
          <Route path="scoring" element={<ScoringPage />} />
          <Route path="scoring/:id" element={<ScoreModelPage />} />
          <Route path="predictive-models" element={<PredictiveModelsPage />} />
          <Route path="predictive-models/:id" element={<PredictiveModelPage />} />
          <Route path="accounts" element={<AccountsPage />} />
          <Route path="accounts/:id" element={<AccountPage />} />
          <Route path="templates" element={<TemplatesPage />} />
          <Route path="templates/new" element={<TemplatePage key="new" />} />
          <Route path="templates/:id" element={<TemplatePage />} />
          <Route path="journeys" element={<JourneysPage />} />
          <Route path="journeys/new" element={<JourneyPage key="new" />} />
          <Route path="journeys/:id" element={<JourneyPage />} />
          <Route path="offers" element={<OffersPage />} />
          <Route path="offers/new" element={<OfferPage key="new" />} />
          <Route path="offers/:id" element={<OfferPage />} />
          <Route path="forms" element={<FormsPage />} />
          <Route path="forms/new" element={<FormPage key="new" />} />
          <Route path="forms/:id" element={<FormPage />} />
          <Route path="landing-pages" element={<LandingPagesPage />} />
          <Route path="landing-pages/new" element={<LandingPagePage key="new" />} />
          <Route path="landing-pages/:id" element={<LandingPagePage />} />
          <Route path="campaigns" element={<CampaignsPage />} />
          <Route path="campaigns/new" element={<CampaignPage key="new" />} />
          <Route path="campaigns/:id" element={<CampaignPage />} />
          <Route path="calendar" element={<CalendarPage />} />
          <Route path="leads" element={<LeadsPage />} />
          <Route path="tasks" element={<TasksPage />} />
          <Route path="broadcasts" element={<BroadcastsPage />} />
          <Route path="broadcasts/new" element={<NewBroadcastPage />} />
          <Route path="broadcasts/:id" element={<BroadcastPage />} />
          <Route path="settings/workspace" element={<WorkspacePage />} />
          <Route path="settings/channels" element={<ChannelsPage />} />
          <Route path="settings/topics" element={<TopicsPage />} />
          <Route path="settings/messaging" element={<MessagingPolicyPage />} />
          <Route path="settings/attributes" element={<AttributesPage />} />
          <Route path="settings/leads" element={<LeadManagementPage />} />
          <Route path="settings/crm" element={<CrmPage />} />
          <Route path="settings/users" element={<UsersPage />} />
          <Route path="settings/keys" element={<KeysPage />} />
          <Route path="settings/audit-log" element={<AuditLogPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
