// A predictive model's settings: key (when new), name, description, the goal (an event picked
// from the workspace's event names, or typed: it may not have been seen yet) within N days,
// the algorithm and the retraining schedule. Used by the "New predictive model" dialog and
// the model page's Settings tab.
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, AutoComplete, Button, Form, Input, InputNumber, Select, Space } from "antd";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import "../../i18n/predict";
import { useSegmentReference } from "../segments/queries";
import { ALGORITHMS, KEY_PATTERN, type Algorithm, type PredictiveModel } from "./model";
import { predictiveModelKey, predictiveModelsKey } from "./queries";

interface Draft {
  key: string;
  name: string;
  description: string;
  event: string;
  withinDays: number | null;
  algorithm: Algorithm;
  retrainDays: number | null;
}

function draftOf(model: PredictiveModel | null): Draft {
  return {
    key: model?.key ?? "",
    name: model?.name ?? "",
    description: model?.description ?? "",
    event: model?.goal.event ?? "",
    withinDays: model?.goal.within_days ?? 14,
    algorithm: model?.algorithm ?? "gradient_boosting",
    retrainDays: model?.retrain_every_days ?? 7,
  };
}

type FieldErrors = Partial<Record<"key" | "name" | "event" | "withinDays" | "retrainDays", string>>;

const validDays = (n: number | null): boolean => n !== null && Number.isInteger(n) && n >= 1 && n <= 365;

export function PredictiveModelForm({
  model,
  onSaved,
  onCancel,
}: {
  /** null: a new model */
  model: PredictiveModel | null;
  onSaved: (model: PredictiveModel) => void;
  onCancel?: () => void;
}) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const reference = useSegmentReference();
  const [draft, setDraft] = useState<Draft>(() => draftOf(model));
  const [errors, setErrors] = useState<FieldErrors>({});
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  const save = useMutation({
    mutationFn: (d: Draft) => {
      const common = {
        name: d.name.trim(),
        description: d.description.trim() || null,
        goal: { event: d.event.trim(), within_days: d.withinDays ?? 14 },
        algorithm: d.algorithm,
        retrain_every_days: d.retrainDays ?? 7,
      };
      return model
        ? unwrap(api.PATCH("/api/v1/predictive-models/{model_id}", { params: { path: { model_id: model.id } }, body: common }))
        : unwrap(api.POST("/api/v1/predictive-models", { body: { key: d.key.trim(), ...common } }));
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(predictiveModelKey(workspace, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: predictiveModelsKey(workspace) });
      onSaved(saved);
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      if (error.code === "predictive_model_exists") setErrors({ key: t("predict.field.keyExists") });
      else if (error.code === "invalid_predictive_model_key") setErrors({ key: t("predict.field.keyInvalid") });
    },
  });

  const submit = () => {
    const found: FieldErrors = {};
    if (!model && !draft.key.trim()) found.key = t("predict.field.keyRequired");
    else if (!model && !KEY_PATTERN.test(draft.key.trim())) found.key = t("predict.field.keyInvalid");
    if (!draft.name.trim()) found.name = t("predict.field.nameRequired");
    if (!draft.event.trim()) found.event = t("predict.field.eventRequired");
    if (!validDays(draft.withinDays)) found.withinDays = t("predict.field.daysInvalid");
    if (!validDays(draft.retrainDays)) found.retrainDays = t("predict.field.daysInvalid");
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate(draft);
  };
  const shownOnField = Object.keys(errors).length > 0;
  const saveError = save.error && !shownOnField ? save.error : null;
  const status = (field: keyof FieldErrors) => (errors[field] ? ("error" as const) : undefined);
  const idp = model ? `pm-${model.id}` : "pm-new";
  const events = reference.data?.events ?? [];

  return (
    <Form layout="vertical" component="div" disabled={!canEdit} className="predictive-form">
      {model ? null : (
        <Form.Item
          label={t("predict.field.key")}
          htmlFor={`${idp}-key`}
          required
          extra={t("predict.field.keyHint")}
          validateStatus={status("key")}
          help={errors.key}
        >
          <Input id={`${idp}-key`} value={draft.key} maxLength={100} onChange={(e) => set({ key: e.target.value })} />
        </Form.Item>
      )}
      <Form.Item label={t("predict.field.name")} htmlFor={`${idp}-name`} required validateStatus={status("name")} help={errors.name}>
        <Input id={`${idp}-name`} value={draft.name} maxLength={200} onChange={(e) => set({ name: e.target.value })} />
      </Form.Item>
      <Form.Item label={t("predict.field.description")} htmlFor={`${idp}-description`}>
        <Input.TextArea
          id={`${idp}-description`}
          value={draft.description}
          autoSize={{ minRows: 1, maxRows: 4 }}
          onChange={(e) => set({ description: e.target.value })}
        />
      </Form.Item>
      <Space wrap align="start">
        <Form.Item
          label={t("predict.field.event")}
          htmlFor={`${idp}-event`}
          required
          extra={errors.event ? undefined : t("predict.field.eventHint")}
          validateStatus={status("event")}
          help={errors.event}
          style={{ maxWidth: 360 }}
        >
          <AutoComplete
            id={`${idp}-event`}
            value={draft.event}
            onChange={(v: string) => set({ event: v })}
            options={events.map((e) => ({ value: e }))}
            filterOption={(input, option) => String(option?.value ?? "").toLowerCase().includes(input.toLowerCase())}
            style={{ width: 280 }}
          />
        </Form.Item>
        <Form.Item
          label={t("predict.field.withinDays")}
          htmlFor={`${idp}-within`}
          required
          extra={errors.withinDays ? undefined : t("predict.field.withinDaysHint")}
          validateStatus={status("withinDays")}
          help={errors.withinDays}
          style={{ maxWidth: 280 }}
        >
          <InputNumber id={`${idp}-within`} min={1} max={365} precision={0} value={draft.withinDays} onChange={(v) => set({ withinDays: v })} />
        </Form.Item>
      </Space>
      <Form.Item label={t("predict.field.algorithm")} htmlFor={`${idp}-algorithm`} extra={t("predict.field.algorithmHint")}>
        <Select<Algorithm>
          id={`${idp}-algorithm`}
          value={draft.algorithm}
          onChange={(algorithm) => set({ algorithm })}
          options={ALGORITHMS.map((a) => ({ value: a, label: t(`predict.algorithm.${a}`) }))}
          style={{ maxWidth: 280 }}
        />
      </Form.Item>
      <Form.Item
        label={t("predict.field.retrain")}
        htmlFor={`${idp}-retrain`}
        required
        extra={errors.retrainDays ? undefined : t("predict.field.retrainHint")}
        validateStatus={status("retrainDays")}
        help={errors.retrainDays}
      >
        <InputNumber id={`${idp}-retrain`} min={1} max={365} precision={0} value={draft.retrainDays} onChange={(v) => set({ retrainDays: v })} />
      </Form.Item>
      {model ? <p className="text-secondary">{t("predict.field.retrainNote")}</p> : null}
      {saveError ? (
        <Alert
          type="error"
          showIcon
          title={model ? t("predict.saveFailed") : t("predict.createFailed")}
          description={errorText(saveError, t)}
          style={{ marginBottom: 12 }}
        />
      ) : null}
      {canEdit ? (
        <Space>
          <Button type="primary" onClick={submit} loading={save.isPending}>
            {model ? t("common.save") : t("predict.create")}
          </Button>
          {onCancel ? <Button onClick={onCancel}>{t("common.cancel")}</Button> : null}
        </Space>
      ) : null}
    </Form>
  );
}
