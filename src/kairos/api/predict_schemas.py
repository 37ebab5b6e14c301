"""Request and response models of the predictive model routes (``routes/predict.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Algorithm = Literal["gradient_boosting", "logistic_regression"]


class Goal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(
        min_length=1, max_length=200,
        description="The event that counts as converting (it need not have been seen yet: the training "
        "then fails with `too_few_positives` until enough contacts performed it)",
    )  # fmt: skip
    within_days: int = Field(ge=1, le=365, description="The contact converts within this many days")


class PredictiveModelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        max_length=100, description="a-z, 0-9 and _; segments name the model by it (`predicted`)"
    )
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    goal: Goal
    algorithm: Algorithm = Field(
        "gradient_boosting",
        description="`gradient_boosting` (scikit-learn HistGradientBoostingClassifier) or "
        "`logistic_regression` (standardised features)",
    )
    retrain_every_days: int = Field(7, ge=1, le=365, description="Retrained this often by the worker")


class PredictiveModelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    goal: Goal | None = Field(None, description="A new goal queues a training")
    algorithm: Algorithm | None = Field(None, description="A new algorithm queues a training")
    retrain_every_days: int | None = Field(None, ge=1, le=365)


class CalibrationBin(BaseModel):
    low: float
    high: float
    contacts: int = Field(description="Holdout contacts whose predicted probability fell in [low, high)")
    mean_predicted: float | None
    observed_rate: float | None = Field(description="The share of them who converted")


class FeatureImportance(BaseModel):
    feature: str
    importance: float = Field(description="Holdout AUC lost when the feature is shuffled (permutation)")


class TrainingWindow(BaseModel):
    cutoff: datetime = Field(description="Features as of this instant")
    label_until: datetime = Field(description="Converted: the goal event in [cutoff, label_until)")
    contacts: int
    positives: int


class ScoringRun(BaseModel):
    at: datetime
    contacts: int
    compute_seconds: float = Field(description="Features, probabilities and explanations")
    write_seconds: float
    contacts_per_s: float | None


class ModelCard(BaseModel):
    """The latest successful training."""

    algorithm: Algorithm
    goal: Goal
    auc: float = Field(description="ROC AUC on the time-split holdout")
    brier: float = Field(description="Brier score on the holdout (lower is better)")
    base_rate: float = Field(description="Share of holdout contacts who converted")
    calibration: list[CalibrationBin] = Field(description="Reliability table: 10 probability bins")
    importances: list[FeatureImportance] = Field(description="Most important first")
    features: list[str]
    training: TrainingWindow = Field(description="The validation model's training set")
    validation: TrainingWindow = Field(description="The holdout")
    final: TrainingWindow = Field(description="The final model's training set (the latest complete window)")
    scored: ScoringRun | None = None
    features_seconds: float
    validation_seconds: float
    fit_seconds: float
    seconds: float | None = None
    peak_rss_mb: float | None = None


class PredictiveModelRead(BaseModel):
    id: int
    key: str
    name: str
    description: str | None
    goal: Goal
    algorithm: Algorithm
    retrain_every_days: int
    status: Literal["queued", "training", "ready", "failed"] = Field(
        description="`failed` with `status_reason` (too few conversions …); the previous fit, if any, "
        "keeps scoring"
    )
    status_reason: str | None
    next_train_at: datetime | None
    next_score_at: datetime | None
    training_started_at: datetime | None
    trained_at: datetime | None
    scored_at: datetime | None
    card: ModelCard | None = Field(description="The model card of the latest successful training")
    created_at: datetime
    updated_at: datetime


class Contribution(BaseModel):
    feature: str
    value: float = Field(description="The contact's raw feature value")
    contribution: float = Field(
        description="logistic_regression: coefficient x standardised value (log-odds); gradient_boosting: "
        "probability minus the probability with this feature at its median"
    )


class ContactPrediction(BaseModel):
    model_id: int
    model: str = Field(description="The model's key")
    name: str
    goal: Goal
    probability: float | None = Field(description="null: not scored (the model is not trained yet, or the "
                                      "contact is newer than the last scoring)")  # fmt: skip
    contributions: list[Contribution]
    scored_at: datetime | None


class ContactPredictions(BaseModel):
    data: list[ContactPrediction]
