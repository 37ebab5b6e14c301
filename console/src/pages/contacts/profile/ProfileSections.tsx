import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { Button, Descriptions, Table, Tag, type TableColumnsType } from "antd";
import { api, unwrap } from "../../../api/client";
import type {
  ConsentEvent,
  ContactSegment,
  ContactWithTraits,
  Enrollment,
  Identity,
  Message,
} from "../../../api/types";
import { useWorkspaceKey } from "../../../auth/SessionProvider";
import { DateTime } from "../../../components/DateTime";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { JsonValue } from "../../../components/JsonValue";
import { useI18n, type MessageKey } from "../../../i18n";

const LIST_PAGE_SIZE = 50;

function SectionTitle({ id, children }: { id: string; children: string }) {
  return (
    <h2 id={id} className="section-title">
      {children}
    </h2>
  );
}

/** A key/value table of traits: names and values shown as text. */
function TraitTable({ traits, caption }: { traits: Record<string, unknown>; caption: string }) {
  const { t } = useI18n();
  const rows = Object.entries(traits)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
  return (
    <Table
      rowKey="name"
      size="small"
      pagination={false}
      dataSource={rows}
      title={() => <strong>{caption}</strong>}
      locale={{ emptyText: t("common.empty") }}
      columns={[
        { title: t("profile.trait"), dataIndex: "name", width: "30%" },
        { title: t("profile.value"), dataIndex: "value", render: (v: unknown) => <JsonValue value={v} /> },
      ]}
    />
  );
}

export function TraitsSection({ contact }: { contact: ContactWithTraits }) {
  const { t } = useI18n();
  return (
    <section aria-labelledby="profile-traits">
      <h2 id="profile-traits" className="visually-hidden">
        {t("profile.tab.traits")}
      </h2>
      <TraitTable traits={contact.traits} caption={t("profile.traits")} />
      <div style={{ height: 16 }} />
      <TraitTable traits={contact.computed_traits} caption={t("profile.computedTraits")} />
    </section>
  );
}

export function IdentitiesSection({ identities }: { identities: Identity[] }) {
  const { t } = useI18n();
  return (
    <section aria-labelledby="profile-identities">
      <h2 id="profile-identities" className="visually-hidden">
        {t("profile.tab.identities")}
      </h2>
      <Table<Identity>
        rowKey={(i) => `${i.kind}:${i.value}`}
        size="small"
        pagination={false}
        dataSource={identities}
        locale={{ emptyText: t("common.empty") }}
        columns={[
          {
            title: t("profile.identity.kind"),
            dataIndex: "kind",
            render: (kind: Identity["kind"]) => t(`profile.identity.${kind}` as MessageKey),
          },
          { title: t("profile.identity.value"), dataIndex: "value" },
        ]}
      />
    </section>
  );
}

