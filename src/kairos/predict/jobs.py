"""The worker's predictive step: train the models that are due, re-score the others daily.

``run_due`` manages its own transactions, like the message dispatcher: a training reads
features for minutes and must not hold the write lock (SQLite) or a transaction
(PostgreSQL) meanwhile. It claims one model in a short transaction (``status`` training,
skipped by other workers; a claim older than ``STALE`` is taken again, after a crash),
reads the features through read-only connections page by page, fits, stores the model and
its card, then writes the probabilities one page per transaction (the previous ones stay
readable meanwhile) and finally drops those of contacts no longer live and flags the
dynamic segments that test the model for a full refresh (``segment_refresh``).
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, delete, or_, select, update

from kairos.db.dialect import FastStatement, insert_on_conflict, time_converter
from kairos.db.engine import reading
from kairos.journeys.triggers import PredictedCrossings
from kairos.predict.features import FeatureSpec, build_spec, feature_pages, matrix
from kairos.predict.tables import contact_prediction, predictive_model
from kairos.predict.training import Fitted, TrainingFailed, train
from kairos.segments.deps import stored_dependencies
from kairos.segments.tables import segment
from kairos.workspaces.clocks import EVERY, Scope

log = logging.getLogger(__name__)

#: A training or scoring claimed longer ago than this is taken to have died with its worker.
STALE = timedelta(hours=1)
#: Every contact's probability is recomputed this often (with the current events).
RESCORE = timedelta(days=1)


def run_due(engine: Engine, now: datetime, scope: Scope = EVERY) -> int:
    """Train one due model, else re-score one due model; 1 when something was done."""
    m = predictive_model.c
    with reading(engine) as conn:  # most passes find nothing due: no write transaction then
        due = conn.execute(
            select(m.id)
            .where(scope.clause(m.workspace_id), or_(m.next_train_at <= now, m.next_score_at <= now))
            .limit(1)
        ).first()
    if due is None:
        return 0
    with engine.begin() as conn:
        model = _claim_training(conn, now, scope)
    if model is not None:
        train_model(engine, model, now)
        return 1
    with engine.begin() as conn:
        model = _claim_scoring(conn, now, scope)
    if model is not None:
        rescore_model(engine, model, now)
        return 1
    return 0


def _claim(conn: Connection, stmt: Any) -> Any:
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return conn.execute(stmt.limit(1)).first()


def _claim_training(conn: Connection, now: datetime, scope: Scope) -> Any:
    m = predictive_model.c
    row = _claim(
        conn,
        select(m.id, m.workspace_id, m.key, m.goal_event, m.within_days, m.algorithm, m.retrain_days)
        .where(
            scope.clause(m.workspace_id),
            m.next_train_at <= now,
            or_(m.status != "training", m.training_started_at < now - STALE),
        )
        .order_by(m.next_train_at, m.id),
    )
    if row is not None:
        conn.execute(
            update(predictive_model)
            .where(m.id == row.id)
            .values(status="training", status_reason=None, training_started_at=now, updated_at=now)
        )
    return row


def _claim_scoring(conn: Connection, now: datetime, scope: Scope) -> Any:
    m = predictive_model.c
    row = _claim(
        conn,
        select(m.id, m.workspace_id, m.key, m.spec, m.artifact, m.card)
        .where(
            scope.clause(m.workspace_id),
            m.next_score_at <= now,
            m.status != "training",
            m.artifact.is_not(None),
        )
        .order_by(m.next_score_at, m.id),
    )
    if row is not None:  # a crash leaves it due again once STALE has passed
        conn.execute(update(predictive_model).where(m.id == row.id).values(next_score_at=now + STALE))
    return row


@dataclass
class Scored:
    contacts: int = 0
    compute_seconds: float = 0.0  # waiting for features, and probabilities
    write_seconds: float = 0.0


def train_model(engine: Engine, model: Any, now: datetime) -> None:
    """Train ``model`` (a claimed row) as of ``now``, store it and score every contact; a
    failure leaves the model ``failed`` with the reason (and its previous fit, if any)."""
    try:
        t0 = time.perf_counter()
        window = timedelta(days=model.within_days)
        t1, t2 = now - 2 * window, now - window
        with reading(engine) as conn:
            spec = build_spec(conn, model.workspace_id, model.goal_event, now)
        _, x1, y1 = matrix(engine, model.workspace_id, spec, t1, model.goal_event, t2)
        _, x2, y2 = matrix(engine, model.workspace_id, spec, t2, model.goal_event, now)
        features_seconds = time.perf_counter() - t0
        fitted, metrics = train(model.algorithm, spec.names, (x1, y1), (x2, y2))
        card = {
            **metrics,
            "algorithm": model.algorithm,
            "goal": {"event": model.goal_event, "within_days": model.within_days},
            "features": spec.names,
            "training": _window(t1, t2, y1),
            "validation": _window(t2, now, y2),
            "final": _window(t2, now, y2),
            "features_seconds": round(features_seconds, 3),
        }
        with engine.begin() as conn:
            conn.execute(
                update(predictive_model)
                .where(predictive_model.c.id == model.id)
                .values(artifact=fitted.dump(), spec=spec.to_json(), card=card)
            )
        scored = score_all(engine, model.id, model.workspace_id, fitted, spec, now)
        card |= _scored_card(scored, now)
        card["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        card["seconds"] = round(time.perf_counter() - t0, 3)
        with engine.begin() as conn:
            m = predictive_model.c
            current = conn.execute(
                select(m.goal_event, m.within_days, m.algorithm, m.retrain_days).where(m.id == model.id)
            ).one()
            # changed while it trained (PATCH): this fit stands until the new one, due now
            stale = tuple(current[:3]) != (model.goal_event, model.within_days, model.algorithm)
            conn.execute(
                update(predictive_model)
                .where(m.id == model.id)
                .values(
                    status="queued" if stale else "ready", status_reason=None, trained_at=now, scored_at=now,
                    card=card, next_score_at=now + RESCORE, updated_at=now,
                    next_train_at=now if stale else now + timedelta(days=current.retrain_days),
                )
            )  # fmt: skip
            _refresh_segments(conn, model.workspace_id, model.key)
    except TrainingFailed as exc:
        _fail(engine, model, now, exc.reason)
    except Exception as exc:
        log.exception("training predictive model %s failed", model.id)
        _fail(engine, model, now, f"internal error: {type(exc).__name__}")


def _window(cutoff: datetime, until: datetime, y: Any) -> dict[str, Any]:
    return {"cutoff": cutoff.isoformat(), "label_until": until.isoformat(), "contacts": len(y),
            "positives": int(y.sum())}  # fmt: skip


def _scored_card(scored: Scored, now: datetime) -> dict[str, Any]:
    rate = scored.contacts / scored.compute_seconds if scored.compute_seconds > 0 else None
    return {"scored": {"at": now.isoformat(), "contacts": scored.contacts,
                       "compute_seconds": round(scored.compute_seconds, 3),
                       "write_seconds": round(scored.write_seconds, 3),
                       "contacts_per_s": round(rate, 1) if rate else None}}  # fmt: skip


def _fail(engine: Engine, model: Any, now: datetime, reason: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(predictive_model)
            .where(predictive_model.c.id == model.id)
            .values(
                status="failed", status_reason=reason, updated_at=now,
                next_train_at=now + timedelta(days=model.retrain_days),
            )
        )  # fmt: skip


def rescore_model(engine: Engine, model: Any, now: datetime) -> None:
    """Every live contact's probability again, with the stored fit, at ``now``."""
    fitted = Fitted.load(model.artifact)  # our own bytes (training.Fitted.dump)
    spec = FeatureSpec.from_json(model.spec)
    scored = score_all(engine, model.id, model.workspace_id, fitted, spec, now)
    card = {**(model.card or {}), **_scored_card(scored, now)}
    with engine.begin() as conn:
        conn.execute(
            update(predictive_model)
            .where(predictive_model.c.id == model.id)
            .values(scored_at=now, next_score_at=now + RESCORE, card=card)
        )
        _refresh_segments(conn, model.workspace_id, model.key)


