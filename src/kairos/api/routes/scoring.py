"""/api/v1/score-models and a contact's scores (the score report is in ``reports``) — thin: parse, call
``kairos.scoring``, shape the answer (docs/leads.md, "Scoring")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import IdempotencyKey, StateDep, WorkspaceDep
from kairos.api.schemas import Page
from kairos.api.scoring_schemas import (
    ContactScores,
    ScoreModelCreate,
    ScoreModelRead,
    ScoreModelUpdate,
    ScoreRuleCreate,
    ScoreRuleRead,
    ScoreRuleUpdate,
)
from kairos.api.transactions import idempotent_create
from kairos.contacts.service import live_contact_id
from kairos.db.engine import reading
from kairos.scoring import reports, service

router = APIRouter(tags=["scoring"])


def _read(m: dict[str, Any]) -> dict[str, Any]:
    return {
        **m,
        "recompute": {
            "status": m["recompute_status"],
            "done": m["recompute_done"],
            "total": m["recompute_total"],
            "started_at": m["recompute_started_at"],
            "finished_at": m["recompute_finished_at"],
        },
    }


@router.get("/score-models", response_model=Page[ScoreModelRead])
def read_score_models(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The workspace's score models with their rules and recompute progress."""
    with reading(state.engine) as conn:
        return {"data": [_read(m) for m in service.list_models(conn, ws.id)], "next": None}


@router.post("/score-models", response_model=ScoreModelRead, status_code=201)
def create_score_model(
    body: ScoreModelCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A model without rules; add rules with `POST /score-models/{id}/rules`. The first model
    of a workspace is its default: the contact's read-only `score` field mirrors it.
    409 `score_model_exists` when the key is taken; 422 `invalid_decay`, `invalid_score_bounds`."""

    def create(conn: Any) -> tuple[int, Any]:
        m = service.create_model(conn, ws.id, state.now(ws), **body.model_dump())
        return 201, jsonable_encoder(ScoreModelRead.model_validate(_read(m)))

    return idempotent_create(state, ws.id, idempotency_key, "POST /score-models", body.model_dump(), create)


@router.get("/score-models/{model_id}", response_model=ScoreModelRead)
def read_score_model(model_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """`recompute` reports the progress of the full recompute a change of rules, decay or
    bounds queued (`done` of `total` contacts)."""
    with reading(state.engine) as conn:
        return _read(service.get_model(conn, ws.id, model_id))


@router.patch("/score-models/{model_id}", response_model=ScoreModelRead)
def update_score_model(
    model_id: int, body: ScoreModelUpdate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """A new decay or new bounds recompute every score of the model. The key cannot change."""
    with state.engine.begin() as conn:
        changes = body.model_dump(exclude_unset=True)
        return _read(service.update_model(conn, ws.id, model_id, state.now(ws), changes))


@router.delete("/score-models/{model_id}", status_code=204)
def delete_score_model(model_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Deletes the model with its rules, scores and ledger; 409 `score_model_in_use` while a
    segment tests its score or an active journey is triggered by it."""
    with state.engine.begin() as conn:
        service.delete_model(conn, ws.id, model_id, state.now(ws))
    return Response(status_code=204)


@router.post("/score-models/{model_id}/recompute", response_model=ScoreModelRead, status_code=202)
def recompute_score_model(model_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Queue a full recompute of every score of the model (the worker runs it in batches)."""
    with state.engine.begin() as conn:
        service.get_model(conn, ws.id, model_id)
        service.queue_recompute(conn, model_id, state.now(ws))
        return _read(service.get_model(conn, ws.id, model_id))


@router.post("/score-models/{model_id}/rules", response_model=ScoreRuleRead, status_code=201)
def create_score_rule(
    model_id: int, body: ScoreRuleCreate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Adding a rule recomputes the model's scores (queued for the worker). 422
    `invalid_score_rule` names the bad field; unknown attributes, segments or operators in a
    condition fail as in segments."""
    with state.engine.begin() as conn:
        return service.create_rule(conn, ws.id, model_id, state.now(ws), **body.model_dump())


@router.patch("/score-models/{model_id}/rules/{rule_id}", response_model=ScoreRuleRead)
def update_score_rule(
    model_id: int, rule_id: int, body: ScoreRuleUpdate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """New points or a new rule recompute the model's scores; a new name does not."""
    with state.engine.begin() as conn:
        changes = body.model_dump(exclude_unset=True)
        return service.update_rule(conn, ws.id, model_id, rule_id, state.now(ws), changes)


@router.delete("/score-models/{model_id}/rules/{rule_id}", status_code=204)
def delete_score_rule(model_id: int, rule_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Removing a rule recomputes the model's scores (its ledger rows stay, without the rule)."""
    with state.engine.begin() as conn:
        service.delete_rule(conn, ws.id, model_id, rule_id, state.now(ws))
    return Response(status_code=204)


@router.get("/contacts/{contact_id}/scores", response_model=ContactScores)
def read_contact_scores(
    contact_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    latest: Annotated[int, Query(ge=0, le=200, description="Ledger entries per model")] = 20,
) -> dict[str, Any]:
    """The contact's score in every model (0 when never scored), its last change and the
    latest ledger entries with their reasons. A merged id answers for its survivor."""
    with reading(state.engine) as conn:
        cid = live_contact_id(conn, ws.id, contact_id)
        return {"data": reports.contact_scores(conn, ws.id, cid, latest)}
