"""Predictive models: create, read, change, delete, ask for a training; a contact's
predictions. Training and scoring run in the worker (``kairos.predict.jobs``)."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.predict.features import FeatureSpec, count_converted, page_after, page_features
from kairos.predict.tables import contact_prediction, predictive_model
from kairos.predict.training import ALGORITHMS, MIN_POSITIVES, Fitted
from kairos.segments.deps import stored_dependencies
from kairos.segments.tables import segment

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
#: Columns a model is read with (never the fitted model's bytes).
_READ = [c for c in predictive_model.c if c.name != "artifact"]


def _check(key: str | None, algorithm: str | None, within_days: int | None, retrain_days: int | None) -> None:
    if key is not None and not _KEY.match(key):
        raise InvalidInput(
            f"key: {key!r} must start with a lowercase letter and use only a-z, 0-9 and _ (at most 100)",
            code="invalid_predictive_model_key",
        )
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise InvalidInput(f"algorithm: one of {', '.join(ALGORITHMS)}", code="invalid_algorithm")
    if within_days is not None and not 1 <= within_days <= 365:
        raise InvalidInput("goal.within_days: from 1 to 365", code="invalid_goal")
    if retrain_days is not None and not 1 <= retrain_days <= 365:
        raise InvalidInput("retrain_every_days: from 1 to 365", code="invalid_schedule")


def create_model(
    conn: Connection,
    workspace_id: int,
    now: datetime,
    *,
    key: str,
    name: str,
    goal_event: str,
    within_days: int,
    algorithm: str = "gradient_boosting",
    retrain_days: int = 7,
    description: str | None = None,
) -> dict[str, Any]:
    """A new model, queued for its first training. The goal event need not have been seen
    yet (a workspace may set the model up before the event flows): the training then fails
    with ``too_few_positives`` until enough contacts performed it."""
    _check(key, algorithm, within_days, retrain_days)
    values = {
        "workspace_id": workspace_id, "key": key, "name": name, "description": description,
        "goal_event": goal_event, "within_days": within_days, "algorithm": algorithm,
        "retrain_days": retrain_days, "status": "queued", "next_train_at": now,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(predictive_model).values(values).returning(predictive_model.c.id)
            ).scalar_one()
    except IntegrityError:
        raise Conflict(
            f"a predictive model with key {key!r} exists", code="predictive_model_exists"
        ) from None
    return get_model(conn, workspace_id, new_id)


def update_model(
    conn: Connection, workspace_id: int, model_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    """Name, description, goal, algorithm, schedule. A new goal or algorithm queues a
    training now (the current predictions stay until it is done); the key cannot change."""
    current = get_model(conn, workspace_id, model_id)
    _check(None, changes.get("algorithm"), changes.get("within_days"), changes.get("retrain_days"))
    values: dict[str, Any] = {"updated_at": now}
    for name in ("name", "description", "goal_event", "within_days", "algorithm", "retrain_days"):
        if name in changes and (changes[name] is not None or name == "description"):
            values[name] = changes[name]
    if any(values.get(n, current[n]) != current[n] for n in ("goal_event", "within_days", "algorithm")):
        if current["status"] != "training":
            values |= {"status": "queued", "status_reason": None}
        values["next_train_at"] = now
    elif "retrain_days" in values and current["trained_at"] is not None:
        values["next_train_at"] = current["trained_at"] + timedelta(days=values["retrain_days"])
    conn.execute(update(predictive_model).where(predictive_model.c.id == model_id).values(values))
    return get_model(conn, workspace_id, model_id)


def delete_model(conn: Connection, workspace_id: int, model_id: int) -> None:
    """Deletes the model and its predictions; 409 while a dynamic segment tests it or an
    active journey is triggered by it."""
    current = get_model(conn, workspace_id, model_id)
    users = model_users(conn, workspace_id, current["key"])
    if users:
        raise Conflict(
            f"predictive model {current['key']!r} is in use: {', '.join(users)}",
            code="predictive_model_in_use",
        )
    conn.execute(delete(predictive_model).where(predictive_model.c.id == model_id))


def model_users(conn: Connection, workspace_id: int, key: str) -> list[str]:
    """The dynamic segments whose definition tests the model's predictions, and the active
    journeys triggered by a probability crossing (``predicted_crossed``)."""
    from kairos.journeys.definition import JourneyDefinition, PredictedTrigger
    from kairos.journeys.tables import journey, journey_version

    out = [
        f"segment {name!r}"
        for name, definition in conn.execute(
            select(segment.c.name, segment.c.definition).where(
                segment.c.workspace_id == workspace_id, segment.c.kind == "dynamic"
            )
        )
        if key in stored_dependencies(definition).predictions
    ]
    for name, definition in conn.execute(
        select(journey.c.name, journey_version.c.definition)
        .join(journey_version, journey_version.c.id == journey.c.version_id)
        .where(journey.c.workspace_id == workspace_id, journey.c.status == "active")
    ):
        trigger = JourneyDefinition.model_validate(definition).trigger
        if isinstance(trigger, PredictedTrigger) and trigger.model == key:
            out.append(f"journey {name!r}")
    return out


def request_training(conn: Connection, workspace_id: int, model_id: int, now: datetime) -> dict[str, Any]:
    """Queue a training now (the worker runs it). Checked first, cheaply: the goal event in
    each of the two windows the training labels with must have ``MIN_POSITIVES`` converted
    contacts; if not, the model is ``failed`` with the reason and ``TrainingRefused`` is
    raised (the caller commits the status, then answers 422)."""
    current = get_model(conn, workspace_id, model_id)
    if current["status"] == "training":
        raise Conflict(
            f"predictive model {current['key']!r} is training already", code="training_in_progress"
        )
    window = timedelta(days=current["within_days"])
    for label, start in (("training", now - 2 * window), ("validation", now - window)):
        n = count_converted(conn, workspace_id, current["goal_event"], start, start + window)
        if n < MIN_POSITIVES:
            reason = (
                f"too few conversions to learn from: {n} contacts performed {current['goal_event']!r} in the "
                f"{label} window ({start:%Y-%m-%d} + {current['within_days']} days; "
                f"at least {MIN_POSITIVES} needed)"
            )
            conn.execute(
                update(predictive_model)
                .where(predictive_model.c.id == model_id)
                .values(status="failed", status_reason=reason, updated_at=now)
            )
            raise TrainingRefused(reason)
    conn.execute(
        update(predictive_model)
        .where(predictive_model.c.id == model_id)
        .values(status="queued", status_reason=None, next_train_at=now, updated_at=now)
    )
    return get_model(conn, workspace_id, model_id)


class TrainingRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def get_model(conn: Connection, workspace_id: int, model_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(*_READ).where(
            predictive_model.c.id == model_id, predictive_model.c.workspace_id == workspace_id
        )
    ).first()
    if row is None:
        raise NotFound(f"predictive model {model_id} not found", code="predictive_model_not_found")
    return dict(row._mapping)


def list_models(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(*_READ).where(predictive_model.c.workspace_id == workspace_id).order_by(predictive_model.c.id)
    )
    return [dict(r._mapping) for r in rows]


def contact_predictions(conn: Connection, workspace_id: int, contact_id: int) -> list[dict[str, Any]]:
    """The contact's latest probability in every trained model of the workspace (``null``
    where it was not scored: created after the last scoring, or the model never trained),
    with the features that moved it most (``explain``)."""
    m, p = predictive_model.c, contact_prediction.c
    rows = conn.execute(
        select(m.id, m.key, m.name, m.goal_event, m.within_days, m.spec, m.trained_at, p.probability,
               p.scored_at)
        .select_from(
            predictive_model.outerjoin(
                contact_prediction, (p.model_id == m.id) & (p.contact_id == contact_id)
            )
        )
        .where(m.workspace_id == workspace_id)
        .order_by(m.id)
    )  # fmt: skip
    return [
        {
            "model_id": r.id, "model": r.key, "name": r.name,
            "goal": {"event": r.goal_event, "within_days": r.within_days},
            "probability": r.probability, "scored_at": r.scored_at,
            "contributions": (
                explain(conn, workspace_id, contact_id, r.id, r.trained_at, r.spec, r.scored_at)
                if r.probability is not None and r.spec is not None and r.trained_at is not None
                else []
            ),
        }
        for r in rows.all()
    ]  # fmt: skip


#: Fitted models kept in memory to explain predictions, by (model id, training instant).
_FITTED: dict[tuple[int, datetime], Fitted] = {}
_FITTED_MAX = 8
_FITTED_LOCK = threading.Lock()


def _fitted(conn: Connection, model_id: int, trained_at: datetime) -> Fitted | None:
    key = (model_id, trained_at)
    with _FITTED_LOCK:
        found = _FITTED.get(key)
    if found is not None:
        return found
    data = conn.execute(select(predictive_model.c.artifact).where(predictive_model.c.id == model_id)).scalar()
    if data is None:
        return None
    fitted = Fitted.load(data)  # our own bytes (training.Fitted.dump)
    with _FITTED_LOCK:
        while len(_FITTED) >= _FITTED_MAX:
            _FITTED.pop(next(iter(_FITTED)))
        _FITTED[key] = fitted
    return fitted


def explain(
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    model_id: int,
    trained_at: datetime,
    spec: dict[str, Any],
    at: datetime,
) -> list[dict[str, Any]]:
    """The ``CONTRIBUTIONS`` features that moved the contact's probability most, from its
    features at ``at`` (the scoring instant of its stored probability) and the stored fit.

    Computed when asked, for one contact (a handful of indexed reads and the model on one
    row), rather than for every contact at every daily re-score, which spent most of its
    time on them and stored 200 MB of JSON a model at 1M contacts."""
    fitted = _fitted(conn, model_id, trained_at)
    rows = page_after(conn, workspace_id, contact_id - 1, page=1)
    if fitted is None or rows is None or rows.lo != contact_id:
        return []
    x = page_features(conn, workspace_id, FeatureSpec.from_json(spec), at, rows)
    return fitted.contributions(x, fitted.probabilities(x))[0]
