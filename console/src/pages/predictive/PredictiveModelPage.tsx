// A predictive model (/predictive-models/:id): its status (read again while it is queued or
// training) with "Train now", then tabs with an address each (?tab=settings): the model card
// (holdout AUC and Brier score with the base rate, the calibration chart, the importances,
// the training windows, the last scoring run) and the settings. A model never trained shows
// what it waits for instead of a card.
import { message as antMessage, Alert, Button, Descriptions, Space, Spin, Table, Tabs } from "antd";
import { ArrowLeftOutlined, ThunderboltOutlined } from "@ant-design/icons";
import { Link, useParams, useSearchParams } from "react-router";
import { ApiError } from "../../api/http";
import { useCanEdit } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/predict";
import { CalibrationChart, ImportanceBars } from "./charts";
import { goalText, numberText, percentText, referenceBrier, type ModelCard, type PredictiveModel, type TrainingWindow } from "./model";
import { PredictiveModelForm } from "./PredictiveModelForm";
import { usePredictiveModel } from "./queries";
import { StatusTag } from "./StatusTag";
import { useTrain } from "./useTrain";
import "./predictive.css";

const TABS = ["card", "settings"] as const;
type TabKey = (typeof TABS)[number];
const isTab = (v: string | null): v is TabKey => (TABS as readonly (string | null)[]).includes(v);

function BackLink() {
  const { t } = useI18n();
  return (
    <Link to="/predictive-models" className="back-link">
      <Space size={4}>
        <ArrowLeftOutlined />
        {t("predict.back")}
      </Space>
    </Link>
  );
}

function Metric({ label, value, hint }: { label: string; value: string; hint: string }) {
  return (
    <div className="pm-metric">
      <div className="pm-metric-label">{label}</div>
      <div className="pm-metric-value">{value}</div>
      <p className="text-secondary" style={{ margin: 0 }}>
        {hint}
      </p>
    </div>
  );
}

function Windows({ card }: { card: ModelCard }) {
  const { t, lang } = useI18n();
  const rows: { key: string; label: string; w: TrainingWindow }[] = [
    { key: "training", label: t("predict.card.window.training"), w: card.training },
    { key: "validation", label: t("predict.card.window.validation"), w: card.validation },
    { key: "final", label: t("predict.card.window.final"), w: card.final },
  ];
  return (
    <Table
      aria-label={t("predict.card.windows")}
      rowKey="key"
      size="small"
      pagination={false}
      dataSource={rows}
      scroll={{ x: "max-content" }}
      columns={[
        { title: t("predict.card.window"), dataIndex: "label" },
        { title: t("predict.card.features"), key: "cutoff", render: (_: unknown, r) => <DateTime value={r.w.cutoff} /> },
        { title: t("predict.card.labelUntil"), key: "until", render: (_: unknown, r) => <DateTime value={r.w.label_until} /> },
        { title: t("predict.card.contacts"), key: "contacts", align: "right", render: (_: unknown, r) => numberText(r.w.contacts, lang) },
        {
          title: t("predict.card.positives"),
          key: "positives",
          align: "right",
          render: (_: unknown, r) =>
            `${numberText(r.w.positives, lang)} (${percentText(r.w.contacts ? r.w.positives / r.w.contacts : null, lang)})`,
        },
      ]}
    />
  );
}

function Card({ card }: { card: ModelCard }) {
  const { t, lang, formatDateTime } = useI18n();
  const scored = card.scored;
  return (
    <>
      <section aria-labelledby="pm-quality" className="pm-section" style={{ marginTop: 0 }}>
        <h2 id="pm-quality" className="section-title">
          {t("predict.card.quality")}
        </h2>
        <div className="pm-metrics">
          <Metric label={t("predict.card.auc")} value={numberText(card.auc, lang, 3)} hint={t("predict.card.aucHint")} />
          <Metric
            label={t("predict.card.brier")}
            value={numberText(card.brier, lang, 4)}
            hint={t("predict.card.brierHint", { reference: numberText(referenceBrier(card.base_rate), lang, 4) })}
          />
          <Metric label={t("predict.card.baseRate")} value={percentText(card.base_rate, lang)} hint={t("predict.card.baseRateHint")} />
        </div>
        <p className="text-secondary">
          {t("predict.card.holdoutNote", {
            training: formatDateTime(card.training.label_until),
            validation: formatDateTime(card.validation.label_until),
          })}
        </p>
      </section>
      <section aria-labelledby="pm-calibration" className="pm-section">
        <h2 id="pm-calibration" className="section-title">
          {t("predict.card.calibration")}
        </h2>
        <p className="text-secondary">{t("predict.card.calibrationHint")}</p>
        <CalibrationChart bins={card.calibration} />
      </section>
      <section aria-labelledby="pm-importances" className="pm-section">
        <h2 id="pm-importances" className="section-title">
          {t("predict.card.importances")}
        </h2>
        <p className="text-secondary">{t("predict.card.importancesHint")}</p>
        <ImportanceBars importances={card.importances} />
      </section>
      <section aria-labelledby="pm-windows" className="pm-section">
        <h2 id="pm-windows" className="section-title">
          {t("predict.card.windows")}
        </h2>
        <Windows card={card} />
        <p className="text-secondary" style={{ marginTop: 8 }}>
          {t("predict.card.timings", {
            seconds: numberText(card.seconds ?? card.features_seconds + card.validation_seconds + card.fit_seconds, lang, 2),
            features: numberText(card.features_seconds, lang, 2),
            validation: numberText(card.validation_seconds, lang, 2),
            fit: numberText(card.fit_seconds, lang, 2),
          })}
        </p>
      </section>
      <section aria-labelledby="pm-scoring" className="pm-section">
        <h2 id="pm-scoring" className="section-title">
          {t("predict.card.scoring")}
        </h2>
        {scored ? (
          <p>
            <DateTime value={scored.at} />
            {" — "}
            {t("predict.card.scoringText", {
              contacts: numberText(scored.contacts, lang),
              seconds: numberText(scored.compute_seconds + scored.write_seconds, lang, 2),
              rate: numberText(scored.contacts_per_s, lang, 0),
            })}
          </p>
        ) : (
          <p className="text-secondary">{t("predict.card.notScored")}</p>
        )}
      </section>
    </>
  );
}

