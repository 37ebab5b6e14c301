import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Form, Input, message as antMessage, Modal, Radio, Space, Spin, Tabs } from "antd";
import { ArrowLeftOutlined, DeleteOutlined, SaveOutlined } from "@ant-design/icons";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import type { Segment, SegmentKind, SegmentReference, Topic } from "../../api/types";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { definitionFrom, emptyDefinition, incompletePaths, type Definition } from "./builder/model";
import { SegmentBuilder } from "./builder/SegmentBuilder";
import { ExplainPanel } from "./ExplainPanel";
import { MembersPanel } from "./MembersPanel";
import { referenceKey, segmentKey, segmentsKey, useSegmentReference, useTopics } from "./queries";
import { SegmentKindTag } from "./SegmentsPage";
import "../../i18n/audiences";

interface Draft {
  name: string;
  description: string;
  kind: SegmentKind;
  definition: Definition;
}

function draftOf(segment: Segment | undefined): Draft {
  return {
    name: segment?.name ?? "",
    description: segment?.description ?? "",
    kind: segment?.kind === "static" ? "static" : "dynamic",
    definition: segment ? definitionFrom(segment.definition) : emptyDefinition(),
  };
}

/** Name, description, kind (when new) and, for a dynamic segment, the definition. */
function SegmentForm({
  segment,
  reference,
  topics,
}: {
  segment?: Segment;
  reference: SegmentReference;
  topics: Topic[];
}) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const readOnly = !canEdit;
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [message, messageHolder] = antMessage.useMessage();
  const initial = useMemo(() => draftOf(segment), [segment]);
  const [draft, setDraft] = useState<Draft>(initial);
  const [nameError, setNameError] = useState<string | null>(null);
  const [incompleteShown, setIncompleteShown] = useState(false);
  const dirty = JSON.stringify(draft) !== JSON.stringify(initial);
  const dynamic = draft.kind === "dynamic";

  const save = useMutation({
    mutationFn: async (d: Draft): Promise<Segment> => {
      const description = d.description.trim() || null;
      if (segment) {
        return unwrap(
          api.PATCH("/api/v1/segments/{segment_id}", {
            params: { path: { segment_id: segment.id } },
            body: { name: d.name.trim(), description, ...(dynamic ? { definition: { ...d.definition } } : {}) },
          }),
        );
      }
      return unwrap(
        api.POST("/api/v1/segments", {
          body: { name: d.name.trim(), description, kind: d.kind, definition: dynamic ? { ...d.definition } : null },
        }),
      );
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(segmentKey(workspace, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: segmentsKey(workspace) });
      void queryClient.invalidateQueries({ queryKey: referenceKey(workspace) });
      void message.success(segment ? t("segment.saved") : t("segment.created"));
      if (!segment) navigate(`/segments/${saved.id}`, { replace: true });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.code === "segment_exists") setNameError(t("segment.exists"));
      else if (error instanceof ApiError && error.code === "validation_error" && error.message.startsWith("name")) {
        setNameError(error.message);
      }
    },
  });

  const submit = () => {
    setNameError(null);
    if (!draft.name.trim()) {
      setNameError(t("segment.nameRequired"));
      return;
    }
    if (dynamic && incompletePaths(reference, draft.definition.root).length > 0) {
      setIncompleteShown(true);
      return;
    }
    setIncompleteShown(false);
    save.mutate(draft);
  };

  const saveError =
    save.error && !(save.error instanceof ApiError && (save.error.code === "segment_exists" || nameError)) ? save.error : null;

  return (
    // A div, not a form: Enter in the builder's fields must not save.
    <Form layout="vertical" className="segment-form" component="div" disabled={readOnly}>
      {messageHolder}
      <div className="segment-fields">
        <Form.Item
          label={t("segment.name")}
          htmlFor="segment-name"
          required
          validateStatus={nameError ? "error" : undefined}
          help={nameError ?? undefined}
        >
          <Input
            id="segment-name"
            value={draft.name}
            maxLength={200}
            onChange={(e) => setDraft({ ...draft, name: e.target.value })}
          />
        </Form.Item>
        <Form.Item label={t("segment.description")} htmlFor="segment-description">
          <Input.TextArea
            id="segment-description"
            value={draft.description}
            autoSize={{ minRows: 1, maxRows: 4 }}
            onChange={(e) => setDraft({ ...draft, description: e.target.value })}
          />
        </Form.Item>
        {segment ? null : (
          <Form.Item label={t("segment.kind")} htmlFor="segment-kind">
            <Radio.Group
              id="segment-kind"
              value={draft.kind}
              onChange={(e) => setDraft({ ...draft, kind: e.target.value as SegmentKind })}
              options={[
                { value: "dynamic", label: `${t("segments.kind.dynamic")} — ${t("segment.kind.dynamicHint")}` },
                { value: "static", label: `${t("segments.kind.static")} — ${t("segment.kind.staticHint")}` },
              ]}
              style={{ display: "flex", flexDirection: "column", gap: 4 }}
            />
          </Form.Item>
        )}
      </div>
      {dynamic ? (
        <SegmentBuilder
          reference={reference}
          topics={topics}
          definition={draft.definition}
          onChange={(definition) => setDraft((d) => ({ ...d, definition }))}
          readOnly={readOnly}
          selfId={segment?.id ?? null}
        />
      ) : null}
      {canEdit ? (
        <div className="form-actions">
          {incompleteShown && dynamic && incompletePaths(reference, draft.definition.root).length > 0 ? (
            <Alert type="warning" showIcon title={t("segment.incomplete")} style={{ marginBottom: 12 }} />
          ) : null}
          {saveError ? (
            <Alert
              type="error"
              showIcon
              title={t("segment.saveFailed")}
              description={errorText(saveError, t)}
              style={{ marginBottom: 12 }}
            />
          ) : null}
          <Space>
            <Button type="primary" onClick={submit} icon={<SaveOutlined />} loading={save.isPending} disabled={!!segment && !dirty}>
              {segment ? t("segment.save") : t("segment.create")}
            </Button>
            {segment && dirty ? (
              <Button onClick={() => setDraft(initial)}>{t("segment.discard")}</Button>
            ) : null}
            {segment && dirty ? <span className="text-secondary">{t("segment.unsaved")}</span> : null}
          </Space>
        </div>
      ) : null}
    </Form>
  );
}

