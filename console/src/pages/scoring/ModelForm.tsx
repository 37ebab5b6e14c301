// A score model's settings: key (when new), name, description, decay, bounds, default. Used
// by the "New score model" dialog and the model page's Settings tab.
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Checkbox, Form, Input, InputNumber, Select, Space } from "antd";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import "../../i18n/scoring";
import { DECAY_TYPES, decayBody, decayDraft, KEY_PATTERN, type DecayDraft, type DecayType, type ScoreModel } from "./model";
import { scoreModelKey, scoreModelsKey } from "./queries";

interface Draft {
  key: string;
  name: string;
  description: string;
  decay: DecayDraft;
  min: number | null;
  max: number | null;
  isDefault: boolean;
}

function draftOf(model: ScoreModel | null, firstModel: boolean): Draft {
  return {
    key: model?.key ?? "",
    name: model?.name ?? "",
    description: model?.description ?? "",
    decay: decayDraft(model?.decay),
    min: model?.min_score ?? null,
    max: model?.max_score ?? null,
    isDefault: model ? model.is_default : firstModel,
  };
}

type FieldErrors = Partial<Record<"key" | "name" | "decay" | "bounds", string>>;

export function ModelForm({
  model,
  firstModel = false,
  onSaved,
  onCancel,
}: {
  /** null: a new model */
  model: ScoreModel | null;
  /** no model yet: the new one is the default unless unticked */
  firstModel?: boolean;
  onSaved: (model: ScoreModel) => void;
  onCancel?: () => void;
}) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(model, firstModel));
  const [errors, setErrors] = useState<FieldErrors>({});
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const setDecay = (patch: Partial<DecayDraft>) => setDraft((d) => ({ ...d, decay: { ...d.decay, ...patch } }));

  const save = useMutation({
    mutationFn: (d: Draft) => {
      const common = {
        name: d.name.trim(),
        description: d.description.trim() || null,
        decay: decayBody(d.decay),
        min_score: d.min,
        max_score: d.max,
        is_default: d.isDefault,
      };
      return model
        ? unwrap(api.PATCH("/api/v1/score-models/{model_id}", { params: { path: { model_id: model.id } }, body: common }))
        : unwrap(api.POST("/api/v1/score-models", { body: { key: d.key.trim(), ...common } }));
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(scoreModelKey(workspace, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: scoreModelsKey(workspace) });
      onSaved(saved);
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      if (error.code === "score_model_exists") setErrors({ key: t("scoring.field.keyExists") });
      else if (error.code === "invalid_score_model_key") setErrors({ key: t("scoring.field.keyInvalid") });
      else if (error.code === "invalid_decay") setErrors({ decay: error.message });
      else if (error.code === "invalid_score_bounds") setErrors({ bounds: error.message });
    },
  });

  const submit = () => {
    const found: FieldErrors = {};
    if (!model && !draft.key.trim()) found.key = t("scoring.field.keyRequired");
    else if (!model && !KEY_PATTERN.test(draft.key.trim())) found.key = t("scoring.field.keyInvalid");
    if (!draft.name.trim()) found.name = t("scoring.field.nameRequired");
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate(draft);
  };
  const shownOnField = Object.keys(errors).length > 0;
  const saveError = save.error && !shownOnField ? save.error : null;
  const status = (field: keyof FieldErrors) => (errors[field] ? ("error" as const) : undefined);
  const idp = model ? `model-${model.id}` : "model-new";

  return (
    <Form layout="vertical" component="div" disabled={!canEdit} className="score-model-form">
      {model ? null : (
        <Form.Item
          label={t("scoring.field.key")}
          htmlFor={`${idp}-key`}
          required
          extra={t("scoring.field.keyHint")}
          validateStatus={status("key")}
          help={errors.key}
        >
          <Input id={`${idp}-key`} value={draft.key} maxLength={100} onChange={(e) => set({ key: e.target.value })} />
        </Form.Item>
      )}
      <Form.Item label={t("scoring.field.name")} htmlFor={`${idp}-name`} required validateStatus={status("name")} help={errors.name}>
        <Input id={`${idp}-name`} value={draft.name} maxLength={200} onChange={(e) => set({ name: e.target.value })} />
      </Form.Item>
      <Form.Item label={t("scoring.field.description")} htmlFor={`${idp}-description`}>
        <Input.TextArea
          id={`${idp}-description`}
          value={draft.description}
          autoSize={{ minRows: 1, maxRows: 4 }}
          onChange={(e) => set({ description: e.target.value })}
        />
      </Form.Item>
      <Form.Item
        label={t("scoring.field.decay")}
        htmlFor={`${idp}-decay`}
        extra={t("scoring.field.decayHint")}
        validateStatus={status("decay")}
        help={errors.decay}
      >
        <Select<DecayType>
          id={`${idp}-decay`}
          value={draft.decay.type}
          onChange={(type) => setDecay({ type })}
          options={DECAY_TYPES.map((d) => ({ value: d, label: t(`scoring.decay.${d}`) }))}
          style={{ maxWidth: 280 }}
        />
      </Form.Item>
      {draft.decay.type === "half_life" ? (
        <Form.Item label={t("scoring.field.halfLife")} htmlFor={`${idp}-half-life`} required>
          <InputNumber id={`${idp}-half-life`} min={0.1} max={3650} value={draft.decay.days} onChange={(v) => setDecay({ days: v })} />
        </Form.Item>
      ) : null}
      {draft.decay.type === "points" ? (
        <Space wrap align="start">
          <Form.Item label={t("scoring.field.decayPoints")} htmlFor={`${idp}-decay-points`} required>
            <InputNumber id={`${idp}-decay-points`} min={0} value={draft.decay.points} onChange={(v) => setDecay({ points: v })} />
          </Form.Item>
          <Form.Item label={t("scoring.field.decayEvery")} htmlFor={`${idp}-decay-every`} required>
            <InputNumber
              id={`${idp}-decay-every`}
              min={1}
              precision={0}
              value={draft.decay.every_days}
              onChange={(v) => setDecay({ every_days: v })}
            />
          </Form.Item>
        </Space>
      ) : null}
      <Space wrap align="start">
        <Form.Item
          label={t("scoring.field.min")}
          htmlFor={`${idp}-min`}
          validateStatus={status("bounds")}
          help={errors.bounds}
          extra={errors.bounds ? undefined : t("scoring.field.boundsHint")}
        >
          <InputNumber id={`${idp}-min`} value={draft.min} placeholder={t("scoring.field.noBound")} onChange={(v) => set({ min: v })} />
        </Form.Item>
        <Form.Item label={t("scoring.field.max")} htmlFor={`${idp}-max`} validateStatus={status("bounds")}>
          <InputNumber id={`${idp}-max`} value={draft.max} placeholder={t("scoring.field.noBound")} onChange={(v) => set({ max: v })} />
        </Form.Item>
      </Space>
      <Form.Item extra={t("scoring.field.defaultHint")}>
        <Checkbox checked={draft.isDefault} onChange={(e) => set({ isDefault: e.target.checked })}>
          {t("scoring.field.default")}
        </Checkbox>
      </Form.Item>
      {model ? <p className="text-secondary">{t("scoring.settings.recomputeHint")}</p> : null}
      {saveError ? (
        <Alert
          type="error"
          showIcon
          title={model ? t("scoring.saveFailed") : t("scoring.createFailed")}
          description={errorText(saveError, t)}
          style={{ marginBottom: 12 }}
        />
      ) : null}
      {canEdit ? (
        <Space>
          <Button type="primary" onClick={submit} loading={save.isPending}>
            {model ? t("common.save") : t("scoring.create")}
          </Button>
          {onCancel ? <Button onClick={onCancel}>{t("common.cancel")}</Button> : null}
        </Space>
      ) : null}
    </Form>
  );
}
