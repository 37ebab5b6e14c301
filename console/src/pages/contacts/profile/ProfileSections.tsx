import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { Button, Descriptions, Table, Tag, type TableColumnsType } from "antd";
import { api, unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
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
import { isMessageKey, useI18n, type MessageKey } from "../../../i18n";
import { typeLabelKey, useAttributes } from "./ProfileEditor";

type ContactMerge = components["schemas"]["ContactMergeRead"];

/** A value of a known set (a status, a channel) in the user's language; as it is otherwise. */
function useEnumLabel() {
  const { t } = useI18n();
  return (prefix: string, value: string) => {
    const key = `${prefix}.${value}`;
    return isMessageKey(key) ? t(key) : value;
  };
}

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

/**
 * The attributes the workspace declares (label, type, value), the other traits as they came,
 * and the computed traits.
 */
export function TraitsSection({ contact }: { contact: ContactWithTraits }) {
  const { t } = useI18n();
  const attributes = useAttributes();
  const declared = attributes.data?.data ?? [];
  const names = new Set(declared.map((a) => a.name));
  const other = Object.fromEntries(Object.entries(contact.traits).filter(([name]) => !names.has(name)));
  type Row = { name: string; label: string | null; type: string; value: unknown };
  const rows: Row[] = declared.map((a) => ({ name: a.name, label: a.label, type: a.type, value: contact.traits[a.name] }));
  return (
    <section aria-labelledby="profile-traits">
      <h2 id="profile-traits" className="visually-hidden">
        {t("profile.tab.traits")}
      </h2>
      {attributes.isError ? (
        <ErrorAlert error={attributes.error} onRetry={() => void attributes.refetch()} />
      ) : (
        <Table<Row>
          rowKey="name"
          size="small"
          pagination={false}
          loading={attributes.isPending}
          dataSource={rows}
          title={() => <strong>{t("profile.attributes")}</strong>}
          locale={{ emptyText: t("profile.edit.noAttributes") }}
          columns={[
            {
              title: t("profile.attr.name"),
              dataIndex: "name",
              width: "30%",
              render: (name: string, r) =>
                r.label ? (
                  <>
                    {r.label} <span className="text-secondary">({name})</span>
                  </>
                ) : (
                  name
                ),
            },
            {
              title: t("profile.attr.type"),
              dataIndex: "type",
              width: 140,
              render: (type: string) => {
                const key = typeLabelKey(type);
                return key ? t(key) : type;
              },
            },
            {
              title: t("profile.value"),
              dataIndex: "value",
              render: (v: unknown, r) => {
                if (v === undefined || v === null) return <span className="text-secondary">{t("profile.attr.notSet")}</span>;
                if (r.type === "boolean" && typeof v === "boolean") return v ? t("common.yes") : t("common.no");
                // an instant in the workspace's time zone; a date (10 characters) as it is
                if (r.type === "datetime" && typeof v === "string" && v.length > 10) return <DateTime value={v} />;
                if (r.type === "list" && Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null))
                  return v.map((x) => <Tag key={String(x)}>{String(x)}</Tag>);
                return <JsonValue value={v} />;
              },
            },
          ]}
        />
      )}
      <div style={{ height: 16 }} />
      <TraitTable traits={other} caption={t("profile.otherTraits")} />
      <p className="text-secondary cell-note">{t("profile.otherTraitsHint")}</p>
      <div style={{ height: 16 }} />
      <TraitTable traits={contact.computed_traits} caption={t("profile.computedTraits")} />
    </section>
  );
}

export function IdentitiesSection({ contactId, identities }: { contactId: number; identities: Identity[] }) {
  const { t } = useI18n();
  return (
    <>
      <section aria-labelledby="profile-identities">
        <SectionTitle id="profile-identities">{t("profile.identities")}</SectionTitle>
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
      <MergesSection contactId={contactId} />
    </>
  );
}

