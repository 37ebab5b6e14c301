// Audiences → Predictive models (/predictive-models): the workspace's models with their goal,
// algorithm, status (and why a training failed), holdout AUC and when they were trained and
// scored; a new one (a dialog), "Train now", delete with confirmation. A model's card is on
// its own page.
import { useMemo, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, message as antMessage, Modal, Space, Table, type TableColumnsType } from "antd";
import { DeleteOutlined, PlusOutlined, ThunderboltOutlined } from "@ant-design/icons";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/predict";
import { goalText, numberText, type PredictiveModel } from "./model";
import { PredictiveModelForm } from "./PredictiveModelForm";
import { predictiveModelsKey, usePredictiveModels } from "./queries";
import { StatusTag } from "./StatusTag";
import { useTrain } from "./useTrain";
import "./predictive.css";

export default function PredictiveModelsPage() {
  const { t, lang } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [creating, setCreating] = useState(false);
  const [actionError, setActionError] = useState<{ title: string; error: unknown } | null>(null);
  const query = usePredictiveModels();
  const models = useMemo(() => query.data?.data ?? [], [query.data]);

  const train = useTrain((m) => void message.success(t("predict.trainQueued", { name: m.name })));
  const remove = useMutation({
    mutationFn: (m: PredictiveModel) =>
      unwrap(api.DELETE("/api/v1/predictive-models/{model_id}", { params: { path: { model_id: m.id } } })),
    onSuccess: (_, m) => {
      void queryClient.invalidateQueries({ queryKey: predictiveModelsKey(workspace) });
      void message.success(t("predict.deleted", { name: m.name }));
    },
    onError: (error) => setActionError({ title: t("predict.deleteFailed"), error }),
  });

  const confirmDelete = (m: PredictiveModel) =>
    void modal.confirm({
      title: t("predict.deleteConfirm", { name: m.name }),
      content: t("predict.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => {
        setActionError(null);
        return remove.mutateAsync(m).catch(() => undefined);
      },
    });

  const columns: TableColumnsType<PredictiveModel> = [
    {
      title: t("predict.col.name"),
      dataIndex: "name",
      render: (name: string, m) => (
        <>
          <Link to={`/predictive-models/${m.id}`}>{name}</Link>
          <div className="text-secondary cell-note">
            <code>{m.key}</code>
          </div>
        </>
      ),
    },
    { title: t("predict.col.goal"), key: "goal", render: (_: unknown, m) => goalText(m.goal, t) },
    { title: t("predict.col.algorithm"), dataIndex: "algorithm", render: (a: PredictiveModel["algorithm"]) => t(`predict.algorithm.${a}`) },
    { title: t("predict.col.status"), key: "status", render: (_: unknown, m) => <StatusTag model={m} reason /> },
    {
      title: t("predict.col.auc"),
      key: "auc",
      align: "right",
      render: (_: unknown, m) => numberText(m.card?.auc, lang, 3),
    },
    {
      title: t("predict.col.times"),
      key: "times",
      render: (_: unknown, m) => (
        <>
          <div>
            <span className="text-secondary">{t("predict.col.trained")}: </span>
            {m.trained_at ? <DateTime value={m.trained_at} /> : t("predict.never")}
          </div>
          <div>
            <span className="text-secondary">{t("predict.col.scored")}: </span>
            {m.scored_at ? <DateTime value={m.scored_at} /> : t("predict.never")}
          </div>
        </>
      ),
    },
  ];
  if (canEdit) {
    columns.push({
      title: t("common.actions"),
      key: "actions",
      render: (_: unknown, m) => (
        <Space size="small">
          <Button
            size="small"
            icon={<ThunderboltOutlined />}
            disabled={m.status === "training"}
            loading={train.isPending && train.variables?.id === m.id}
            aria-label={t("predict.trainAria", { name: m.name })}
            onClick={() => {
              setActionError(null);
              train.mutate(m, { onError: (error) => setActionError({ title: t("predict.trainFailed"), error }) });
            }}
          >
            {t("predict.train")}
          </Button>
          <Button
            size="small"
            danger
            icon={<DeleteOutlined />}
            aria-label={t("predict.delete", { name: m.name })}
            onClick={() => confirmDelete(m)}
          />
        </Space>
      ),
    });
  }

  return (
    <>
      {modalHolder}
      {messageHolder}
      <div className="page-head">
        <PageTitle title={t("predict.title")}>{t("predict.title")}</PageTitle>
        {canEdit ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            {t("predict.new")}
          </Button>
        ) : null}
      </div>
      <p className="text-secondary page-intro">{t("predict.intro")}</p>
      {actionError ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          closable={{ onClose: () => setActionError(null) }}
          title={actionError.title}
          description={errorText(actionError.error, t)}
        />
      ) : null}
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<PredictiveModel>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={models}
        loading={query.isPending}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("predict.empty") }}
        onRow={(record) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            navigate(`/predictive-models/${record.id}`);
          },
        })}
      />
      <Modal open={creating} title={t("predict.new")} footer={null} onCancel={() => setCreating(false)} destroyOnHidden width={640}>
        <PredictiveModelForm
          model={null}
          onCancel={() => setCreating(false)}
          onSaved={(saved) => {
            setCreating(false);
            void message.success(t("predict.created", { name: saved.name }));
            navigate(`/predictive-models/${saved.id}`);
          }}
        />
      </Modal>
    </>
  );
}
