// A score model's engaged threshold for B2B accounts (GET /account-scores, PUT
// /account-scores/{key}): a member scoring at least this counts as engaged in the account's
// roll-up. On the model's Settings tab, where a marketer sets up the model.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Form, InputNumber, message as antMessage, Space, Tag } from "antd";
import { api, unwrap } from "../../api/client";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import "../../i18n/scoring";
import type { ScoreModel } from "./model";

export const accountScoresKey = (workspace: number | null) => ["account-scores", workspace] as const;
/** The API's bounds (AccountScoreSettingUpdate). */
const LIMIT = 1e12;

/** The threshold typed, or why it cannot be saved. */
export function thresholdError(value: number | null): "required" | "range" | null {
  if (value === null || !Number.isFinite(value)) return "required";
  return Math.abs(value) > LIMIT ? "range" : null;
}

function ThresholdForm({
  model,
  current,
  isDefault,
  onSaved,
}: {
  model: ScoreModel;
  current: number;
  isDefault: boolean;
  onSaved: () => void;
}) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [value, setValue] = useState<number | null>(current);
  const [error, setError] = useState<"required" | "range" | null>(null);
  const save = useMutation({
    mutationFn: (threshold: number) =>
      unwrap(api.PUT("/api/v1/account-scores/{key}", { params: { path: { key: model.key } }, body: { engaged_threshold: threshold } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: accountScoresKey(workspace) });
      void queryClient.invalidateQueries({ queryKey: ["accounts", workspace] });
      onSaved();
    },
  });
  const submit = () => {
    const found = thresholdError(value);
    setError(found);
    if (!found && value !== null) save.mutate(value);
  };
  const id = `engaged-${model.id}`;
  return (
    <Form layout="vertical" component="div" disabled={!canEdit}>
      <Form.Item
        label={t("scoring.engaged.threshold")}
        htmlFor={id}
        required
        validateStatus={error ? "error" : undefined}
        help={error ? t(error === "required" ? "scoring.engaged.required" : "scoring.engaged.range") : undefined}
      >
        <Space wrap>
          <InputNumber id={id} value={value} onChange={(v) => setValue(typeof v === "number" ? v : null)} style={{ width: 160 }} />
          {isDefault ? <Tag>{t("scoring.engaged.default")}</Tag> : null}
          {canEdit ? (
            <Button onClick={submit} loading={save.isPending}>
              {t("common.save")}
            </Button>
          ) : null}
        </Space>
      </Form.Item>
      {save.isError ? <Alert type="error" showIcon title={t("scoring.engaged.failed")} description={errorText(save.error, t)} /> : null}
    </Form>
  );
}

export function EngagedThreshold({ model }: { model: ScoreModel }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  // here, not in the form: the form is made anew with the saved threshold
  const [message, messageHolder] = antMessage.useMessage();
  const query = useQuery({
    queryKey: accountScoresKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/account-scores")),
  });
  const setting = query.data?.data.find((s) => s.model === model.key);
  return (
    <section className="engaged-threshold" aria-labelledby="engaged-title" style={{ marginTop: 24 }}>
      {messageHolder}
      <h2 id="engaged-title" className="section-title">
        {t("scoring.engaged.title")}
      </h2>
      <p className="text-secondary">{t("scoring.engaged.hint")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {setting ? (
        <ThresholdForm
          key={setting.engaged_threshold}
          model={model}
          current={setting.engaged_threshold}
          isDefault={setting.default}
          onSaved={() => void message.success(t("scoring.engaged.saved"))}
        />
      ) : null}
    </section>
  );
}
