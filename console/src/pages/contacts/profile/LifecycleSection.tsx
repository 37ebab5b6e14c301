import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { AutoComplete, Button, Form, message as antMessage, Space, Table, Tag, type TableColumnsType } from "antd";
import { api, unwrap } from "../../../api/client";
import { ApiError } from "../../../api/http";
import type { components } from "../../../api/schema";
import type { ContactDetail, ContactWithTraits } from "../../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../../auth/SessionProvider";
import { DateTime } from "../../../components/DateTime";
import { ErrorAlert, errorText } from "../../../components/ErrorAlert";
import { isMessageKey, useI18n } from "../../../i18n";
import { contactKey } from "./ProfileTags";

type LifecycleChange = components["schemas"]["LifecycleChangeRead"];

const HISTORY_PAGE_SIZE = 50;
const MAX_STAGE = 40;

export function lifecycleKey(workspace: number | null, contactId: number) {
  return ["contact-lifecycle", workspace, contactId] as const;
}

/** A stage as text ("No stage" for none); contact data, never HTML. */
function Stage({ stage }: { stage: string | null }) {
  const { t } = useI18n();
  return stage === null ? (
    <span className="text-secondary">{t("profile.lifecycle.none")}</span>
  ) : (
    <Tag className="stage-tag">{stage}</Tag>
  );
}

/**
 * The contact's lifecycle stage: the current one, a form to change or clear it (admins and
 * marketers; `PATCH /contacts/{id} {lifecycle_stage}`), and every change with when and what
 * made it (`GET /contacts/{id}/lifecycle`).
 */
export function LifecycleSection({ contact }: { contact: ContactWithTraits }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const [form] = Form.useForm<{ stage: string }>();

  const stages = useQuery({
    queryKey: ["lifecycle-stages", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/contacts/lifecycle-stages")),
    enabled: canEdit,
    staleTime: 60_000,
  });

  const history = useInfiniteQuery({
    queryKey: lifecycleKey(workspace, contact.id),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/contacts/{contact_id}/lifecycle", {
          params: {
            path: { contact_id: contact.id },
            query: { limit: HISTORY_PAGE_SIZE, ...(pageParam ? { after: pageParam } : {}) },
          },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next ?? undefined,
  });

  const change = useMutation({
    mutationFn: (stage: string | null) =>
      unwrap(
        api.PATCH("/api/v1/contacts/{contact_id}", {
          params: { path: { contact_id: contact.id } },
          body: { lifecycle_stage: stage },
        }),
      ),
    onSuccess: (detail: ContactDetail, stage) => {
      queryClient.setQueryData<ContactWithTraits>(contactKey(workspace, contact.id), (old) =>
        old ? { ...old, ...detail } : old,
      );
      void queryClient.invalidateQueries({ queryKey: lifecycleKey(workspace, contact.id) });
      void queryClient.invalidateQueries({ queryKey: ["lifecycle-stages", workspace] });
      void queryClient.invalidateQueries({ queryKey: ["contacts", workspace] });
      form.resetFields();
      void message.success(
        stage === null ? t("profile.lifecycle.cleared") : t("profile.lifecycle.changed", { stage: detail.lifecycle_stage ?? stage }),
      );
    },
    onError: (error) => {
      if (error instanceof ApiError && error.code === "invalid_lifecycle_stage") {
        form.setFields([{ name: "stage", errors: [t("profile.lifecycle.stageRequired")] }]);
      } else {
        void message.error(errorText(error, t));
      }
    },
  });

  const sourceLabel = (source: string) => {
    const key = `profile.lifecycle.source.${source}`;
    return isMessageKey(key) ? t(key) : source;
  };

  const columns: TableColumnsType<LifecycleChange> = [
    { title: t("profile.lifecycle.when"), dataIndex: "changed_at", render: (v: string) => <DateTime value={v} /> },
    { title: t("profile.lifecycle.from"), dataIndex: "from_stage", render: (v: string | null) => <Stage stage={v} /> },
    { title: t("profile.lifecycle.to"), dataIndex: "to_stage", render: (v: string | null) => <Stage stage={v} /> },
    { title: t("profile.lifecycle.source"), dataIndex: "source", render: (v: string) => sourceLabel(v) },
  ];

  const options = (stages.data?.data ?? [])
    .filter((s) => s.stage !== contact.lifecycle_stage)
    .map((s) => ({ value: s.stage }));

  return (
    <section aria-labelledby="profile-lifecycle">
      {messageHolder}
      <h2 id="profile-lifecycle" className="visually-hidden">
        {t("profile.tab.lifecycle")}
      </h2>
      <div className="lifecycle-current">
        <span className="lifecycle-label">{t("profile.lifecycle.current")}</span>
        <Stage stage={contact.lifecycle_stage} />
      </div>
      {canEdit ? (
        <Form
          form={form}
          layout="inline"
          requiredMark={false}
          className="lifecycle-form"
          onFinish={({ stage }) => change.mutate(stage.trim())}
        >
          <Form.Item
            label={t("profile.lifecycle.newStage")}
            name="stage"
            htmlFor="lifecycle-stage"
            extra={t("profile.lifecycle.hint")}
            rules={[
              { required: true, whitespace: true, message: t("profile.lifecycle.stageRequired") },
              { max: MAX_STAGE, message: t("profile.lifecycle.stageRequired") },
            ]}
          >
            <AutoComplete
              id="lifecycle-stage"
              options={options}
              showSearch={{
                filterOption: (input, option) =>
                  String(option?.value ?? "").toLowerCase().includes(input.trim().toLowerCase()),
              }}
              style={{ width: 240 }}
            />
          </Form.Item>
          <Space>
            <Button type="primary" htmlType="submit" loading={change.isPending && change.variables !== null}>
              {t("profile.lifecycle.set")}
            </Button>
            {contact.lifecycle_stage !== null ? (
              <Button loading={change.isPending && change.variables === null} onClick={() => change.mutate(null)}>
                {t("profile.lifecycle.clear")}
              </Button>
            ) : null}
          </Space>
        </Form>
      ) : null}
      <h3 className="section-title" style={{ marginTop: 24 }}>
        {t("profile.lifecycle.history")}
      </h3>
      {history.isError ? (
        <ErrorAlert error={history.error} onRetry={() => void history.refetch()} />
      ) : (
        <>
          <Table<LifecycleChange>
            rowKey="id"
            size="small"
            pagination={false}
            loading={history.isPending}
            dataSource={history.data?.pages.flatMap((p) => p.data) ?? []}
            columns={columns}
            locale={{ emptyText: t("profile.lifecycle.empty") }}
            scroll={{ x: "max-content" }}
          />
          {history.hasNextPage ? (
            <Button
              style={{ marginTop: 12 }}
              loading={history.isFetchingNextPage}
              onClick={() => void history.fetchNextPage()}
            >
              {t("common.loadMore")}
            </Button>
          ) : null}
        </>
      )}
    </section>
  );
}
