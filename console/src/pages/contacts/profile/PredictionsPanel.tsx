// The contact profile's Predictions tab: the contact's probability (a percent) in every
// predictive model, when it was scored, and the top reasons in words — a signal's name
// humanised (the model card's helper), the contact's value and whether it raises or lowers
// the probability — with one sentence on how the model's explanations are computed
// (GET /contacts/{id}/predictions).
import { useQuery } from "@tanstack/react-query";
import { Empty } from "antd";
import { ArrowDownOutlined, ArrowUpOutlined } from "@ant-design/icons";
import { Link } from "react-router";
import { api, unwrap } from "../../../api/client";
import { useCanEdit, useWorkspaceKey } from "../../../auth/SessionProvider";
import { DateTime } from "../../../components/DateTime";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { useI18n } from "../../../i18n";
import "../../../i18n/predict";
import { featureText, goalText, numberText, percentText, type ContactPrediction } from "../../predictive/model";
import { contactPredictionsKey, usePredictiveModels } from "../../predictive/queries";
import "../../predictive/predictive.css";

function Prediction({ prediction, algorithm }: { prediction: ContactPrediction; algorithm: string | undefined }) {
  const { t, lang } = useI18n();
  const headingId = `prediction-${prediction.model_id}`;
  const reasons = prediction.contributions.filter((c) => c.contribution !== 0);
  const method =
    algorithm === "logistic_regression" || algorithm === "gradient_boosting" ? t(`predict.profile.how.${algorithm}`) : null;
  return (
    <section className="pm-prediction" aria-labelledby={headingId}>
      <div className="pm-prediction-head">
        <h2 id={headingId} className="section-title" style={{ margin: 0 }}>
          <Link to={`/predictive-models/${prediction.model_id}`}>{prediction.name}</Link>
        </h2>
        <span className="text-secondary">{goalText(prediction.goal, t)}</span>
      </div>
      {prediction.probability === null ? (
        <p className="text-secondary">{t("predict.profile.notScored")}</p>
      ) : (
        <>
          <div className="pm-prediction-head">
            <span>
              <span className="visually-hidden">{t("predict.profile.probability")}: </span>
              <span className="pm-probability">{percentText(prediction.probability, lang)}</span>
            </span>
            {prediction.scored_at ? (
              <span className="text-secondary">
                {t("predict.profile.scoredAt")}: <DateTime value={prediction.scored_at} />
              </span>
            ) : null}
          </div>
          <h3 className="visually-hidden">{t("predict.profile.top")}</h3>
          {reasons.length ? (
            <ul className="pm-reasons" aria-label={t("predict.profile.contributionsLabel", { model: prediction.name })}>
              {reasons.map((c) => {
                const up = c.contribution > 0;
                return (
                  <li key={c.feature}>
                    <span className={up ? "pm-up" : "pm-down"}>
                      {up ? <ArrowUpOutlined aria-hidden /> : <ArrowDownOutlined aria-hidden />}{" "}
                      {/* text only: event and stage names are workspace data, never HTML */}
                      {featureText(c.feature, t)}
                    </span>{" "}
                    <span className="text-secondary">
                      ({t("predict.profile.value", { value: numberText(c.value, lang, 2) })}) —{" "}
                      {t(up ? "predict.profile.raises" : "predict.profile.lowers")}
                    </span>
                  </li>
                );
              })}
            </ul>
          ) : (
            <p className="text-secondary">{t("predict.profile.noContributions")}</p>
          )}
          {method ? <p className="text-secondary pm-method">{method}</p> : null}
        </>
      )}
    </section>
  );
}

export function PredictionsPanel({ contactId }: { contactId: number }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const canEdit = useCanEdit();
  const models = usePredictiveModels();
  const query = useQuery({
    queryKey: contactPredictionsKey(workspace, contactId),
    queryFn: () => unwrap(api.GET("/api/v1/contacts/{contact_id}/predictions", { params: { path: { contact_id: contactId } } })),
  });
  if (query.isError) return <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />;
  if (!query.data) return null;
  if (query.data.data.length === 0) {
    return (
      <Empty
        image={Empty.PRESENTED_IMAGE_SIMPLE}
        description={
          <>
            {t("predict.profile.empty")} {canEdit ? <Link to="/predictive-models">{t("predict.new")}</Link> : null}
          </>
        }
      />
    );
  }
  const algorithm = (id: number) => models.data?.data.find((m) => m.id === id)?.algorithm;
  return (
    <div>
      {query.data.data.map((p) => (
        <Prediction key={p.model_id} prediction={p} algorithm={algorithm(p.model_id)} />
      ))}
    </div>
  );
}
export default PredictionsPanel;
