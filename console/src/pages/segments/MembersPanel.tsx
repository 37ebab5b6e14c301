import { useRef, useState } from "react";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, message as antMessage, Space, Table, type TableColumnsType } from "antd";
import { DeleteOutlined, DownloadOutlined, UploadOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import type { ListImportResult, Segment, SegmentMember } from "../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import { saveBlob } from "../../lib/download";
import { ContactPicker } from "./ContactPicker";
import { segmentKey, segmentsKey } from "./queries";

const PAGE = 50;

function ImportResult({ result }: { result: ListImportResult }) {
  const { t } = useI18n();
  const more = result.rejected_count - result.rejected.length;
  return (
    <Alert
      type={result.rejected_count > 0 ? "warning" : "success"}
      showIcon
      title={t("members.importResult", {
        added: result.added,
        already: result.already_members,
        rejected: result.rejected_count,
      })}
      description={
        result.rejected.length > 0 ? (
          <>
            <ul className="import-rejects">
              {result.rejected.map((r) => (
                <li key={r.line}>{t("members.rejectedLine", { line: r.line, reason: r.reason })}</li>
              ))}
            </ul>
            {more > 0 ? <p>{t("members.rejectedMore", { count: more })}</p> : null}
          </>
        ) : undefined
      }
    />
  );
}

/** The members, in id order, page by page; lists can be changed by hand or from a CSV file. */
export function MembersPanel({ segment }: { segment: Segment }) {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const fileInput = useRef<HTMLInputElement>(null);
  const [imported, setImported] = useState<ListImportResult | null>(null);
  const editable = canEdit && segment.kind === "static";
  const membersKey = ["segment-members", workspace, segment.id] as const;

  const query = useInfiniteQuery({
    queryKey: membersKey,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/segments/{segment_id}/members", {
          params: { path: { segment_id: segment.id }, query: { limit: PAGE, ...(pageParam ? { after: pageParam } : {}) } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next ?? undefined,
  });

  const changed = () => {
    void queryClient.invalidateQueries({ queryKey: membersKey });
    void queryClient.invalidateQueries({ queryKey: segmentKey(workspace, segment.id) });
    void queryClient.invalidateQueries({ queryKey: segmentsKey(workspace) });
  };

  const add = useMutation({
    mutationFn: (contactId: number) =>
      unwrap(
        api.POST("/api/v1/segments/{segment_id}/members", {
          params: { path: { segment_id: segment.id } },
          body: { contact_ids: [contactId] },
        }),
      ),
    onSuccess: (result) => {
      changed();
      void message.success(result.added > 0 ? t("members.added") : t("members.alreadyMember"));
    },
    onError: (error) => void message.error(errorText(error, t)),
  });

  const remove = useMutation({
    mutationFn: (contactId: number) =>
      unwrap(
        api.DELETE("/api/v1/segments/{segment_id}/members/{contact_id}", {
          params: { path: { segment_id: segment.id, contact_id: contactId } },
        }),
      ),
    onSuccess: () => {
      changed();
      void message.success(t("members.removed"));
    },
    onError: (error) => void message.error(errorText(error, t)),
  });

  const importCsv = useMutation({
    mutationFn: async (file: File) => {
      // The file's bytes as they are: the server reads (and checks) their encoding.
      const bytes = new Uint8Array(await file.arrayBuffer());
      return unwrap(
        api.POST("/api/v1/segments/{segment_id}/members/import", {
          params: { path: { segment_id: segment.id } },
          body: bytes as unknown as string,
          bodySerializer: (body: unknown) => body as string,
          headers: { "Content-Type": "text/csv" },
        }),
      );
    },
    onMutate: () => setImported(null),
    onSuccess: (result) => {
      setImported(result);
      changed();
    },
  });

  const exportCsv = useMutation({
    mutationFn: async () => {
      const blob = await unwrap(
        api.GET("/api/v1/segments/{segment_id}/members.csv", {
          params: { path: { segment_id: segment.id } },
          headers: { Accept: "text/csv" },
          parseAs: "blob",
        }),
      );
      saveBlob(blob, `segment-${segment.id}-members.csv`);
    },
  });

  const columns: TableColumnsType<SegmentMember> = [
    { title: t("members.col.id"), dataIndex: "id", render: (id: number) => <Link to={`/contacts/${id}`}>{id}</Link> },
    { title: t("members.col.email"), dataIndex: "email", render: (v: string | null) => v ?? t("common.none") },
    { title: t("members.col.externalId"), dataIndex: "external_id", render: (v: string | null) => v ?? t("common.none") },
    { title: t("members.col.entered"), dataIndex: "entered_at", render: (v: string) => <DateTime value={v} /> },
  ];
  if (editable) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, m) => (
        <Button
          size="small"
          type="text"
          danger
          icon={<DeleteOutlined />}
          loading={remove.isPending && remove.variables === m.id}
          aria-label={t("members.remove", { name: m.email ?? m.external_id ?? `#${m.id}` })}
          onClick={() => remove.mutate(m.id)}
        />
      ),
    });
  }

  const rows = query.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <section aria-labelledby="members-title">
      {messageHolder}
      <div className="page-head">
        <h2 id="members-title" className="section-title">
          {t("members.title", { count: new Intl.NumberFormat(lang).format(segment.member_count) })}
        </h2>
        <Space wrap>
          <Button icon={<DownloadOutlined />} loading={exportCsv.isPending} onClick={() => exportCsv.mutate()}>
            {t("members.export")}
          </Button>
          {editable ? (
            <>
              <input
                ref={fileInput}
                type="file"
                accept=".csv,text/csv"
                className="visually-hidden"
                tabIndex={-1}
                aria-label={t("members.importFile")}
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  e.target.value = "";
                  if (file) importCsv.mutate(file);
                }}
              />
              <Button icon={<UploadOutlined />} loading={importCsv.isPending} onClick={() => fileInput.current?.click()}>
                {t("members.import")}
              </Button>
            </>
          ) : null}
        </Space>
      </div>
      {segment.kind === "static" ? null : <p className="text-secondary">{t("members.dynamicHint")}</p>}
      {exportCsv.isError ? <ErrorAlert error={exportCsv.error} /> : null}
      {editable ? (
        <div className="members-tools">
          <p className="text-secondary">{t("members.importHint")}</p>
          {importCsv.isError ? <ErrorAlert error={importCsv.error} /> : null}
          {imported ? <ImportResult result={imported} /> : null}
          <ContactPicker
            id="member-add"
            label={t("members.addLabel")}
            action={(name) => t("members.add", { name })}
            onPick={(c) => add.mutate(c.id)}
            disabled={add.isPending}
          />
        </div>
      ) : null}
      {query.isError ? (
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        <>
          <Table<SegmentMember>
            rowKey="id"
            size="small"
            pagination={false}
            loading={query.isPending}
            dataSource={rows}
            columns={columns}
            scroll={{ x: "max-content" }}
            locale={{ emptyText: t("members.empty") }}
          />
          {query.hasNextPage ? (
            <Button style={{ marginTop: 12 }} loading={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
              {t("common.loadMore")}
            </Button>
          ) : null}
        </>
      )}
    </section>
  );
}
