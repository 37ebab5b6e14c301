import { Progress, Tag } from "antd";
import { useI18n } from "../../i18n";
import "../../i18n/scoring";
import "./scoring.css";
import type { ScoreModel } from "./model";

/** A model's recompute: "Up to date", "Queued", or "Recomputing" with done of total. */
export function RecomputeStatus({ recompute, bar = false }: { recompute: ScoreModel["recompute"]; bar?: boolean }) {
  const { t, lang } = useI18n();
  const n = (v: number) => new Intl.NumberFormat(lang).format(v);
  const tone = recompute.status === "idle" ? "sc-tag-good" : "sc-tag-info";
  const progress = t("scoring.recompute.progress", { done: n(recompute.done), total: n(recompute.total) });
  return (
    <span className="recompute-status" role="status">
      <Tag className={tone}>{t(`scoring.recompute.${recompute.status}`)}</Tag>
      {recompute.status === "running" ? (
        <>
          <span className="text-secondary">{progress}</span>
          {bar ? (
            <Progress
              percent={recompute.total > 0 ? Math.floor((100 * recompute.done) / recompute.total) : 0}
              size="small"
              style={{ width: 200, marginInlineStart: 8 }}
              aria-label={progress}
            />
          ) : null}
        </>
      ) : null}
    </span>
  );
}