/** "email 'ann@example.com', anonymous_id 'a1'" (how identity resolution records why): the pairs. */
export function mergeReasons(reason: string): { kind: Identity["kind"]; value: string }[] | null {
  const out: { kind: Identity["kind"]; value: string }[] = [];
  const pair = /(user_id|anonymous_id|email|phone) (['"])(.*?)\2(?:, |$)/gy;
  let match: RegExpExecArray | null;
  while ((match = pair.exec(reason)) !== null) {
    out.push({ kind: match[1] as Identity["kind"], value: match[3] ?? "" });
    if (pair.lastIndex === reason.length) return out;
  }
  return null;
}

/** The contacts merged into this one: their old ids lead here (`GET /contacts/{id}/merges`). */
function MergesSection({ contactId }: { contactId: number }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const query = useInfiniteQuery({
    queryKey: ["contact-merges", workspace, contactId],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/contacts/{contact_id}/merges", {
          params: {
            path: { contact_id: contactId },
            query: { limit: LIST_PAGE_SIZE, ...(pageParam ? { after: pageParam } : {}) },
          },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const columns: TableColumnsType<ContactMerge> = [
    {
      title: t("profile.merges.contact"),
      dataIndex: "merged_id",
      render: (id: number) => t("contacts.unnamed", { id }),
    },
    {
      title: t("profile.merges.into"),
      dataIndex: "into_id",
      render: (id: number) => (id === contactId ? t("profile.merges.this") : t("contacts.unnamed", { id })),
    },
    {
      title: t("profile.merges.reason"),
      dataIndex: "reason",
      render: (reason: string) => {
        const pairs = mergeReasons(reason);
        if (!pairs) return <span className="json-text">{reason}</span>;
        return (
          <ul className="plain-list">
            {pairs.map((p) => (
              <li key={`${p.kind}:${p.value}`}>
                <span className="text-secondary">{t(`profile.identity.${p.kind}` as MessageKey)}:</span> {p.value}
              </li>
            ))}
          </ul>
        );
      },
    },
    { title: t("profile.merges.at"), dataIndex: "merged_at", render: (v: string) => <DateTime value={v} /> },
  ];
  return (
    <section aria-labelledby="profile-merges" style={{ marginTop: 24 }}>
      <SectionTitle id="profile-merges">{t("profile.merges")}</SectionTitle>
      <p className="text-secondary page-intro">{t("profile.merges.intro")}</p>
      {query.isError ? (
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        <>
          <Table<ContactMerge>
            rowKey="id"
            size="small"
            pagination={false}
            loading={query.isPending}
            dataSource={query.data?.pages.flatMap((p) => p.data) ?? []}
            columns={columns}
            locale={{ emptyText: t("profile.merges.empty") }}
          />
          <LoadMore {...query} />
        </>
      )}
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
  const label = useEnumLabel();
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
  const topicNames = new Map((subscriptions.data?.topics ?? []).map((r) => [`topic:${r.topic.id}`, r.topic.name]));
  const status = (s: string) => <Tag className={`consent-${s}`}>{label("profile.consentStatus", s)}</Tag>;
  /** "topic:3" → "Topic: Newsletter", "channel:sms" → "Channel: SMS" */
  const scope = (value: string) => {
    const [kind, rest = ""] = value.split(/:(.*)/s);
    if (kind === "channel") return t("profile.scope.channel", { channel: label("profile.channelName", rest) });
    if (kind === "topic") return t("profile.scope.topic", { topic: topicNames.get(value) ?? `#${rest}` });
    return value;
  };

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
                  render: (_: unknown, r) => (r.topic.channel ? label("profile.channelName", r.topic.channel) : t("common.none")),
                },
                { title: t("profile.status"), dataIndex: "status", render: status },
              ]}
            />
            {channels.length > 0 ? (
              <Descriptions
                size="small"
                bordered
                column={1}
                title={t("profile.channelConsent")}
                style={{ marginTop: 16 }}
                items={channels.map(([channel, value]) => ({
                  key: channel,
                  label: label("profile.channelName", channel),
                  children: status(value),
                }))}
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
            rowKey={(r) => `${r.created_at}:${r.scope}:${r.status}:${r.source}`}
            size="small"
            pagination={false}
            loading={consent.isPending}
            // the ledger comes oldest first: the latest change on top
            dataSource={[...(consent.data?.data ?? [])].reverse()}
            locale={{ emptyText: t("common.empty") }}
            scroll={{ x: "max-content" }}
            columns={[
              { title: t("profile.consent.at"), dataIndex: "created_at", render: (v: string) => <DateTime value={v} /> },
              { title: t("profile.consent.scope"), dataIndex: "scope", render: scope },
              { title: t("profile.status"), dataIndex: "status", render: status },
              { title: t("profile.consent.source"), dataIndex: "source" },
              {
                title: t("profile.consent.wording"),
                dataIndex: "wording_version",
                render: (v: string | null) => v ?? t("common.none"),
              },
              { title: t("profile.consent.ip"), dataIndex: "ip", render: (v: string | null) => v ?? t("common.none") },
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
  const label = useEnumLabel();
  const workspace = useWorkspaceKey();
  const journeys = useQuery({
    queryKey: ["journeys", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/journeys")),
    staleTime: 60_000,
  });
  const journeyName = new Map((journeys.data?.data ?? []).map((j) => [j.id, j.name]));
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
    {
      title: t("profile.journey"),
      dataIndex: "journey_id",
      render: (id: number) => journeyName.get(id) ?? t("profile.journey.id", { id }),
    },
    {
      title: t("profile.journey.state"),
      dataIndex: "state",
      render: (s: string, e) => (
        <>
          <Tag>{label("profile.journeyState", s)}</Tag>
          {e.exit_reason ? <span className="text-secondary">{e.exit_reason}</span> : null}
        </>
      ),
    },
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
  const label = useEnumLabel();
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
    { title: t("profile.message.channel"), dataIndex: "channel", render: (c: string) => label("profile.channelName", c) },
    { title: t("profile.message.status"), dataIndex: "status", render: (s: string) => <Tag>{label("profile.messageStatus", s)}</Tag> },
    {
      title: t("profile.message.reason"),
      key: "reason",
      render: (_: unknown, m) => m.reason ?? m.error ?? t("common.none"),
    },
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