export function SegmentsSection({ contactId }: { contactId: number }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const query = useQuery({
    queryKey: ["contact-segments", workspace, contactId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/contacts/{contact_id}/segments", { params: { path: { contact_id: contactId } } })),
  });
  const columns: TableColumnsType<ContactSegment> = [
    {
      title: t("profile.segment.name"),
      dataIndex: "name",
      render: (name: string, s) => <Link to={`/segments/${s.id}`}>{name}</Link>,
    },
    { title: t("profile.segment.entered"), dataIndex: "entered_at", render: (v: string) => <DateTime value={v} /> },
    {
      title: t("profile.segment.why"),
      key: "explain",
      render: (_: unknown, s) => (
        <Link
          to={`/segments/${s.id}?tab=explain&contact=${contactId}`}
          aria-label={t("profile.segment.explain", { name: s.name })}
        >
          {t("profile.segment.why")}
        </Link>
      ),
    },
  ];
  return (
    <section aria-labelledby="profile-segments">
      <h2 id="profile-segments" className="visually-hidden">
        {t("profile.tab.segments")}
      </h2>
      {query.isError ? (
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        <Table<ContactSegment>
          rowKey="id"
          size="small"
          pagination={false}
          loading={query.isPending}
          dataSource={query.data?.data ?? []}
          columns={columns}
          locale={{ emptyText: t("common.empty") }}
        />
      )}
    </section>
  );
}

export function SubscriptionsSection({ contactId }: { contactId: number }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const subscriptions = useQuery({
    queryKey: ["contact-subscriptions", workspace, contactId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/contacts/{contact_id}/subscriptions", { params: { path: { contact_id: contactId } } })),
  });
  const consent = useQuery({
    queryKey: ["contact-consent-log", workspace, contactId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/contacts/{contact_id}/consent-log", { params: { path: { contact_id: contactId } } })),
  });
  type TopicRow = NonNullable<typeof subscriptions.data>["topics"][number];
  const channels = Object.entries(subscriptions.data?.channels ?? {});

  return (
    <>
      <section aria-labelledby="profile-topics">
        <SectionTitle id="profile-topics">{t("profile.topics")}</SectionTitle>
        {subscriptions.isError ? (
          <ErrorAlert error={subscriptions.error} onRetry={() => void subscriptions.refetch()} />
        ) : (
          <>
            <Table<TopicRow>
              rowKey={(r) => r.topic.id}
              size="small"
              pagination={false}
              loading={subscriptions.isPending}
              dataSource={subscriptions.data?.topics ?? []}
              locale={{ emptyText: t("common.empty") }}
              columns={[
                { title: t("profile.topic"), key: "topic", render: (_: unknown, r) => r.topic.name },
                {
                  title: t("profile.channel"),
                  key: "channel",
                  render: (_: unknown, r) => r.topic.channel ?? t("common.none"),
                },
                { title: t("profile.status"), dataIndex: "status", render: (s: string) => <Tag>{s}</Tag> },
              ]}
            />
            {channels.length > 0 ? (
              <Descriptions
                size="small"
                bordered
                column={1}
                title={t("profile.channelConsent")}
                style={{ marginTop: 16 }}
                items={channels.map(([channel, status]) => ({ key: channel, label: channel, children: status }))}
              />
            ) : null}
          </>
        )}
      </section>
      <section aria-labelledby="profile-consent" style={{ marginTop: 24 }}>
        <SectionTitle id="profile-consent">{t("profile.consentLog")}</SectionTitle>
        {consent.isError ? (
          <ErrorAlert error={consent.error} onRetry={() => void consent.refetch()} />
        ) : (
          <Table<ConsentEvent>
            rowKey={(r) => `${r.created_at}:${r.scope}:${r.status}`}
            size="small"
            pagination={false}
            loading={consent.isPending}
            dataSource={consent.data?.data ?? []}
            locale={{ emptyText: t("common.empty") }}
            columns={[
              { title: t("profile.consent.at"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
              { title: t("profile.consent.scope"), dataIndex: "scope" },
              { title: t("profile.status"), dataIndex: "status" },
              { title: t("profile.consent.source"), dataIndex: "source" },
              {
                title: t("profile.consent.wording"),
                dataIndex: "wording_version",
                render: (v: string | null) => v ?? t("common.none"),
              },
            ]}
          />
        )}
      </section>
    </>
  );
}

function LoadMore({
  hasNextPage,
  isFetchingNextPage,
  fetchNextPage,
}: {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}) {
  const { t } = useI18n();
  if (!hasNextPage) return null;
  return (
    <Button style={{ marginTop: 12 }} loading={isFetchingNextPage} onClick={() => void fetchNextPage()}>
      {t("common.loadMore")}
    </Button>
  );
}

export function JourneysSection({ contactId }: { contactId: number }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const query = useInfiniteQuery({
    queryKey: ["contact-enrollments", workspace, contactId],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/contacts/{contact_id}/enrollments", {
          params: {
            path: { contact_id: contactId },
            query: { limit: LIST_PAGE_SIZE, ...(pageParam ? { after: pageParam } : {}) },
          },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const columns: TableColumnsType<Enrollment> = [
    { title: t("profile.journey"), dataIndex: "journey_id", render: (id: number) => `#${id}` },
    { title: t("profile.journey.state"), dataIndex: "state", render: (s: string) => <Tag>{s}</Tag> },
    { title: t("profile.journey.node"), dataIndex: "node", render: (v: string | null) => v ?? t("common.none") },
    { title: t("profile.journey.entered"), dataIndex: "entered_at", render: (v: string) => <DateTime value={v} /> },
    { title: t("profile.journey.ended"), dataIndex: "ended_at", render: (v: string | null) => <DateTime value={v} /> },
  ];
  return (
    <section aria-labelledby="profile-journeys">
      <h2 id="profile-journeys" className="visually-hidden">
        {t("profile.tab.journeys")}
      </h2>
      {query.isError ? (
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        <>
          <Table<Enrollment>
            rowKey="id"
            size="small"
            pagination={false}
            loading={query.isPending}
            dataSource={query.data?.pages.flatMap((p) => p.data) ?? []}
            columns={columns}
            scroll={{ x: "max-content" }}
            locale={{ emptyText: t("common.empty") }}
          />
          <LoadMore {...query} />
        </>
      )}
    </section>
  );
}

export function MessagesSection({ contactId }: { contactId: number }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const query = useInfiniteQuery({
    queryKey: ["contact-messages", workspace, contactId],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/messages", {
          params: {
            query: { contact_id: contactId, limit: LIST_PAGE_SIZE, ...(pageParam ? { after: pageParam } : {}) },
          },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const columns: TableColumnsType<Message> = [
    { title: t("profile.message.id"), dataIndex: "id" },
    { title: t("profile.message.channel"), dataIndex: "channel" },
    { title: t("profile.message.status"), dataIndex: "status", render: (s: string) => <Tag>{s}</Tag> },
    { title: t("profile.message.address"), dataIndex: "address", render: (v: string | null) => v ?? t("common.none") },
    { title: t("profile.message.created"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
    { title: t("profile.message.sent"), dataIndex: "sent_at", render: (v: string | null) => <DateTime value={v} /> },
  ];
  return (
    <section aria-labelledby="profile-messages">
      <h2 id="profile-messages" className="visually-hidden">
        {t("profile.tab.messages")}
      </h2>
      {query.isError ? (
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        <>
          <Table<Message>
            rowKey="id"
            size="small"
            pagination={false}
            loading={query.isPending}
            dataSource={query.data?.pages.flatMap((p) => p.data) ?? []}
            columns={columns}
            scroll={{ x: "max-content" }}
            locale={{ emptyText: t("common.empty") }}
          />
          <LoadMore {...query} />
        </>
      )}
    </section>
  );
}
