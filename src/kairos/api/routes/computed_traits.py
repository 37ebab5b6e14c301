"""/api/v1/computed-traits — thin: parse, call ``kairos.segments.traits``, shape the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import IdempotencyKey, PageDep, StateDep, WorkspaceDep, encode_cursor, int_cursor
from kairos.api.schemas import (
    ComputedTraitCreate,
    ComputedTraitRead,
    ComputedTraitUpdate,
    ComputedTraitValue,
    Page,
)
from kairos.api.transactions import idempotent_create
from kairos.db.engine import reading
from kairos.segments import traits

router = APIRouter(prefix="/computed-traits", tags=["computed traits"])


def _read(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "pending": row["needs_refresh"]}


@router.get("", response_model=Page[ComputedTraitRead])
def read_computed_traits(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": [_read(t) for t in traits.list_traits(conn, ws.id)], "next": None}


@router.post("", response_model=ComputedTraitRead, status_code=201)
def create_computed_trait(
    body: ComputedTraitCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Values are computed by the worker right after the trait is saved (`pending` until then)."""

    def create(conn: Any) -> tuple[int, Any]:
        trait = traits.create_trait(conn, ws.id, state.now(ws), **body.model_dump())
        return 201, jsonable_encoder(ComputedTraitRead.model_validate(_read(trait)))

    return idempotent_create(
        state, ws.id, idempotency_key, "POST /computed-traits", body.model_dump(), create
    )


@router.get("/{trait_id}", response_model=ComputedTraitRead)
def read_computed_trait(trait_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return _read(traits.get_trait(conn, ws.id, trait_id))


@router.patch("/{trait_id}", response_model=ComputedTraitRead)
def update_computed_trait(
    trait_id: int, body: ComputedTraitUpdate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """A new definition is recomputed for everyone by the worker. A trait that segments test
    keeps its name and value type (409 `computed_trait_in_use`)."""
    with state.engine.begin() as conn:
        changes = body.model_dump(exclude_unset=True)
        return _read(traits.update_trait(conn, ws.id, trait_id, state.now(ws), changes))


@router.delete("/{trait_id}", status_code=204)
def delete_computed_trait(trait_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Deletes the trait and its values; refused (409) while segments test it."""
    with state.engine.begin() as conn:
        traits.delete_trait(conn, ws.id, trait_id)
    return Response(status_code=204)


@router.get("/{trait_id}/values", response_model=Page[ComputedTraitValue])
def read_computed_trait_values(
    trait_id: int, state: StateDep, ws: WorkspaceDep, page: PageDep
) -> dict[str, Any]:
    """Stored values in contact id order. A count or sum of nothing is 0 and not listed."""
    with reading(state.engine) as conn:
        rows = traits.list_values(conn, ws.id, trait_id, limit=page.limit, after=int_cursor(page.after))
    return {"data": rows, "next": encode_cursor(rows[-1]["contact_id"]) if len(rows) == page.limit else None}
