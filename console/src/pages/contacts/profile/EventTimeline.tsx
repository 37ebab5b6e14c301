import { useState } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Button, Form, Input, Spin, Tag } from "antd";
import { api, unwrap } from "../../../api/client";
import { useWorkspaceKey } from "../../../auth/SessionProvider";
import { DateTime } from "../../../components/DateTime";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { useI18n } from "../../../i18n";
import { useInView } from "./useInView";

export const EVENTS_PAGE_SIZE = 50;

/** The contact's events, newest first; the next page loads when the end of the list shows. */
export function EventTimeline({ contactId }: { contactId: number }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const [draft, setDraft] = useState("");
  const [name, setName] = useState("");

  const query = useInfiniteQuery({
    queryKey: ["contact-events", workspace, contactId, name],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/contacts/{contact_id}/events", {
          params: {
            path: { contact_id: contactId },
            query: {
              limit: EVENTS_PAGE_SIZE,
              ...(name ? { name } : {}),
              ...(pageParam ? { after: pageParam } : {}),
            },
          },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next ?? undefined,
  });

  const loadMore = () => {
    if (query.hasNextPage && !query.isFetchingNextPage) void query.fetchNextPage();
  };
  const sentinel = useInView<HTMLDivElement>(loadMore, query.hasNextPage && !query.isFetchingNextPage);
  const events = query.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <section aria-labelledby="profile-events">
      <h2 id="profile-events" className="visually-hidden">
        {t("profile.tab.activity")}
      </h2>
      <Form layout="inline" className="event-filter">
        <Form.Item label={t("profile.events.filter")} htmlFor="event-name-filter">
          <Input.Search
            id="event-name-filter"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onSearch={(value) => setName(value.trim())}
            placeholder={t("profile.events.filterPlaceholder")}
            enterButton={t("contacts.searchButton")}
            allowClear
            style={{ width: 320 }}
          />
        </Form.Item>
      </Form>
      {query.isError ? (
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      ) : query.isPending ? (
        <Spin className="page-spin" />
      ) : events.length === 0 ? (
        <span className="text-secondary">{t("profile.events.empty")}</span>
      ) : (
        <ol className="timeline" aria-busy={query.isFetchingNextPage}>
          {events.map((event) => (
            <li key={event.id} className="timeline-item">
              <div>
                <span className="timeline-title">{event.name ?? event.type}</span>
                <Tag>{event.type}</Tag>
                <span className="text-secondary">
                  <DateTime value={event.timestamp} />
                </span>
              </div>
              {Object.keys(event.properties).length > 0 ? (
                <details>
                  <summary>{t("profile.events.properties")}</summary>
                  <pre className="json-block">{JSON.stringify(event.properties, null, 2)}</pre>
                </details>
              ) : null}
              {event.context && Object.keys(event.context).length > 0 ? (
                <details>
                  <summary>{t("profile.events.context")}</summary>
                  <pre className="json-block">{JSON.stringify(event.context, null, 2)}</pre>
                </details>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      <div ref={sentinel} className="timeline-sentinel" />
      {query.hasNextPage ? (
        <Button onClick={loadMore} loading={query.isFetchingNextPage}>
          {t("common.loadMore")}
        </Button>
      ) : events.length > 0 ? (
        <span className="text-secondary">{t("profile.events.end")}</span>
      ) : null}
    </section>
  );
}