function Untrained({ model }: { model: PredictiveModel }) {
  const { t } = useI18n();
  return (
    <Alert
      type="info"
      showIcon
      title={t("predict.untrained.title")}
      description={model.status === "failed" ? t("predict.untrained.failed") : t("predict.untrained.queued")}
    />
  );
}

function Header({ model }: { model: PredictiveModel }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const [message, messageHolder] = antMessage.useMessage();
  const train = useTrain(() => void message.success(t("predict.trainQueued", { name: model.name })));
  const when = (v: string | null) => (v ? <DateTime value={v} /> : t("predict.never"));
  return (
    <>
      {messageHolder}
      <div className="pm-meta">
        <code>{model.key}</code>
        <span>{goalText(model.goal, t)}</span>
        <span className="text-secondary">{t(`predict.algorithm.${model.algorithm}`)}</span>
        <StatusTag model={model} />
        {canEdit ? (
          <Button icon={<ThunderboltOutlined />} onClick={() => train.mutate(model)} loading={train.isPending} disabled={model.status === "training"}>
            {t("predict.train")}
          </Button>
        ) : null}
      </div>
      {model.description ? <p className="text-secondary page-intro">{model.description}</p> : null}
      {model.status === "failed" && model.status_reason ? (
        <Alert
          className="page-alert"
          type="warning"
          showIcon
          title={t("predict.failedReason", { reason: model.status_reason })}
          description={model.card ? t("predict.failedKeeps") : undefined}
        />
      ) : null}
      {train.isError ? (
        <Alert className="page-alert" type="error" showIcon title={t("predict.trainFailed")} description={errorText(train.error, t)} />
      ) : null}
      <Descriptions
        size="small"
        column={{ xs: 1, sm: 2, lg: 4 }}
        style={{ marginBottom: 16 }}
        items={[
          { key: "trained", label: t("predict.trainedAt"), children: when(model.trained_at) },
          { key: "scored", label: t("predict.scoredAt"), children: when(model.scored_at) },
          { key: "next-train", label: t("predict.nextTrain"), children: when(model.next_train_at) },
          { key: "next-score", label: t("predict.nextScore"), children: when(model.next_score_at) },
        ]}
      />
    </>
  );
}

export default function PredictiveModelPage() {
  const { t } = useI18n();
  const params = useParams();
  const id = /^\d+$/.test(params.id ?? "") ? Number(params.id) : null;
  const query = usePredictiveModel(id);
  const model = query.data;
  const [search, setSearch] = useSearchParams();
  const [message, messageHolder] = antMessage.useMessage();
  const tabParam = search.get("tab");
  const tab: TabKey = isTab(tabParam) ? tabParam : "card";

  if (id === null || (query.error instanceof ApiError && query.error.status === 404)) {
    return (
      <>
        <BackLink />
        <PageTitle title={t("predict.notFound")}>{t("predict.notFound")}</PageTitle>
      </>
    );
  }
  if (query.isError) {
    return (
      <>
        <BackLink />
        <PageTitle title={t("predict.title")}>{t("predict.title")}</PageTitle>
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      </>
    );
  }
  if (!model) return <Spin className="page-spin" />;

  return (
    <>
      {messageHolder}
      <BackLink />
      <PageTitle title={model.name}>{model.name}</PageTitle>
      <Header model={model} />
      <Tabs
        activeKey={tab}
        onChange={(key) => {
          const next = new URLSearchParams(search);
          if (key === "card") next.delete("tab");
          else next.set("tab", key);
          setSearch(next, { replace: true });
        }}
        items={[
          { key: "card", label: t("predict.tab.card"), children: model.card ? <Card card={model.card} /> : <Untrained model={model} /> },
          {
            key: "settings",
            label: t("predict.tab.settings"),
            children: (
              <PredictiveModelForm key={model.updated_at} model={model} onSaved={() => void message.success(t("predict.saved"))} />
            ),
          },
        ]}
      />
    </>
  );
}
