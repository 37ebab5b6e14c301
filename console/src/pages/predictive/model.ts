// Predictive models as the console shows them: a model's signals (feature names) in words,
// probabilities as percents, the goal in one line. Pure functions; the humaniser is the one
// place that turns `event_90d:Pricing` into "Pricing events, last 90 days" (the model card
// and the contact profile's Predictions tab both use it).
import type { components } from "../../api/schema";
import type { Language, MessageKey, Params } from "../../i18n";

type Schemas = components["schemas"];
export type PredictiveModel = Schemas["PredictiveModelRead"];
export type ModelCard = Schemas["ModelCard"];
export type CalibrationBin = Schemas["CalibrationBin"];
export type FeatureImportance = Schemas["FeatureImportance"];
export type TrainingWindow = Schemas["TrainingWindow"];
export type ContactPrediction = Schemas["ContactPrediction"];
export type Contribution = Schemas["Contribution"];
export type Algorithm = PredictiveModel["algorithm"];
export type ModelStatus = PredictiveModel["status"];
export type Goal = PredictiveModel["goal"];

type T = (key: MessageKey, params?: Params) => string;

export const ALGORITHMS: Algorithm[] = ["gradient_boosting", "logistic_regression"];
/** The server's key rule (`invalid_predictive_model_key`). */
export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,99}$/;

/** A feature name of the model (`spec`) in words; an unknown kind is shown as it is. */
export function featureText(feature: string, t: T): string {
  const colon = feature.indexOf(":");
  if (colon > 0) {
    const kind = feature.slice(0, colon);
    const name = feature.slice(colon + 1);
    const days = /^event_(\d+)d$/.exec(kind);
    if (days) return t("predict.feature.event", { name, days: days[1] ?? "" });
    if (kind === "stage") return t("predict.feature.stage", { stage: name });
    if (kind === "score") return t("predict.feature.score", { model: name });
    return feature;
  }
  const events = /^events_(\d+)d$/.exec(feature);
  if (events) return t("predict.feature.events", { days: events[1] ?? "" });
  switch (feature) {
    case "recency_days":
    case "revenue_90d":
    case "days_since_created":
    case "email_opens_30d":
    case "email_clicks_30d":
      return t(`predict.feature.${feature}`);
    default:
      return feature;
  }
}

/** 0.4567 → "45.7%" in the user's language. */
export function percentText(p: number | null | undefined, lang: Language, digits = 1): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  return new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(p);
}

/** A number with at most `digits` decimals in the user's language. */
export function numberText(n: number | null | undefined, lang: Language, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n);
}

export function goalText(goal: Goal, t: T): string {
  return t("predict.goal", { event: goal.event, days: goal.within_days });
}

/** Brier score of always predicting the base rate p: p(1 − p). */
export const referenceBrier = (baseRate: number): number => baseRate * (1 - baseRate);

/** While a model is queued or training, its status is read again. */
export const isBusy = (m: Pick<PredictiveModel, "status">): boolean => m.status === "queued" || m.status === "training";
