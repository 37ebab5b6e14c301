import { useEffect, useState, type ReactNode } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Alert, Button, Form, Input, Select, Space, Table, type TableColumnsType } from "antd";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import type { Contact } from "../../api/types";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { segmentsKey } from "../segments/queries";
import {
  contactFilter,
  contactListQuery,
  filtersFromParams,
  hasFilters,
  isSearchBy,
  withParams,
  type SearchBy,
} from "./searchQuery";
import "../../i18n/contacts";

export const PAGE_SIZE = 50;

const SEARCH_BY: SearchBy[] = ["auto", "email", "phone", "external_id", "name"];

/** The `after` cursors of the pages before this one live in the history entry's state. */
function cursorsOf(state: unknown): string[] {
  if (typeof state === "object" && state !== null && "cursors" in state) {
    const cursors = (state as { cursors: unknown }).cursors;
    if (Array.isArray(cursors) && cursors.every((c) => typeof c === "string")) return cursors as string[];
  }
  return [];
}

/** The name of the contact just erased on the profile page (shown once, here). */
function erasedOf(state: unknown): string | null {
  if (typeof state === "object" && state !== null && "erased" in state) {
    const erased = (state as { erased: unknown }).erased;
    return typeof erased === "string" ? erased : null;
  }
  return null;
}

/**
 * The choices of the filters, asked for when the user first reaches the filter (focus or
 * open), not with every visit of the list: counting the members of every segment and tag
 * is the slowest call of the page on a large workspace.
 */
