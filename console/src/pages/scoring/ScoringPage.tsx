// Audiences → Scoring (/scoring): the workspace's score models, a new one (a dialog), delete
// with confirmation. A model's rules, settings and report are on its own page.
import { useMemo, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, message as antMessage, Modal, Table, Tag, type TableColumnsType } from "antd";
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/scoring";
import { decayText, type ScoreModel } from "./model";
import { ModelForm } from "./ModelForm";
import { scoreModelsKey, useScoreModels } from "./queries";
import { RecomputeStatus } from "./RecomputeStatus";
import "./scoring.css";

export default function ScoringPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [creating, setCreating] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const query = useScoreModels();
  const models = useMemo(() => query.data?.data ?? [], [query.data]);

  const remove = useMutation({
    mutationFn: (m: ScoreModel) =>
      unwrap(api.DELETE("/api/v1/score-models/{model_id}", { params: { path: { model_id: m.id } } })),
    onSuccess: (_, m) => {
      void queryClient.invalidateQueries({ queryKey: scoreModelsKey(workspace) });
      void message.success(t("scoring.deleted", { name: m.name }));
    },
    onError: (error) => setDeleteError(error),
  });

  const confirmDelete = (m: ScoreModel) =>
    void modal.confirm({
      title: t("scoring.deleteConfirm", { name: m.name }),
      content: t("scoring.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => {
        setDeleteError(null);
        return remove.mutateAsync(m).catch(() => undefined);
      },
    });

  const columns: TableColumnsType<ScoreModel> = [
    {
      title: t("scoring.col.name"),
      dataIndex: "name",
      render: (name: string, m) => (
        <>
          <Link to={`/scoring/${m.id}`}>{name}</Link>
          {m.is_default ? (
            <Tag className="sc-tag-info" style={{ marginInlineStart: 8 }} title={t("scoring.defaultHint")}>
              {t("scoring.default")}
            </Tag>
          ) : null}
          {m.description ? <div className="text-secondary cell-note">{m.description}</div> : null}
        </>
      ),
    },
    { title: t("scoring.col.key"), dataIndex: "key", render: (key: string) => <code>{key}</code> },
    { title: t("scoring.col.decay"), key: "decay", render: (_: unknown, m) => decayText(m.decay, t, lang) },
    {
      title: t("scoring.col.rules"),
      key: "rules",
      align: "right",
      render: (_: unknown, m) => new Intl.NumberFormat(lang).format(m.rules.length),
    },
    { title: t("scoring.col.recompute"), key: "recompute", render: (_: unknown, m) => <RecomputeStatus recompute={m.recompute} /> },
  ];
  if (canEdit) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, m) => (
        <Button
          size="small"
          danger
          icon={<DeleteOutlined />}
          aria-label={t("scoring.delete", { name: m.name })}
          onClick={() => confirmDelete(m)}
        />
      ),
    });
  }

  return (
    <>
      {modalHolder}
      {messageHolder}
      <div className="page-head">
        <PageTitle title={t("scoring.title")}>{t("scoring.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            {t("scoring.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("scoring.intro")}</p>
      {deleteError ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          closable={{ onClose: () => setDeleteError(null) }}
          title={t("scoring.deleteFailed")}
          description={errorText(deleteError, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<ScoreModel>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={models}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("scoring.empty") }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/scoring/${record.id}`);
          },
        })}
      />
      <Modal
        open={creating}
        title={t("scoring.new")}
        footer={null}
        onCancel={() => setCreating(false)}
        destroyOnHidden
        width={640}
      >
        <ModelForm
          model={null}
          firstModel={!query.isPending && models.length === 0}
          onCancel={() => setCreating(false)}
          onSaved={(m) => {
            setCreating(false);
            void message.success(t("scoring.created", { name: m.name }));
            navigate(`/scoring/${m.id}`);
          }}
        />
      </Modal>
    </>
  );
}
