// A score model (/scoring/:id): its recompute progress (read again while it runs) and
// "Recompute now", then tabs with an address each (?tab=settings|report): the rules (add,
// edit, delete), the settings, the report.
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, message as antMessage, Modal, Space, Spin, Table, Tabs, Tag, type TableColumnsType } from "antd";
import { ArrowLeftOutlined, DeleteOutlined, EditOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { Link, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/audiences";
import "../../i18n/scoring";
import { useSegmentReference, useTopics } from "../segments/queries";
import { EngagedThreshold } from "./EngagedThreshold";
import { capText, decayText, ruleWhat, type ScoreModel, type ScoreRule } from "./model";
import { ModelForm } from "./ModelForm";
import { Points } from "./Points";
import { scoreModelKey, scoreModelsKey, useScoreModel } from "./queries";
import { RecomputeStatus } from "./RecomputeStatus";
import { RuleForm } from "./RuleForm";
import { ScoreReportSection } from "./ScoreReportSection";
import "./scoring.css";

const TABS = ["rules", "settings", "report"] as const;
type TabKey = (typeof TABS)[number];
const isTab = (v: string | null): v is TabKey => (TABS as readonly (string | null)[]).includes(v);

function BackLink() {
  const { t } = useI18n();
  return (
    <Link to="/scoring" className="back-link">
      <Space size={4}>
        <ArrowLeftOutlined />
        {t("scoring.back")}
      </Space>
    </Link>
  );
}

function RecomputeBox({ model }: { model: ScoreModel }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [message, messageHolder] = antMessage.useMessage();
  const recompute = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/score-models/{model_id}/recompute", { params: { path: { model_id: model.id } } })),
    onSuccess: (saved) => {
      queryClient.setQueryData(scoreModelKey(workspace, model.id), saved);
      void queryClient.invalidateQueries({ queryKey: scoreModelsKey(workspace) });
      void message.success(t("scoring.recompute.queued"));
    },
  });
  const r = model.recompute;
  return (
    <section className="recompute-box" aria-labelledby="recompute-title">
      {messageHolder}
      <h2 id="recompute-title" className="section-title" style={{ margin: 0 }}>
        {t("scoring.recompute.title")}
      </h2>
      <RecomputeStatus recompute={r} bar />
      {r.finished_at && r.status === "idle" ? (
        <span className="text-secondary">
          {t("scoring.recompute.finished")}: <DateTime value={r.finished_at} />
        </span>
      ) : null}
      {canEdit ? (
        <Button icon={<ReloadOutlined />} onClick={() => recompute.mutate()} loading={recompute.isPending} disabled={r.status !== "idle"}>
          {t("scoring.recompute.now")}
        </Button>
      ) : null}
      <span className="text-secondary" style={{ flexBasis: "100%" }}>
        {t("scoring.recompute.hint")}
      </span>
      {recompute.isError ? (
        <Alert type="error" showIcon title={t("scoring.recompute.failed")} description={errorText(recompute.error, t)} />
      ) : null}
    </section>
  );
}