_PREDICTION_COLUMNS = ("model_id", "contact_id", "workspace_id", "probability", "scored_at")


def _upsert_predictions(conn: Connection) -> Any:
    stmt = insert_on_conflict(conn, contact_prediction).values({c: bindparam(c) for c in _PREDICTION_COLUMNS})
    return stmt.on_conflict_do_update(
        index_elements=["model_id", "contact_id"],
        set_={"probability": stmt.excluded.probability, "scored_at": stmt.excluded.scored_at},
    )


#: A page of probabilities: an upsert straight to the driver (rows overwritten in place rather
#: than deleted and inserted again, which touched every index twice).
_UPSERT_PREDICTIONS = FastStatement(_upsert_predictions, _PREDICTION_COLUMNS)


def score_all(
    engine: Engine, model_id: int, workspace_id: int, fitted: Fitted, spec: FeatureSpec, now: datetime
) -> Scored:
    """Score every live contact at ``now``: pages of features read ahead by threads
    (``feature_pages``), one transaction per page written. No explanation is computed here:
    they are computed for one contact when its predictions are read."""
    out = Scored()
    t0 = time.perf_counter()
    for rows, x in feature_pages(engine, workspace_id, spec, now):
        p = np.round(fitted.probabilities(x), 6).tolist()
        t1 = time.perf_counter()
        with engine.begin() as conn:
            # journeys entered on a probability crossing a threshold: the page's previous ones
            crossings = PredictedCrossings.read(conn, workspace_id, model_id, rows.lo, rows.hi)
            t = time_converter(conn)(now)
            ids = rows.ids.tolist()
            _UPSERT_PREDICTIONS.execute(
                conn, [(model_id, cid, workspace_id, pi, t) for cid, pi in zip(ids, p, strict=True)]
            )
            if crossings is not None:
                crossings.enroll(conn, rows.ids, p, now)
        out.contacts += len(rows)
        out.compute_seconds += t1 - t0  # the wait for the page's features, and the model
        t0 = time.perf_counter()
        out.write_seconds += t0 - t1
    with engine.begin() as conn:  # contacts merged or deleted since the last scoring
        conn.execute(
            delete(contact_prediction).where(
                contact_prediction.c.model_id == model_id, contact_prediction.c.scored_at < now
            )
        )
    return out


def _refresh_segments(conn: Connection, workspace_id: int, key: str) -> None:
    """Flag the dynamic segments testing the model for a full refresh by the worker."""
    ids = [
        sid
        for sid, definition in conn.execute(
            select(segment.c.id, segment.c.definition).where(
                segment.c.workspace_id == workspace_id, segment.c.kind == "dynamic"
            )
        )
        if key in stored_dependencies(definition).predictions
    ]
    if ids:
        conn.execute(update(segment).where(segment.c.id.in_(ids)).values(needs_refresh=True))
