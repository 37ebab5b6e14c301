import { lazy, Suspense, useEffect, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { Alert, Descriptions, Space, Spin, Tabs, type DescriptionsProps } from "antd";
import { ArrowLeftOutlined } from "@ant-design/icons";
import { Link, useLocation, useNavigate, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { contactLabel, type ContactWithTraits } from "../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { AcquisitionSection } from "./profile/AcquisitionSection";
import { DangerZone, useCanErase } from "./profile/DangerZone";
import { EventTimeline } from "./profile/EventTimeline";
import { LifecycleSection } from "./profile/LifecycleSection";
import { ProfileEditor } from "./profile/ProfileEditor";
import {
  IdentitiesSection,
  JourneysSection,
  MessagesSection,
  SegmentsSection,
  SubscriptionsSection,
  TraitsSection,
} from "./profile/ProfileSections";
import { contactKey, ProfileTags } from "./profile/ProfileTags";
import "../../i18n/contacts";

// its own chunk (with the CRM strings), loaded when the tab opens
const CrmSyncPanel = lazy(() => import("./profile/CrmSyncPanel"));
// its own chunk too (with the scoring strings)
const ScoresPanel = lazy(() => import("./profile/ScoresPanel"));
// and the predictions (with the predictive model strings)
const PredictionsPanel = lazy(() => import("./profile/PredictionsPanel"));

const TABS = ["activity", "traits", "lifecycle", "identities", "segments", "subscriptions", "journeys", "messages", "scores", "predictions", "crm"] as const;
type TabKey = (typeof TABS)[number];
const isTab = (value: string | null): value is TabKey => (TABS as readonly (string | null)[]).includes(value);

function mergedFrom(state: unknown): number | null {
  if (typeof state === "object" && state !== null && "mergedFrom" in state) {
    const value = (state as { mergedFrom: unknown }).mergedFrom;
    return typeof value === "number" ? value : null;
  }
  return null;
}

function Details({ contact, actions }: { contact: ContactWithTraits; actions?: ReactNode }) {
  const { t } = useI18n();
  const text = (value: string | null) => value ?? t("common.none");
  const items: DescriptionsProps["items"] = [
    { key: "id", label: t("profile.field.id"), children: contact.id },
    { key: "external_id", label: t("profile.field.externalId"), children: text(contact.external_id) },
    { key: "email", label: t("profile.field.email"), children: text(contact.email) },
    { key: "phone", label: t("profile.field.phone"), children: text(contact.phone) },
    { key: "first_name", label: t("profile.field.firstName"), children: text(contact.first_name) },
    { key: "last_name", label: t("profile.field.lastName"), children: text(contact.last_name) },
    { key: "stage", label: t("profile.field.stage"), children: text(contact.lifecycle_stage) },
    { key: "score", label: t("profile.field.score"), children: contact.score },
    { key: "timezone", label: t("profile.field.timezone"), children: text(contact.timezone) },
    { key: "locale", label: t("profile.field.locale"), children: text(contact.locale) },
    { key: "created", label: t("profile.field.created"), children: <DateTime value={contact.created_at} /> },
    { key: "updated", label: t("profile.field.updated"), children: <DateTime value={contact.updated_at} /> },
  ];
  return (
    <section aria-labelledby="profile-details">
      <Descriptions
        title={
          <h2 id="profile-details" className="section-title">
            {t("profile.details")}
          </h2>
        }
        extra={actions}
        size="small"
        bordered
        column={{ xs: 1, sm: 1, md: 2, lg: 3 }}
        items={items}
      />
    </section>
  );
}

export default function ContactProfilePage() {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const navigate = useNavigate();
  const location = useLocation();
  const { id: idParam } = useParams();
  const canEdit = useCanEdit();
  const canErase = useCanErase();
  const [params, setParams] = useSearchParams();
  const tabParam = params.get("tab");
  const tab: TabKey = isTab(tabParam) ? tabParam : "activity";
  const id = /^\d+$/.test(idParam ?? "") ? Number(idParam) : null;

  const query = useQuery({
    queryKey: contactKey(workspace, id ?? 0),
    queryFn: () =>
      unwrap(api.GET("/api/v1/contacts/{contact_id}", { params: { path: { contact_id: id ?? 0 } } })),
    enabled: id !== null,
  });
  const contact = query.data;

  // A merged contact answers with the one it was merged into: show that one's address.
  useEffect(() => {
    if (contact && id !== null && contact.id !== id) {
      navigate(
        { pathname: `/contacts/${contact.id}`, search: location.search },
        { replace: true, state: { mergedFrom: id } },
      );
    }
  }, [contact, id, navigate, location.search]);

  const back = (
    <Link to="/contacts">
      <Space size={4}>
        <ArrowLeftOutlined />
        {t("profile.back")}
      </Space>
    </Link>
  );

  const notFound =
    id === null || (query.error instanceof ApiError && query.error.status === 404);
  if (notFound) {
    return (
      <>
        {back}
        <PageTitle title={t("profile.notFound")}>{t("profile.notFound")}</PageTitle>
      </>
    );
  }
  if (query.isError) {
    return (
      <>
        {back}
        <PageTitle title={t("contacts.unnamed", { id: id ?? "" })}>{t("contacts.unnamed", { id: id ?? "" })}</PageTitle>
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      </>
    );
  }
  if (!contact) return <Spin className="page-spin" />;

  const title = contactLabel(contact) ?? t("contacts.unnamed", { id: contact.id });
  const from = mergedFrom(location.state);

  return (
    <>
      {back}
      <PageTitle title={title}>{title}</PageTitle>
      {from !== null && from !== contact.id ? (
        <Alert
          type="info"
          showIcon
          title={t("profile.merged", { from, to: contact.id })}
          style={{ marginBottom: 16 }}
        />
      ) : null}
      <Details contact={contact} actions={canEdit ? <ProfileEditor contact={contact} title={title} /> : null} />
      <div className="profile-block">
        <ProfileTags contact={contact} />
      </div>
      <div className="profile-block">
        <AcquisitionSection contact={contact} />
      </div>
      <Tabs
        className="profile-tabs"
        activeKey={tab}
        // each tab has an address (?tab=lifecycle) that a link or a bookmark opens
        onChange={(key) => setParams(key === "activity" ? {} : { tab: key }, { replace: true, state: location.state })}
        items={[
          { key: "activity", label: t("profile.tab.activity"), children: <EventTimeline contactId={contact.id} /> },
          { key: "traits", label: t("profile.tab.traits"), children: <TraitsSection contact={contact} /> },
          { key: "lifecycle", label: t("profile.tab.lifecycle"), children: <LifecycleSection contact={contact} /> },
          {
            key: "identities",
            label: t("profile.tab.identities"),
            children: <IdentitiesSection contactId={contact.id} identities={contact.identities} />,
          },
          { key: "segments", label: t("profile.tab.segments"), children: <SegmentsSection contactId={contact.id} /> },
          {
            key: "subscriptions",
            label: t("profile.tab.subscriptions"),
            children: <SubscriptionsSection contactId={contact.id} />,
          },
          { key: "journeys", label: t("profile.tab.journeys"), children: <JourneysSection contactId={contact.id} /> },
          { key: "messages", label: t("profile.tab.messages"), children: <MessagesSection contactId={contact.id} /> },
          {
            key: "scores",
            label: t("profile.tab.scores"),
            children: (
              <Suspense fallback={<Spin />}>
                <ScoresPanel contactId={contact.id} />
              </Suspense>
            ),
          },
          {
            key: "predictions",
            label: t("profile.tab.predictions"),
            children: (
              <Suspense fallback={<Spin />}>
                <PredictionsPanel contactId={contact.id} />
              </Suspense>
            ),
          },
          {
            key: "crm",
            label: t("profile.tab.crm"),
            children: (
              <Suspense fallback={<Spin />}>
                <CrmSyncPanel contactId={contact.id} />
              </Suspense>
            ),
          },
        ]}
      />
      {canErase ? <DangerZone contact={contact} title={title} /> : null}
    </>
  );
}
