"""/api/v1/attributes — typed custom attribute definitions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import IdempotencyKey, StateDep, WorkspaceDep
from kairos.api.schemas import (
    AttributeCreate,
    AttributeDryRun,
    AttributeRead,
    AttributeUpdate,
    AttributeWritten,
    Page,
)
from kairos.api.transactions import idempotent_create
from kairos.clock import FixedClock
from kairos.contacts.attributes import create_attribute, list_attributes, update_attribute
from kairos.db.engine import reading

router = APIRouter(prefix="/attributes", tags=["attributes"])


@router.get("", response_model=Page[AttributeRead])
def read_attributes(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": list_attributes(conn, ws.id), "next": None}


@router.post(
    "",
    response_model=AttributeWritten,
    status_code=201,
    responses={200: {"model": AttributeDryRun, "description": "`dry_run`: the conversion report only"}},
)
def create_attribute_definition(
    body: AttributeCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Declare a typed trait. Later writes of that trait are checked against the type, and
    the values contacts already hold are converted now: `conversion` counts the values
    converted and those left as they were (unconvertible, with the first contact ids).
    `dry_run: true` answers that report (200) and declares nothing."""
    if body.dry_run:
        with state.engine.begin() as conn:
            report = create_attribute(conn, FixedClock(state.now(ws)), ws.id, **body.model_dump())
        return JSONResponse(jsonable_encoder(AttributeDryRun.model_validate(report)))

    def create(conn: Any) -> tuple[int, Any]:
        row = create_attribute(conn, FixedClock(state.now(ws)), ws.id, **body.model_dump())
        return 201, jsonable_encoder(AttributeWritten.model_validate(row))

    return idempotent_create(state, ws.id, idempotency_key, "POST /attributes", body.model_dump(), create)


@router.patch("/{name}", response_model=AttributeWritten)
def update_attribute_definition(
    name: str, body: AttributeUpdate, state: StateDep, ws: WorkspaceDep
) -> AttributeWritten:
    """Change the label, description or type. A new type converts the values contacts hold,
    as declaring does (`conversion`; `null` when the type stays); an attribute that segments
    test keeps its type (409 `attribute_in_use`). `dry_run: true` answers what would change
    and changes nothing."""
    changes = body.model_dump(exclude_unset=True, exclude={"dry_run"})
    with state.engine.begin() as conn:
        row = update_attribute(conn, FixedClock(state.now(ws)), ws.id, name, changes, dry_run=body.dry_run)
    return AttributeWritten.model_validate(row)
