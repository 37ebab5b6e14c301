"""/api/v1/attributes — typed custom attribute definitions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import IdempotencyKey, StateDep, WorkspaceDep
from kairos.api.schemas import AttributeCreate, AttributeRead, Page
from kairos.api.transactions import idempotent_create
from kairos.contacts.attributes import create_attribute, list_attributes
from kairos.db.engine import reading

router = APIRouter(prefix="/attributes", tags=["attributes"])


@router.get("", response_model=Page[AttributeRead])
def read_attributes(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": list_attributes(conn, ws.id), "next": None}


@router.post("", response_model=AttributeRead, status_code=201)
def create_attribute_definition(
    body: AttributeCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Declare a typed trait. Later writes of that trait are checked against the type."""

    def create(conn: Any) -> tuple[int, Any]:
        row = create_attribute(conn, state.clock, ws.id, **body.model_dump())
        return 201, jsonable_encoder(AttributeRead.model_validate(row))

    return idempotent_create(state, ws.id, idempotency_key, "POST /attributes", body.model_dump(), create)