function RulesSection({ model }: { model: ScoreModel }) {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const reference = useSegmentReference();
  const topics = useTopics();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  // undefined: no dialog; null: a new rule
  const [editing, setEditing] = useState<ScoreRule | null | undefined>(undefined);
  const [deleteError, setDeleteError] = useState<unknown>(null);

  const remove = useMutation({
    mutationFn: (rule: ScoreRule) =>
      unwrap(
        api.DELETE("/api/v1/score-models/{model_id}/rules/{rule_id}", {
          params: { path: { model_id: model.id, rule_id: rule.id } },
        }),
      ),
    onSuccess: (_, rule) => {
      void queryClient.invalidateQueries({ queryKey: scoreModelKey(workspace, model.id) });
      void queryClient.invalidateQueries({ queryKey: scoreModelsKey(workspace) });
      void message.success(t("scoring.rule.deleted", { name: rule.name }));
    },
    onError: (error) => setDeleteError(error),
  });

  const confirmDelete = (rule: ScoreRule) =>
    void modal.confirm({
      title: t("scoring.rule.deleteConfirm", { name: rule.name }),
      content: t("scoring.rule.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => {
        setDeleteError(null);
        return remove.mutateAsync(rule).catch(() => undefined);
      },
    });

  const columns: TableColumnsType<ScoreRule> = [
    { title: t("scoring.rule.col.name"), dataIndex: "name" },
    {
      title: t("scoring.rule.col.kind"),
      dataIndex: "kind",
      render: (kind: ScoreRule["kind"]) => <Tag>{t(`scoring.rule.kind.${kind}`)}</Tag>,
    },
    { title: t("scoring.rule.col.what"), key: "what", render: (_: unknown, r) => ruleWhat(r, t) },
    { title: t("scoring.rule.col.points"), dataIndex: "points", align: "right", render: (p: number) => <Points value={p} /> },
    { title: t("scoring.rule.col.cap"), key: "cap", render: (_: unknown, r) => capText(r, t, lang) ?? t("common.none") },
  ];
  if (canEdit) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, r) => (
        <Space size="small">
          <Button size="small" icon={<EditOutlined />} aria-label={t("scoring.rule.editAria", { name: r.name })} onClick={() => setEditing(r)} />
          <Button
            size="small"
            danger
            icon={<DeleteOutlined />}
            aria-label={t("scoring.rule.deleteAria", { name: r.name })}
            onClick={() => confirmDelete(r)}
          />
        </Space>
      ),
    });
  }

  return (
    <section aria-label={t("scoring.rules.label", { model: model.name })}>
      {modalHolder}
      {messageHolder}
      <p className="text-secondary">{t("scoring.rules.intro")}</p>
      {canEdit ? (
        <div style={{ marginBottom: 12 }}>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing(null)} disabled={!reference.data}>
            {t("scoring.rule.add")}
          </Button>
        </div>
      ) : null}
      {deleteError ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          closable={{ onClose: () => setDeleteError(null) }}
          title={t("scoring.rule.deleteFailed")}
          description={errorText(deleteError, t)}
        />
      ) : null}
      {reference.isError ? <ErrorAlert error={reference.error} onRetry={() => void reference.refetch()} /> : null}
      <Table<ScoreRule>
        aria-label={t("scoring.rules.label", { model: model.name })}
        rowKey="id"
        columns={columns}
        dataSource={model.rules}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("scoring.rules.empty") }}
      />
      <Modal
        open={editing !== undefined}
        title={editing ? t("scoring.rule.edit", { name: editing.name }) : t("scoring.rule.new")}
        footer={null}
        onCancel={() => setEditing(undefined)}
        destroyOnHidden
        width={900}
      >
        {editing !== undefined && reference.data ? (
          <RuleForm
            key={editing?.id ?? "new"}
            model={model}
            rule={editing}
            reference={reference.data}
            topics={topics.data?.data ?? []}
            onCancel={() => setEditing(undefined)}
            onSaved={(rule) => {
              setEditing(undefined);
              void message.success(t("scoring.rule.saved", { name: rule.name }));
            }}
          />
        ) : null}
      </Modal>
    </section>
  );
}

export default function ScoreModelPage() {
  const { t, lang } = useI18n();
  const { id: idParam } = useParams();
  const [params, setParams] = useSearchParams();
  const [message, messageHolder] = antMessage.useMessage();
  const id = /^\d+$/.test(idParam ?? "") ? Number(idParam) : null;
  const query = useScoreModel(id);
  const model = query.data;
  const tabParam = params.get("tab");
  const tab: TabKey = isTab(tabParam) ? tabParam : "rules";

  if (id === null || (query.error instanceof ApiError && query.error.status === 404)) {
    return (
      <>
        <BackLink />
        <PageTitle title={t("scoring.notFound")}>{t("scoring.notFound")}</PageTitle>
      </>
    );
  }
  if (query.isError) {
    return (
      <>
        <BackLink />
        <PageTitle title={t("scoring.title")}>{t("scoring.title")}</PageTitle>
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      </>
    );
  }
  if (!model) return <Spin className="page-spin" />;

  return (
    <>
      {messageHolder}
      <BackLink />
      <PageTitle title={model.name}>{model.name}</PageTitle>
      <div className="score-model-meta">
        <code>{model.key}</code>
        {model.is_default ? (
          <Tag className="sc-tag-info" title={t("scoring.defaultHint")}>
            {t("scoring.default")}
          </Tag>
        ) : null}
        <span className="text-secondary">{decayText(model.decay, t, lang)}</span>
      </div>
      {model.description ? <p className="text-secondary page-intro">{model.description}</p> : null}
      <RecomputeBox model={model} />
      <Tabs
        activeKey={tab}
        onChange={(key) => {
          const next = new URLSearchParams(params);
          if (key === "rules") next.delete("tab");
          else next.set("tab", key);
          setParams(next, { replace: true });
        }}
        items={[
          { key: "rules", label: t("scoring.tab.rules"), children: <RulesSection model={model} /> },
          {
            key: "settings",
            label: t("scoring.tab.settings"),
            children: (
              <>
                <ModelForm
                  key={model.updated_at}
                  model={model}
                  onSaved={() => void message.success(t("scoring.saved"))}
                />
                <EngagedThreshold model={model} />
              </>
            ),
          },
          { key: "report", label: t("scoring.tab.report"), children: <ScoreReportSection model={model} /> },
        ]}
      />
    </>
  );
}
