// A predictive model's status: queued / training (with a spinner) / ready / failed, and the
// failure's reason in words next to it.
import { Tag } from "antd";
import { LoadingOutlined } from "@ant-design/icons";
import { useI18n } from "../../i18n";
import "../../i18n/predict";
import type { PredictiveModel } from "./model";

const CLASS: Record<PredictiveModel["status"], string> = {
  queued: "pm-tag-info",
  training: "pm-tag-info",
  ready: "pm-tag-good",
  failed: "pm-tag-bad",
};

export function StatusTag({ model, reason = false }: { model: Pick<PredictiveModel, "status" | "status_reason">; reason?: boolean }) {
  const { t } = useI18n();
  return (
    <span className="pm-status">
      <Tag className={CLASS[model.status]} icon={model.status === "training" ? <LoadingOutlined /> : undefined}>
        {t(`predict.status.${model.status}`)}
      </Tag>
      {reason && model.status === "failed" && model.status_reason ? (
        <span className="pm-status-reason">{model.status_reason}</span>
      ) : null}
    </span>
  );
}
