import { useEffect, useId, useState } from "react";
import { Alert, Input, Modal, Radio, Select } from "antd";
import { errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import { REJECT_REASONS, rejectionText, type RejectReason } from "./model";
import type { Task } from "./queries";

/** Reject a lead: a reason picked from a list and/or written (required), then sent. */
export function RejectDialog({
  name,
  open,
  pending,
  error,
  onCancel,
  onReject,
}: {
  name: string;
  open: boolean;
  pending: boolean;
  error: unknown;
  onCancel: () => void;
  onReject: (reason: string) => void;
}) {
  const { t } = useI18n();
  const ids = { reason: useId(), details: useId(), hint: useId(), problem: useId() };
  const [reason, setReason] = useState<RejectReason | null>(null);
  const [details, setDetails] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      setReason(null);
      setDetails("");
      setProblem(null);
    }
  }, [open]);
  const submit = () => {
    const words = reason && reason !== "other" ? t(`leads.reject.why.${reason}`) : null;
    const text = rejectionText(words, reason === "other", details);
    if (!text) {
      setProblem(reason === "other" ? t("leads.reject.otherRequired") : t("leads.reject.required"));
      return;
    }
    setProblem(null);
    onReject(text);
  };
  return (
    <Modal
      open={open}
      title={t("leads.reject.title", { name })}
      okText={t("leads.reject.ok")}
      okButtonProps={{ danger: true, loading: pending }}
      cancelText={t("common.cancel")}
      onOk={submit}
      onCancel={onCancel}
      destroyOnHidden
    >
      <p className="text-secondary">{t("leads.reject.intro")}</p>
      <div className="lead-field">
        <label htmlFor={ids.reason} className="lead-label">
          {t("leads.reject.reason")}
        </label>
        <Select<RejectReason>
          id={ids.reason}
          value={reason ?? undefined}
          onChange={(v) => {
            setReason(v);
            setProblem(null);
          }}
          placeholder={t("leads.reject.pick")}
          options={REJECT_REASONS.map((r) => ({ value: r, label: t(`leads.reject.why.${r}`) }))}
          style={{ width: "100%" }}
          status={problem && !reason ? "error" : undefined}
          aria-describedby={problem ? ids.problem : undefined}
        />
      </div>
      <div className="lead-field">
        <label htmlFor={ids.details} className="lead-label">
          {t("leads.reject.details")}
        </label>
        <Input.TextArea
          id={ids.details}
          value={details}
          onChange={(e) => {
            setDetails(e.target.value);
            setProblem(null);
          }}
          maxLength={400}
          autoSize={{ minRows: 2, maxRows: 6 }}
          aria-describedby={ids.hint}
          status={problem && reason === "other" ? "error" : undefined}
        />
        <div id={ids.hint} className="text-secondary lead-hint">
          {t("leads.reject.detailsHint")}
        </div>
      </div>
      {problem ? (
        <div id={ids.problem} className="field-error" role="alert">
          {problem}
        </div>
      ) : null}
      {error ? <Alert type="error" showIcon title={errorText(error, t)} style={{ marginTop: 12 }} /> : null}
    </Modal>
  );
}

/** Complete a task: one of its outcomes (required) and notes. */
export function CompleteDialog({
  task,
  open,
  pending,
  error,
  onCancel,
  onComplete,
}: {
  task: Task | null;
  open: boolean;
  pending: boolean;
  error: unknown;
  onCancel: () => void;
  onComplete: (outcome: string, notes: string | null) => void;
}) {
  const { t } = useI18n();
  const ids = { outcome: useId(), notes: useId(), hint: useId(), problem: useId() };
  const [outcome, setOutcome] = useState<string | null>(null);
  const [notes, setNotes] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      setOutcome(null);
      setNotes("");
      setProblem(null);
    }
  }, [open]);
  const submit = () => {
    if (!outcome) {
      setProblem(t("tasks.complete.outcomeRequired"));
      return;
    }
    onComplete(outcome, notes.trim() ? notes.trim() : null);
  };
  return (
    <Modal
      open={open}
      title={task ? t("tasks.completeNamed", { title: task.title }) : t("tasks.complete.title")}
      okText={t("tasks.complete.ok")}
      okButtonProps={{ loading: pending }}
      cancelText={t("common.cancel")}
      onOk={submit}
      onCancel={onCancel}
      destroyOnHidden
    >
      <fieldset className="lead-fieldset" aria-describedby={problem ? ids.problem : undefined}>
        <legend className="lead-label" id={ids.outcome}>
          {t("tasks.complete.outcome")}
        </legend>
        <Radio.Group
          aria-labelledby={ids.outcome}
          value={outcome}
          onChange={(e) => {
            setOutcome(e.target.value as string);
            setProblem(null);
          }}
          className="task-outcomes"
          options={(task?.outcomes ?? []).map((o) => ({ value: o, label: o }))}
        />
      </fieldset>
      <div className="lead-field">
        <label htmlFor={ids.notes} className="lead-label">
          {t("tasks.complete.notes")}
        </label>
        <Input.TextArea
          id={ids.notes}
          value={notes}
          onChange={(e) => setNotes(e.target.value)}
          maxLength={5000}
          autoSize={{ minRows: 3, maxRows: 8 }}
          aria-describedby={ids.hint}
        />
        <div id={ids.hint} className="text-secondary lead-hint">
          {t("tasks.complete.notesHint")}
        </div>
      </div>
      {problem ? (
        <div id={ids.problem} className="field-error" role="alert">
          {problem}
        </div>
      ) : null}
      {error ? <Alert type="error" showIcon title={errorText(error, t)} style={{ marginTop: 12 }} /> : null}
    </Modal>
  );
}
