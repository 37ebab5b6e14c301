// A broadcast's experiment (the `experiment` and `by_variant` of GET /reports/broadcasts/{id}):
// its state and metric, the winner and its confidence, the variants side by side (chart and
// table, with the holdout), the judged results and the lift over the holdout with its 95 %
// interval. Shown by the broadcast's report and by the broadcast's own page.
import { Table, Tag } from "antd";
import { ChartFigure } from "../../components/charts/ChartFigure";
import type { Formats } from "../../components/charts/format";
import { useI18n, type MessageKey } from "../../i18n";
import { FiguresTable } from "./common";
import { variantChart, signedPoints } from "./reportData";
import type { BroadcastExperiment, BroadcastReport, JudgedVariant, VariantRow } from "./types";

const HOLDOUT = "holdout";

function Lift({ experiment, f }: { experiment: BroadcastExperiment; f: Formats }) {
  const { t } = useI18n();
  const lift = experiment.lift;
  if (!lift) return <p className="text-secondary">{t("reports.experiment.noLift")}</p>;
  const [low = null, high = null] = lift.ci95;
  const revenue = lift.revenue_lift;
  const [revenueLow = null, revenueHigh = null] = revenue?.ci95 ?? [];
  const tone = low !== null && low > 0 ? "lift-good" : high !== null && high < 0 ? "lift-bad" : undefined;
  return (
    <dl className="lift">
      <dt>{t("reports.experiment.lift")}</dt>
      <dd className={tone}>
        {t("reports.experiment.liftValue", {
          lift: signedPoints(lift.lift, f),
          low: signedPoints(low, f),
          high: signedPoints(high, f),
        })}
      </dd>
      <dt>{t("reports.experiment.treated")}</dt>
      <dd>
        {t("reports.experiment.groupFigures", {
          converted: f.number(lift.treated.converted),
          size: f.number(lift.treated.size),
          rate: f.percent(lift.treated.size ? lift.treated.converted / lift.treated.size : null),
        })}
      </dd>
      <dt>{t("reports.experiment.holdout")}</dt>
      <dd>
        {t("reports.experiment.groupFigures", {
          converted: f.number(lift.holdout.converted),
          size: f.number(lift.holdout.size),
          rate: f.percent(lift.holdout.size ? lift.holdout.converted / lift.holdout.size : null),
        })}
      </dd>
      {revenue ? (
        <>
          <dt>{t("reports.experiment.revenueLift")}</dt>
          <dd>
            {t("reports.experiment.revenueLiftValue", {
              lift: f.number(revenue.per_contact),
              low: revenueLow === null ? "—" : f.number(revenueLow),
              high: revenueHigh === null ? "—" : f.number(revenueHigh),
            })}
          </dd>
        </>
      ) : null}
    </dl>
  );
}

export function ExperimentSection({ report, experiment, f }: { report: BroadcastReport; experiment: BroadcastExperiment; f: Formats }) {
  const { t } = useI18n();
  const rows = report.by_variant ?? [];
  const variantName = (v: string) => (v === HOLDOUT ? t("reports.experiment.holdout") : v);
  const judged = Object.entries(experiment.variants ?? {});
  const metric = experiment.metric ?? "";
  const metricLabel = (key: string) => {
    const k = `reports.experiment.metric.${key}` as MessageKey;
    return ["open", "click", "conversion", "revenue"].includes(key) ? t(k) : key;
  };
  return (
    <section aria-labelledby="experiment-title" className="analytics-section report-stack">
      <h2 id="experiment-title" className="section-title">
        {t("reports.experiment.title")}
      </h2>
      <div className="report-header">
        <Tag>{t(`reports.experiment.state.${experiment.state}` as MessageKey)}</Tag>
        <span>{t("reports.experiment.metric", { metric: metricLabel(metric) })}</span>
        {experiment.winner ? (
          <span>
            {t("reports.experiment.winner", {
              winner: experiment.winner,
              confidence: f.percent(experiment.confidence),
            })}
          </span>
        ) : null}
        {experiment.waiting > 0 ? (
          <span className="text-secondary">{t("reports.experiment.waiting", { n: f.number(experiment.waiting) })}</span>
        ) : null}
      </div>
      <ChartFigure
        title={t("reports.experiment.chart")}
        level={3}
        totals={false}
        hint={t("reports.experiment.chartHint")}
        data={variantChart(rows, variantName, {
          variant: t("reports.experiment.variant"),
          open: t("reports.figure.open_rate"),
          click: t("reports.figure.click_rate"),
          perContact: t("reports.experiment.perContact"),
        })}
      />
      <FiguresTable<VariantRow>
        label={t("reports.experiment.variants")}
        rows={rows}
        keyTitle={t("reports.experiment.variant")}
        keyOf={(r) => r.variant}
        renderKey={(r) => (
          <>
            {variantName(r.variant)}
            {r.variant === experiment.winner ? (
              <Tag className="tag-good winner-tag">
                {t("reports.experiment.winnerTag")}
              </Tag>
            ) : null}
          </>
        )}
        currency={report.currency}
      />
      {judged.length > 0 ? (
        <Table<[string, JudgedVariant]>
          aria-label={t("reports.experiment.judged", { metric: metricLabel(metric) })}
          title={() => t("reports.experiment.judged", { metric: metricLabel(metric) })}
          rowKey={(r) => r[0]}
          size="small"
          pagination={false}
          dataSource={judged}
          columns={[
            { title: t("reports.experiment.variant"), key: "v", render: (_: unknown, r) => r[0] },
            { title: t("reports.figure.sent"), key: "sent", align: "right", render: (_: unknown, r) => f.number(r[1].sent) },
            {
              title: t("reports.experiment.successes"),
              key: "successes",
              align: "right",
              render: (_: unknown, r) => f.number(r[1].successes),
            },
            {
              title: t("reports.experiment.rate"),
              key: "rate",
              align: "right",
              render: (_: unknown, r) =>
                metric === "revenue" ? f.money(r[1].rate, report.currency) : f.percent(r[1].rate),
            },
          ]}
        />
      ) : null}
      <Lift experiment={experiment} f={f} />
    </section>
  );
}
