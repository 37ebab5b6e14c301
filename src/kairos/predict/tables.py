"""Predictive models (settings, status, model card, the fitted model) and the per-contact
probabilities they give."""

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from kairos.db.metadata import metadata
from kairos.db.types import BigID, JSONDoc, UTCDateTime

#: A model of "does the contact perform ``goal_event`` within ``within_days``", its
#: training status and, once trained, its model card (``card``: metrics, calibration,
#: importances, sizes) and the fitted estimator (``artifact``: joblib bytes, written and
#: read only by ``kairos.predict.training``, never taken from outside).
predictive_model = Table(
    "predictive_model",
    metadata,
    Column("id", BigID, primary_key=True, autoincrement=True),
    Column("workspace_id", BigID, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("goal_event", String(200), nullable=False),
    Column("within_days", Integer, nullable=False),
    Column("algorithm", String(30), nullable=False),  # gradient_boosting | logistic_regression
    Column("retrain_days", Integer, nullable=False),
    # queued | training | ready | failed
    Column("status", String(10), nullable=False),
    Column("status_reason", Text),
    Column("next_train_at", UTCDateTime),  # the worker trains the model from then
    Column("next_score_at", UTCDateTime),  # … and re-scores every contact from then (daily)
    Column("training_started_at", UTCDateTime),
    Column("trained_at", UTCDateTime),
    Column("scored_at", UTCDateTime),
    Column("card", JSONDoc),  # the latest successful training's model card
    Column("spec", JSONDoc),  # what the features of the fitted model are (event names, stages …)
    Column("artifact", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
    Index("ix_predictive_model_next_train", "next_train_at"),
)

#: The latest probability of each live contact for a model (the features that moved it most
#: are computed when the contact's predictions are read: ``service.contact_predictions``).
contact_prediction = Table(
    "contact_prediction",
    metadata,
    Column("model_id", BigID, ForeignKey("predictive_model.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigID, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", BigID, nullable=False),
    Column("probability", Float, nullable=False),
    Column("scored_at", UTCDateTime, nullable=False),
    Index("ix_contact_prediction_model_probability", "model_id", "probability"),
    Index("ix_contact_prediction_contact", "contact_id"),
)
