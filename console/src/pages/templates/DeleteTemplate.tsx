import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, message as antMessage, Modal } from "antd";
import { DeleteOutlined } from "@ant-design/icons";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import type { Template } from "./model";
import { templateKey, templatesKey } from "./queries";

/** Deletes a template after asking; `compact`: an icon button for a table row. */
export function DeleteTemplate({ template, compact, onDeleted }: { template: Template; compact?: boolean; onDeleted?: () => void }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const [failure, setFailure] = useState<unknown>(null);

  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/templates/{template_id}", { params: { path: { template_id: template.id } } })),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: templateKey(workspace, template.id) });
      void queryClient.invalidateQueries({ queryKey: templatesKey(workspace) });
      void message.success(t("template.deleted", { name: template.name }));
      onDeleted?.();
    },
    onError: (error) => setFailure(error),
  });

  const confirm = () =>
    void modal.confirm({
      title: t("template.deleteConfirm", { name: template.name }),
      content: t("template.deleteHint"),
      okText: t("common.delete"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () => remove.mutateAsync().catch(() => undefined),
    });

  return (
    <>
      {modalHolder}
      {messageHolder}
      {compact ? (
        <Button
          type="text"
          danger
          icon={<DeleteOutlined />}
          aria-label={t("template.deleteNamed", { name: template.name })}
          onClick={confirm}
          loading={remove.isPending}
        />
      ) : (
        <Button danger icon={<DeleteOutlined />} onClick={confirm} loading={remove.isPending}>
          {t("template.delete")}
        </Button>
      )}
      {failure ? (
        <Alert
          className="page-alert"
          type="error"
          showIcon
          closable={{ onClose: () => setFailure(null) }}
          title={t("template.deleteFailed")}
          description={errorText(failure, t)}
        />
      ) : null}
    </>
  );
}