function useFilterChoices(selectedSegment: number | null) {
  const workspace = useWorkspaceKey();
  const [wanted, setWanted] = useState({ segment: false, tag: false, stage: false });
  const want = (which: keyof typeof wanted) => () =>
    setWanted((w) => (w[which] ? w : { ...w, [which]: true }));
  const segments = useQuery({
    queryKey: segmentsKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/segments")),
    // the chosen segment's name is shown from the list
    enabled: wanted.segment || selectedSegment !== null,
    staleTime: 60_000,
  });
  const tags = useQuery({
    queryKey: ["tags", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/tags")),
    enabled: wanted.tag,
    staleTime: 60_000,
  });
  const stages = useQuery({
    queryKey: ["lifecycle-stages", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/contacts/lifecycle-stages")),
    enabled: wanted.stage,
    staleTime: 60_000,
  });
  return { segments, tags, stages, want };
}

export default function ContactsPage() {
  const { t, lang } = useI18n();
  const workspace = useWorkspaceKey();
  const navigate = useNavigate();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const byParam = params.get("by");
  const by: SearchBy = isSearchBy(byParam) ? byParam : "auto";
  const filter = contactFilter(q, by);
  const filters = filtersFromParams(params);
  const cursors = cursorsOf(location.state);
  const after = cursors.at(-1) ?? null;
  const erased = erasedOf(location.state);
  const number = new Intl.NumberFormat(lang);

  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);

  const choices = useFilterChoices(filters.segment);

  const query = useQuery({
    queryKey: [
      "contacts",
      workspace,
      filter?.kind ?? null,
      filter?.value ?? null,
      filters.segment,
      filters.tag,
      filters.stage,
      after,
    ],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/contacts", {
          params: { query: contactListQuery(filter, filters, after, PAGE_SIZE) },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  /** A new search or filter: a new address (Back returns to the previous one), page 1. */
  const change = (changes: Parameters<typeof withParams>[1]) =>
    setParams(withParams(params, changes), { state: { cursors: [] } });

  const search = (value: string, nextBy: SearchBy = by) =>
    change({ q: value.trim() || null, by: nextBy === "auto" ? null : nextBy });

  const goTo = (nextCursors: string[]) =>
    navigate({ search: location.search }, { replace: true, state: { cursors: nextCursors } });

  const invalidPhone =
    query.error instanceof ApiError && query.error.code === "invalid_phone" && filter?.kind === "phone";
  const unknownSegment =
    query.error instanceof ApiError && query.error.code === "segment_not_found" && filters.segment !== null;

  const segmentOptions = (choices.segments.data?.data ?? []).map((s) => ({
    value: s.id,
    label: s.name,
    count: t("contacts.filter.members", { count: number.format(s.member_count) }),
  }));
  if (filters.segment !== null && !segmentOptions.some((o) => o.value === filters.segment)) {
    const label = t("contacts.filter.segmentId", { id: filters.segment });
    segmentOptions.unshift({ value: filters.segment, label, count: "" });
  }
  const tagOptions = (choices.tags.data?.data ?? []).map((tag) => ({
    value: tag.name,
    label: tag.name,
    count: t("contacts.filter.tagged", { count: number.format(tag.contacts) }),
  }));
  const stageOptions = (choices.stages.data?.data ?? []).map((s) => ({ value: s.stage, label: s.stage }));
  if (filters.stage !== null && !stageOptions.some((o) => o.value === filters.stage)) {
    stageOptions.unshift({ value: filters.stage, label: filters.stage });
  }
  const failed = (error: unknown) =>
    error ? <span className="text-secondary">{t("contacts.filter.loadFailed")}</span> : undefined;
  const withCount = (option: { data: { label?: ReactNode; count?: unknown } }) => (
    <span className="filter-option">
      <span>{option.data.label}</span>
      {typeof option.data.count === "string" && option.data.count ? (
        <span className="text-secondary">{option.data.count}</span>
      ) : null}
    </span>
  );

  const columns: TableColumnsType<Contact> = [
    {
      title: t("contacts.col.id"),
      dataIndex: "id",
      render: (id: number) => <Link to={`/contacts/${id}`}>{id}</Link>,
    },
    {
      title: t("contacts.col.name"),
      key: "name",
      render: (_: unknown, c) => [c.first_name, c.last_name].filter(Boolean).join(" ") || t("common.none"),
    },
    { title: t("contacts.col.email"), dataIndex: "email", render: (v: string | null) => v ?? t("common.none") },
    { title: t("contacts.col.phone"), dataIndex: "phone", render: (v: string | null) => v ?? t("common.none") },
    {
      title: t("contacts.col.externalId"),
      dataIndex: "external_id",
      render: (v: string | null) => v ?? t("common.none"),
    },
    {
      title: t("contacts.col.stage"),
      dataIndex: "lifecycle_stage",
      render: (v: string | null) => v ?? t("common.none"),
    },
    {
      title: t("contacts.col.created"),
      dataIndex: "created_at",
      render: (v: string) => <DateTime value={v} />,
    },
  ];

  return (
    <>
      <PageTitle title={t("contacts.title")}>{t("contacts.title")}</PageTitle>
      {erased ? (
        <Alert
          type="success"
          showIcon
          closable
          title={t("contacts.erased", { name: erased })}
          onClose={() => navigate({ search: location.search }, { replace: true, state: { cursors } })}
          style={{ marginBottom: 16 }}
        />
      ) : null}
      <div role="search">
        <Form layout="inline" className="contact-search">
          <Form.Item label={t("contacts.search")} htmlFor="contact-search">
            <Input.Search
              id="contact-search"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onSearch={(value) => search(value)}
              placeholder={t("contacts.searchPlaceholder")}
              enterButton={t("contacts.searchButton")}
              allowClear
              style={{ width: 340 }}
            />
          </Form.Item>
          <Form.Item label={t("contacts.searchBy")} htmlFor="contact-search-by">
            <Select<SearchBy>
              id="contact-search-by"
              value={by}
              onChange={(value) => search(draft, value)}
              options={SEARCH_BY.map((value) => ({ value, label: t(`contacts.searchBy.${value}`) }))}
              popupMatchSelectWidth={false}
              style={{ minWidth: 160 }}
            />
          </Form.Item>
        </Form>
        <Form layout="inline" className="contact-filters" component="div" role="group" aria-label={t("contacts.filters")}>
          <Form.Item label={t("contacts.filter.segment")} htmlFor="contact-filter-segment">
            <Select<number>
              id="contact-filter-segment"
              value={filters.segment ?? undefined}
              onChange={(value) => change({ segment: value === undefined ? null : String(value) })}
              onFocus={choices.want("segment")}
              onOpenChange={(open) => open && choices.want("segment")()}
              options={segmentOptions}
              optionRender={withCount}
              loading={choices.segments.isFetching}
              notFoundContent={failed(choices.segments.error)}
              placeholder={t("contacts.filter.any")}
              allowClear
              showSearch={{ optionFilterProp: "label" }}
              popupMatchSelectWidth={false}
              style={{ width: 220 }}
            />
          </Form.Item>
          <Form.Item label={t("contacts.filter.tag")} htmlFor="contact-filter-tag">
            <Select<string>
              id="contact-filter-tag"
              value={filters.tag ?? undefined}
              onChange={(value) => change({ tag: value ?? null })}
              onFocus={choices.want("tag")}
              onOpenChange={(open) => open && choices.want("tag")()}
              options={tagOptions}
              optionRender={withCount}
              loading={choices.tags.isFetching}
              notFoundContent={failed(choices.tags.error)}
              placeholder={t("contacts.filter.any")}
              allowClear
              showSearch={{ optionFilterProp: "label" }}
              popupMatchSelectWidth={false}
              style={{ width: 180 }}
            />
          </Form.Item>
          <Form.Item label={t("contacts.filter.stage")} htmlFor="contact-filter-stage">
            <Select<string>
              id="contact-filter-stage"
              value={filters.stage ?? undefined}
              onChange={(value) => change({ stage: value ?? null })}
              onFocus={choices.want("stage")}
              onOpenChange={(open) => open && choices.want("stage")()}
              options={stageOptions}
              loading={choices.stages.isFetching}
              notFoundContent={failed(choices.stages.error)}
              placeholder={t("contacts.filter.any")}
              allowClear
              showSearch={{ optionFilterProp: "label" }}
              popupMatchSelectWidth={false}
              style={{ width: 180 }}
            />
          </Form.Item>
          {hasFilters(filters) ? (
            <Form.Item>
              <Button onClick={() => change({ segment: null, tag: null, stage: null })}>
                {t("contacts.filter.clear")}
              </Button>
            </Form.Item>
          ) : null}
        </Form>
      </div>
      <p className="search-hint" aria-live="polite">
        {filter && by === "auto" ? (
          <span className="text-secondary">
            {t("contacts.searchingBy", { kind: t(`contacts.searchBy.${filter.kind}`) })}
          </span>
        ) : null}
      </p>

      {invalidPhone ? (
        <Alert
          type="warning"
          showIcon
          title={t("contacts.invalidPhone")}
          action={
            <Button size="small" onClick={() => search(q, "external_id")}>
              {t("contacts.searchAsExternalId")}
            </Button>
          }
          style={{ marginBottom: 16 }}
        />
      ) : unknownSegment ? (
        <Alert
          type="warning"
          showIcon
          title={errorText(query.error, t)}
          action={
            <Button size="small" onClick={() => change({ segment: null })}>
              {t("contacts.filter.clear")}
            </Button>
          }
          style={{ marginBottom: 16 }}
        />
      ) : query.isError ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
        </div>
      ) : null}

      <Table<Contact>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={query.isError ? [] : (query.data?.data ?? [])}
        loading={query.isFetching}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("contacts.empty") }}
        onRow={(record) => ({
          onClick: (event) => {
            // The id is a link already: let it (and ctrl/middle clicks) behave as links do.
            if ((event.target as HTMLElement).closest("a")) return;
            navigate(`/contacts/${record.id}`);
          },
        })}
      />
      <nav aria-label={t("contacts.pages")} className="pager">
        <Space>
          <Button disabled={cursors.length === 0} onClick={() => goTo(cursors.slice(0, -1))}>
            {t("contacts.prev")}
          </Button>
          <span>{t("contacts.pageNumber", { page: cursors.length + 1 })}</span>
          <Button
            disabled={!query.data?.next || query.isPlaceholderData}
            onClick={() => query.data?.next && goTo([...cursors, query.data.next])}
          >
            {t("contacts.next")}
          </Button>
        </Space>
      </nav>
    </>
  );
}
