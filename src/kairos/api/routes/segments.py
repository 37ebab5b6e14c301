"""/api/v1/segments — thin: parse, call ``kairos.segments.service``, shape the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import IdempotencyKey, PageDep, StateDep, WorkspaceDep, encode_cursor, int_cursor
from kairos.api.schemas import (
    ContactSegment,
    ListMembersAdd,
    ListMembersAdded,
    Page,
    SegmentCreate,
    SegmentExplanation,
    SegmentMember,
    SegmentPreview,
    SegmentPreviewRequest,
    SegmentRead,
    SegmentUpdate,
)
from kairos.api.transactions import idempotent_create
from kairos.contacts.service import live_contact_id
from kairos.db.engine import reading
from kairos.segments import service

router = APIRouter(tags=["segments"])


@router.get("/segments", response_model=Page[SegmentRead])
def read_segments(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": service.list_segments(conn, ws.id), "next": None}


@router.post("/segments", response_model=SegmentRead, status_code=201)
def create_segment(
    body: SegmentCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A dynamic segment's members are computed by the worker right after it is saved."""

    def create(conn: Any) -> tuple[int, Any]:
        seg = service.create_segment(conn, ws.id, state.clock.now(), **body.model_dump())
        return 201, jsonable_encoder(SegmentRead.model_validate(service.with_count(conn, seg)))

    return idempotent_create(state, ws.id, idempotency_key, "POST /segments", body.model_dump(), create)


@router.post("/segments/preview", response_model=SegmentPreview)
def preview_segment(body: SegmentPreviewRequest, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Count and a sample of the contacts an unsaved definition matches now."""
    with reading(state.engine) as conn:
        return service.preview(conn, ws.id, body.definition, state.clock.now(), body.sample)


@router.get("/segments/{segment_id}", response_model=SegmentRead)
def read_segment(segment_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return service.with_count(conn, service.get_segment(conn, ws.id, segment_id))


@router.patch("/segments/{segment_id}", response_model=SegmentRead)
def update_segment(segment_id: int, body: SegmentUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """A new definition is recomputed for everyone by the worker."""
    with state.engine.begin() as conn:
        seg = service.update_segment(
            conn, ws.id, segment_id, state.clock.now(), body.model_dump(exclude_unset=True)
        )
        return service.with_count(conn, seg)


@router.delete("/segments/{segment_id}", status_code=204)
def delete_segment(segment_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    with state.engine.begin() as conn:
        service.delete_segment(conn, ws.id, segment_id)
    return Response(status_code=204)


@router.get("/segments/{segment_id}/members", response_model=Page[SegmentMember])
def read_members(segment_id: int, state: StateDep, ws: WorkspaceDep, page: PageDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        rows = service.list_members(conn, ws.id, segment_id, limit=page.limit, after=int_cursor(page.after))
    return {"data": rows, "next": encode_cursor(rows[-1]["id"]) if len(rows) == page.limit else None}


@router.get("/contacts/{contact_id}/segments", response_model=Page[ContactSegment])
def read_contact_segments(contact_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        cid = live_contact_id(conn, ws.id, contact_id)
        return {"data": service.segments_of(conn, ws.id, cid), "next": None}


@router.get("/segments/{segment_id}/explain/{contact_id}", response_model=SegmentExplanation)
def explain_membership(segment_id: int, contact_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Which conditions hold for this contact now and which fail. ``matches`` is the
    definition's verdict now; ``member`` is the stored membership (the worker catches up
    within its next pass)."""
    with reading(state.engine) as conn:
        cid = live_contact_id(conn, ws.id, contact_id)
        return service.explain_membership(conn, ws.id, segment_id, cid, state.clock.now())


@router.post("/segments/{segment_id}/members", response_model=ListMembersAdded)
def add_list_members(
    segment_id: int, body: ListMembersAdd, state: StateDep, ws: WorkspaceDep
) -> dict[str, int]:
    """Static lists only. Idempotent: adding a member twice adds it once."""
    with state.engine.begin() as conn:
        return service.add_list_members(conn, ws.id, segment_id, body.contact_ids, state.clock.now())


@router.delete("/segments/{segment_id}/members/{contact_id}", status_code=204)
def remove_list_member(segment_id: int, contact_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Static lists only. Idempotent: removing a non-member is not an error."""
    with state.engine.begin() as conn:
        service.remove_list_member(conn, ws.id, segment_id, contact_id, state.clock.now())
    return Response(status_code=204)
