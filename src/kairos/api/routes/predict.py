"""/api/v1/predictive-models and a contact's predictions — thin: parse, call
``kairos.predict``, shape the answer (docs/leads.md, "Predictive conversion score")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from kairos.api.deps import StateDep, WorkspaceDep
from kairos.api.predict_schemas import (
    ContactPredictions,
    PredictiveModelCreate,
    PredictiveModelRead,
    PredictiveModelUpdate,
)
from kairos.api.schemas import Page
from kairos.contacts.service import live_contact_id
from kairos.db.engine import reading
from kairos.errors import InvalidInput
from kairos.predict import service

router = APIRouter(tags=["predictive"])


def _read(m: dict[str, Any]) -> dict[str, Any]:
    return {
        **m,
        "goal": {"event": m["goal_event"], "within_days": m["within_days"]},
        "retrain_every_days": m["retrain_days"],
    }


@router.get("/predictive-models", response_model=Page[PredictiveModelRead])
def read_predictive_models(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The workspace's predictive models with their status and latest model card."""
    with reading(state.engine) as conn:
        return {"data": [_read(m) for m in service.list_models(conn, ws.id)], "next": None}


@router.post("/predictive-models", response_model=PredictiveModelRead, status_code=201)
def create_predictive_model(body: PredictiveModelCreate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """A model of "does the contact perform `goal.event` within `goal.within_days`", queued
    for its first training (the worker trains it, then scores every contact). 409
    `predictive_model_exists` when the key is taken; 422 `invalid_predictive_model_key`."""
    with state.engine.begin() as conn:
        m = service.create_model(
            conn, ws.id, state.now(ws), key=body.key, name=body.name, description=body.description,
            goal_event=body.goal.event, within_days=body.goal.within_days, algorithm=body.algorithm,
            retrain_days=body.retrain_every_days,
        )  # fmt: skip
        return _read(m)


@router.get("/predictive-models/{model_id}", response_model=PredictiveModelRead)
def read_predictive_model(model_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The model and its card: holdout AUC, Brier score and reliability table, feature
    importances, training sizes and windows, when it was trained and scored."""
    with reading(state.engine) as conn:
        return _read(service.get_model(conn, ws.id, model_id))


@router.patch("/predictive-models/{model_id}", response_model=PredictiveModelRead)
def update_predictive_model(
    model_id: int, body: PredictiveModelUpdate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """A new goal or algorithm queues a training (the current predictions stay until it is
    done). The key cannot change."""
    changes = body.model_dump(exclude_unset=True)
    goal = changes.pop("goal", None)
    if goal is not None:
        changes |= {"goal_event": goal["event"], "within_days": goal["within_days"]}
    if "retrain_every_days" in changes:
        changes["retrain_days"] = changes.pop("retrain_every_days")
    with state.engine.begin() as conn:
        return _read(service.update_model(conn, ws.id, model_id, state.now(ws), changes))


@router.delete("/predictive-models/{model_id}", status_code=204)
def delete_predictive_model(model_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Deletes the model and its predictions; 409 `predictive_model_in_use` while a segment
    tests it."""
    with state.engine.begin() as conn:
        service.delete_model(conn, ws.id, model_id)
    return Response(status_code=204)


@router.post("/predictive-models/{model_id}/train", response_model=PredictiveModelRead, status_code=202)
def train_predictive_model(model_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Queue a training now; the worker runs it (`status` goes `queued` → `training` →
    `ready` or `failed`). Checked first: too few contacts converted in either window the
    training labels with → the model is `failed` with the reason and the answer is 422
    `too_few_positives`; 409 `training_in_progress` while one runs."""
    with state.engine.begin() as conn:
        try:
            return _read(service.request_training(conn, ws.id, model_id, state.now(ws)))
        except service.TrainingRefused as exc:
            refused = exc  # the failed status is committed with the transaction
    raise InvalidInput(refused.reason, code="too_few_positives")


@router.get("/contacts/{contact_id}/predictions", response_model=ContactPredictions)
def read_contact_predictions(contact_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The contact's latest probability in every predictive model with its top feature
    contributions (largest first). A merged id answers for its survivor."""
    with reading(state.engine) as conn:
        cid = live_contact_id(conn, ws.id, contact_id)
        return {"data": service.contact_predictions(conn, ws.id, cid)}
