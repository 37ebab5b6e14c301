// A score rule's form (in a dialog on the model page): name, points (negative take off),
// and either an event with the segment builder's property filters and an optional cap, or a
// segment condition edited with the segment builder itself.
import { useMemo, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Checkbox, Form, Input, InputNumber, Radio, Select, Space } from "antd";
import { api, unwrap } from "../../api/client";
import type { SegmentReference, Topic } from "../../api/types";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import "../../i18n/audiences";
import "../../i18n/scoring";
import { BuilderProvider, builderEnv } from "../segments/builder/BuilderContext";
import { ConditionEditor } from "../segments/builder/ConditionEditor";
import { EventInput, WhereEditor } from "../segments/builder/inputs";
import { errorPath, incompletePaths } from "../segments/builder/model";
import { CAP_PERIODS, ruleBody, ruleDraft, type CapPeriod, type RuleDraft, type ScoreModel, type ScoreRule } from "./model";
import { scoreModelKey, scoreModelsKey } from "./queries";

type FieldErrors = Partial<Record<"name" | "points" | "event" | "cap" | "condition", string>>;

export function RuleForm({
  model,
  rule,
  reference,
  topics,
  onSaved,
  onCancel,
}: {
  model: ScoreModel;
  /** null: a new rule */
  rule: ScoreRule | null;
  reference: SegmentReference;
  topics: Topic[];
  onSaved: (rule: ScoreRule) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<RuleDraft>(() => ruleDraft(rule));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [serverPath, setServerPath] = useState<Map<string, string>>(new Map());
  const set = (patch: Partial<RuleDraft>) => setDraft((d) => ({ ...d, ...patch }));

  const incomplete = useMemo(() => new Set(incompletePaths(reference, draft.condition)), [reference, draft.condition]);
  // A score rule cannot test a score (the server refuses it): the builder does not offer it.
  const env = useMemo(() => {
    const base = builderEnv(reference, { readOnly: false, errors: serverPath, incomplete, topics, selfId: null });
    return { ...base, kinds: base.kinds.filter((k) => k !== "score") };
  }, [reference, serverPath, incomplete, topics]);

  const save = useMutation({
    mutationFn: (d: RuleDraft) => {
      const body = { name: d.name.trim(), points: d.points ?? 0, rule: ruleBody(d) };
      return rule
        ? unwrap(
            api.PATCH("/api/v1/score-models/{model_id}/rules/{rule_id}", {
              params: { path: { model_id: model.id, rule_id: rule.id } },
              body,
            }),
          )
        : unwrap(api.POST("/api/v1/score-models/{model_id}/rules", { params: { path: { model_id: model.id } }, body }));
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: scoreModelKey(workspace, model.id) });
      void queryClient.invalidateQueries({ queryKey: scoreModelsKey(workspace) });
      onSaved(saved);
    },
    onError: (error) => {
      // "rule.condition.conditions[0].operator: …" names the condition as the builder does
      const message = error instanceof Error ? error.message : "";
      const inCondition = /^rule\.condition/.exec(message);
      const found = inCondition ? errorPath(message.replace(/^rule\.condition/, "root")) : null;
      setServerPath(found ? new Map([[found.path, message]]) : new Map());
    },
  });

  const submit = () => {
    const found: FieldErrors = {};
    if (!draft.name.trim()) found.name = t("scoring.rule.nameRequired");
    if (draft.points === null || draft.points === 0) found.points = t("scoring.rule.pointsRequired");
    if (draft.kind === "event") {
      if (!draft.event?.trim()) found.event = t("scoring.rule.eventRequired");
      if (draft.capOn && !(typeof draft.cap.points === "number" && draft.cap.points > 0)) found.cap = t("scoring.rule.capRequired");
    } else if (incomplete.size > 0) {
      found.condition = t("scoring.rule.conditionIncomplete");
    }
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate(draft);
  };
  const status = (field: keyof FieldErrors) => (errors[field] ? ("error" as const) : undefined);

  return (
    <BuilderProvider env={env}>
      <Form layout="vertical" component="div" className="rule-form">
        <Form.Item label={t("scoring.rule.name")} htmlFor="rule-name" required validateStatus={status("name")} help={errors.name}>
          <Input id="rule-name" value={draft.name} maxLength={200} onChange={(e) => set({ name: e.target.value })} />
        </Form.Item>
        <Form.Item
          label={t("scoring.rule.points")}
          htmlFor="rule-points"
          required
          extra={errors.points ? undefined : t("scoring.rule.pointsHint")}
          validateStatus={status("points")}
          help={errors.points}
        >
          <InputNumber
            id="rule-points"
            value={draft.points}
            min={-1_000_000}
            max={1_000_000}
            onChange={(v) => set({ points: v })}
            className={draft.points !== null && draft.points < 0 ? "points-neg" : undefined}
          />
        </Form.Item>
        <Form.Item label={t("scoring.rule.kind")}>
          <Radio.Group
            value={draft.kind}
            onChange={(e) => set({ kind: e.target.value as RuleDraft["kind"] })}
            aria-label={t("scoring.rule.kind")}
          >
            <Space orientation="vertical">
              <Radio value="event">
                {t("scoring.rule.kind.event")} <span className="text-secondary">— {t("scoring.rule.kindHint.event")}</span>
              </Radio>
              <Radio value="condition">
                {t("scoring.rule.kind.condition")} <span className="text-secondary">— {t("scoring.rule.kindHint.condition")}</span>
              </Radio>
            </Space>
          </Radio.Group>
        </Form.Item>
        {draft.kind === "event" ? (
          <>
            <Form.Item label={t("scoring.rule.event")} required validateStatus={status("event")} help={errors.event}>
              <EventInput value={draft.event} onChange={(event) => set({ event })} label={t("scoring.rule.event")} />
            </Form.Item>
            <Form.Item label={t("scoring.rule.where")}>
              <WhereEditor
                value={draft.where}
                onChange={(where) => set({ where })}
                label={t("scoring.rule.whereLabel")}
                event={draft.event}
              />
            </Form.Item>
            <Form.Item validateStatus={status("cap")} help={errors.cap}>
              <Checkbox checked={draft.capOn} onChange={(e) => set({ capOn: e.target.checked })}>
                {t("scoring.rule.capOn")}
              </Checkbox>
              {draft.capOn ? (
                <Space wrap style={{ marginTop: 8, display: "flex" }}>
                  <label htmlFor="rule-cap-points">{t("scoring.rule.capPoints")}</label>
                  <InputNumber
                    id="rule-cap-points"
                    min={0}
                    value={draft.cap.points}
                    onChange={(v) => set({ cap: { ...draft.cap, points: v } })}
                  />
                  <label htmlFor="rule-cap-per">{t("scoring.rule.capPer")}</label>
                  <Select<CapPeriod>
                    id="rule-cap-per"
                    value={draft.cap.per}
                    onChange={(per) => set({ cap: { ...draft.cap, per } })}
                    options={CAP_PERIODS.map((p) => ({ value: p, label: t(`scoring.cap.per.${p}`) }))}
                    style={{ minWidth: 110 }}
                  />
                </Space>
              ) : null}
            </Form.Item>
          </>
        ) : (
          <Form.Item label={t("scoring.rule.condition")} validateStatus={status("condition")} help={errors.condition}>
            <div className="segment-builder">
              <ConditionEditor value={draft.condition} path="root" onChange={(condition) => set({ condition })} />
            </div>
          </Form.Item>
        )}
        {save.error ? (
          <Alert
            type="error"
            showIcon
            title={t("scoring.rule.saveFailed")}
            description={errorText(save.error, t)}
            style={{ marginBottom: 12 }}
          />
        ) : null}
        <Space>
          <Button type="primary" onClick={submit} loading={save.isPending}>
            {t("common.save")}
          </Button>
          <Button onClick={onCancel}>{t("common.cancel")}</Button>
        </Space>
      </Form>
    </BuilderProvider>
  );
}