function DeleteSegment({ segment }: { segment: Segment }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [failure, setFailure] = useState<unknown>(null);

  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/segments/{segment_id}", { params: { path: { segment_id: segment.id } } })),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: segmentKey(workspace, segment.id) });
      void queryClient.invalidateQueries({ queryKey: segmentsKey(workspace) });
      void queryClient.invalidateQueries({ queryKey: referenceKey(workspace) });
      void message.success(t("segment.deleted", { name: segment.name }));
      navigate("/segments");
    },
    onError: (error) => setFailure(error),
  });

  const confirm = () =>
    void modal.confirm({
      title: t("segment.deleteConfirm", { name: segment.name }),
      content: t("segment.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => remove.mutateAsync().catch(() => undefined),
    });

  const inUse = failure instanceof ApiError && failure.code === "segment_in_use";
  return (
    <>
      {modalHolder}
      {messageHolder}
      <Button danger icon={<DeleteOutlined />} onClick={confirm} loading={remove.isPending}>
        {t("segment.delete")}
      </Button>
      {failure ? (
        <Alert
          className="page-alert page-head-alert"
          type="error"
          showIcon
          closable={{ onClose: () => setFailure(null) }}
          title={inUse ? t("segment.inUse") : t("segment.deleteFailed")}
          description={errorText(failure, t)}
        />
      ) : null}
    </>
  );
}

export default function SegmentPage() {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const { id: idParam } = useParams();
  const [params, setParams] = useSearchParams();
  const isNew = idParam === undefined;
  const id = /^\d+$/.test(idParam ?? "") ? Number(idParam) : null;

  const segmentQuery = useQuery({
    queryKey: segmentKey(workspace, id ?? 0),
    queryFn: () => unwrap(api.GET("/api/v1/segments/{segment_id}", { params: { path: { segment_id: id ?? 0 } } })),
    enabled: id !== null,
  });
  const reference = useSegmentReference();
  const topics = useTopics();
  const segment = segmentQuery.data;

  const back = (
    <Link to="/segments">
      <Space size={4}>
        <ArrowLeftOutlined />
        {t("segment.back")}
      </Space>
    </Link>
  );

  if (!isNew && (id === null || (segmentQuery.error instanceof ApiError && segmentQuery.error.status === 404))) {
    return (
      <>
        {back}
        <PageTitle title={t("segment.notFound")}>{t("segment.notFound")}</PageTitle>
      </>
    );
  }
  const failed = segmentQuery.isError ? segmentQuery.error : reference.isError ? reference.error : null;
  if (failed) {
    const title = isNew ? t("segment.newTitle") : t("segments.title");
    return (
      <>
        {back}
        <PageTitle title={title}>{title}</PageTitle>
        <ErrorAlert
          error={failed}
          onRetry={() => {
            void segmentQuery.refetch();
            void reference.refetch();
          }}
        />
      </>
    );
  }
  if (isNew && !canEdit) {
    return (
      <>
        {back}
        <PageTitle title={t("segment.newTitle")}>{t("segment.newTitle")}</PageTitle>
        <Alert type="warning" showIcon title={t("errors.forbidden")} />
      </>
    );
  }
  if (!reference.data || (!isNew && !segment)) return <Spin className="page-spin" />;

  const topicList = topics.data?.data ?? [];
  if (isNew || !segment) {
    return (
      <>
        {back}
        <PageTitle title={t("segment.newTitle")}>{t("segment.newTitle")}</PageTitle>
        <SegmentForm reference={reference.data} topics={topicList} />
      </>
    );
  }

  const dynamic = segment.kind !== "static";
  const tabs = [
    {
      key: "definition",
      label: dynamic ? t("segment.tab.definition") : t("segment.tab.details"),
      children: <SegmentForm key={segment.updated_at} segment={segment} reference={reference.data} topics={topicList} />,
    },
    { key: "members", label: t("segment.tab.members"), children: <MembersPanel segment={segment} /> },
    ...(dynamic ? [{ key: "explain", label: t("segment.tab.explain"), children: <ExplainPanel segment={segment} /> }] : []),
  ];
  const tabParam = params.get("tab");
  const active = tabs.some((tab) => tab.key === tabParam) ? (tabParam as string) : "definition";

  return (
    <>
      {back}
      <div className="page-head">
        <PageTitle title={segment.name}>
          {segment.name} <SegmentKindTag kind={segment.kind} />
        </PageTitle>
        {canEdit ? <DeleteSegment segment={segment} /> : null}
      </div>
      {segment.description ? <p className="text-secondary">{segment.description}</p> : null}
      {canEdit ? null : <Alert type="info" showIcon title={t("segment.readOnly")} className="page-alert" />}
      <Tabs
        activeKey={active}
        onChange={(key) => {
          const next = new URLSearchParams(params);
          if (key === "definition") next.delete("tab");
          else next.set("tab", key);
          setParams(next, { replace: true });
        }}
        items={tabs}
      />
    </>
  );
}
