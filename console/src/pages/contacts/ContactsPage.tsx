import { useEffect, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Alert, Button, Form, Input, Select, Space, Table, type TableColumnsType } from "antd";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import type { Contact } from "../../api/types";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { contactFilter, isSearchBy, type SearchBy } from "./searchQuery";

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

export default function ContactsPage() {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const navigate = useNavigate();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const byParam = params.get("by");
  const by: SearchBy = isSearchBy(byParam) ? byParam : "auto";
  const filter = contactFilter(q, by);
  const cursors = cursorsOf(location.state);
  const after = cursors.at(-1) ?? null;

  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);

  const query = useQuery({
    queryKey: ["contacts", workspace, filter?.kind ?? null, filter?.value ?? null, after],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/contacts", {
          params: {
            query: {
              limit: PAGE_SIZE,
              ...(filter ? { [filter.kind]: filter.value } : {}),
              ...(after ? { after } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  const search = (value: string, nextBy: SearchBy = by) => {
    const next: Record<string, string> = {};
    if (value.trim()) next.q = value.trim();
    if (nextBy !== "auto") next.by = nextBy;
    setParams(next, { state: { cursors: [] } });
  };

  const goTo = (nextCursors: string[]) =>
    navigate({ search: location.search }, { replace: true, state: { cursors: nextCursors } });

  const invalidPhone =
    query.error instanceof ApiError && query.error.code === "invalid_phone" && filter?.kind === "phone";

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
