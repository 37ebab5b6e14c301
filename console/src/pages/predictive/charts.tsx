// The model card's two charts, plain SVG and HTML (no charting library in this chunk):
// the reliability (calibration) chart with its table, and the permutation importances as
// bars. Both have their numbers in text next to them for screen readers and keyboards.
import { Table } from "antd";
import { useI18n } from "../../i18n";
import "../../i18n/predict";
import { featureText, numberText, percentText, type CalibrationBin, type FeatureImportance } from "./model";

const SIZE = 280;
const PAD = { left: 44, right: 12, top: 12, bottom: 40 };

/** The axes' top: the largest value shown, rounded up to a tenth (so low rates are legible). */
export function axisMax(bins: CalibrationBin[]): number {
  const top = Math.max(0, ...bins.flatMap((b) => [b.mean_predicted ?? 0, b.observed_rate ?? 0]));
  return Math.min(1, Math.max(0.1, Math.ceil(top * 10 - 1e-9) / 10));
}

export function CalibrationChart({ bins }: { bins: CalibrationBin[] }) {
  const { t, lang } = useI18n();
  const max = axisMax(bins);
  const w = SIZE - PAD.left - PAD.right;
  const h = SIZE - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + (v / max) * w;
  const y = (v: number) => PAD.top + h - (v / max) * h;
  const points = bins.filter((b) => b.contacts > 0 && b.mean_predicted !== null && b.observed_rate !== null);
  const ticks = [0, max / 2, max];
  const path = points.map((b, i) => `${i ? "L" : "M"}${x(b.mean_predicted ?? 0).toFixed(1)},${y(b.observed_rate ?? 0).toFixed(1)}`).join(" ");
  return (
    <div className="pm-chart-row pm-calibration">
      <svg
        role="img"
        aria-label={t("predict.card.calibrationChart")}
        viewBox={`0 0 ${SIZE} ${SIZE}`}
        width={SIZE}
        height={SIZE}
        data-testid="calibration-chart"
      >
        <rect x={PAD.left} y={PAD.top} width={w} height={h} fill="#fafafa" stroke="#d9d9d9" />
        {ticks.map((v) => (
          <g key={v}>
            <text x={x(v)} y={PAD.top + h + 14} textAnchor="middle">
              {percentText(v, lang, 0)}
            </text>
            <text x={PAD.left - 4} y={y(v) + 4} textAnchor="end">
              {percentText(v, lang, 0)}
            </text>
          </g>
        ))}
        <line x1={x(0)} y1={y(0)} x2={x(max)} y2={y(max)} stroke="#8c8c8c" strokeDasharray="4 3" />
        {path ? <path d={path} fill="none" stroke="#1677ff" strokeWidth={1.5} /> : null}
        {points.map((b) => (
          <circle key={b.low} cx={x(b.mean_predicted ?? 0)} cy={y(b.observed_rate ?? 0)} r={4} fill="#1677ff">
            <title>
              {`${percentText(b.mean_predicted, lang)} → ${percentText(b.observed_rate, lang)} (${numberText(b.contacts, lang)})`}
            </title>
          </circle>
        ))}
        <text x={PAD.left + w / 2} y={SIZE - 6} textAnchor="middle">
          {t("predict.card.axisPredicted")}
        </text>
        <text x={12} y={PAD.top + h / 2} textAnchor="middle" transform={`rotate(-90 12 ${PAD.top + h / 2})`}>
          {t("predict.card.axisObserved")}
        </text>
      </svg>
      <Table<CalibrationBin>
        aria-label={t("predict.card.calibration")}
        rowKey="low"
        size="small"
        pagination={false}
        dataSource={bins}
        columns={[
          {
            title: t("predict.card.bin"),
            key: "bin",
            render: (_: unknown, b) => `${percentText(b.low, lang, 0)}–${percentText(b.high, lang, 0)}`,
          },
          { title: t("predict.card.contacts"), dataIndex: "contacts", align: "right", render: (n: number) => numberText(n, lang) },
          { title: t("predict.card.meanPredicted"), dataIndex: "mean_predicted", align: "right", render: (v: number | null) => percentText(v, lang) },
          { title: t("predict.card.observed"), dataIndex: "observed_rate", align: "right", render: (v: number | null) => percentText(v, lang) },
        ]}
      />
    </div>
  );
}

/** How many importances the bar chart shows. */
export const TOP_IMPORTANCES = 12;

export function ImportanceBars({ importances }: { importances: FeatureImportance[] }) {
  const { t, lang } = useI18n();
  const shown = importances.filter((i) => i.importance > 0).slice(0, TOP_IMPORTANCES);
  if (shown.length === 0) return <p className="text-secondary">{t("predict.card.noImportances")}</p>;
  const top = Math.max(...shown.map((i) => i.importance));
  return (
    <ol className="pm-bars" aria-label={t("predict.card.importancesChart")}>
      {shown.map((i) => (
        <li key={i.feature} className="pm-bar-row">
          <span title={i.feature}>{featureText(i.feature, t)}</span>
          <span className="pm-bar-track" aria-hidden="true">
            <span className="pm-bar" style={{ display: "block", width: `${(i.importance / top) * 100}%` }} />
          </span>
          <span className="pm-bar-value">{numberText(i.importance, lang, 3)}</span>
        </li>
      ))}
    </ol>
  );
}
