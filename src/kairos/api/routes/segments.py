"""/api/v1/segments — thin: parse, call ``kairos.segments.service``, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from kairos.api.deps import IdempotencyKey, PageDep, StateDep, WorkspaceDep, encode_cursor, int_cursor
from kairos.api.schemas import (
    ContactSegment,
    ListImportResult,
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
from kairos.segments import lists, service, trend
from kairos.segments.reference import builder_reference, event_properties


class OperatorRef(BaseModel):
    key: str
    label: str
    value: Literal["none", "one", "list", "pair", "duration", "duration_pair", "age_range"]
    types: list[Literal["string", "number", "boolean", "datetime", "list"]]
    moves: bool


class FieldRef(BaseModel):
    name: str = Field(description="As a condition's `attribute`: a field, `traits.NAME` or `computed.NAME`")
    type: str
    source: Literal["field", "attribute", "computed_trait"]
    label: str | None = None


class SegmentRef(BaseModel):
    id: int
    name: str
    kind: Literal["dynamic", "static"]


class SegmentBuilderReference(BaseModel):
    operators: list[OperatorRef]
    definition_schema: dict[str, Any] = Field(description="JSON Schema of a segment definition")
    fields: list[FieldRef]
    events: list[str]
    tags: list[str]
    segments: list[SegmentRef]


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
        seg = service.create_segment(conn, ws.id, state.now(ws), **body.model_dump())
        return 201, jsonable_encoder(SegmentRead.model_validate(service.with_count(conn, seg)))

    return idempotent_create(state, ws.id, idempotency_key, "POST /segments", body.model_dump(), create)


@router.post("/segments/preview", response_model=SegmentPreview)
def preview_segment(body: SegmentPreviewRequest, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Count and a sample of the contacts an unsaved definition matches now, or as of the
    earlier instant `as_of`."""
    with reading(state.engine) as conn:
        return service.preview(conn, ws.id, body.definition, state.now(ws), body.sample, body.as_of)


@router.get("/segments/reference", response_model=SegmentBuilderReference)
def segment_builder_reference(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Everything a segment builder offers, generated from the code and the workspace: the
    operators registry (`key`, `label`, `value`: none, one, list, pair, duration,
    duration_pair or age_range; the attribute `types` it applies to; `moves`: time alone
    changes it), the definition's JSON Schema (every condition kind), the fields, attributes
    (`traits.NAME`) and computed traits (`computed.NAME`) a condition can test with their
    types, and the workspace's event names, tags and segments (at most 1,000 each)."""
    with reading(state.engine) as conn:
        return builder_reference(conn, ws.id)


class SegmentTrendRead(BaseModel):
    segment_id: int
    members: list[int] = Field(description="Members at the end of each day (today: now)")
    entered: list[int] = Field(description="Contacts who entered during each day")
    exited: list[int] = Field(description="Contacts who left during each day")


class SegmentTrends(BaseModel):
    days: list[str] = Field(description="The UTC days, oldest first (ISO dates); the last is today")
    as_of: datetime
    segments: list[SegmentTrendRead]


class EventPropertyRef(BaseModel):
    name: str
    types: list[str] = Field(
        description="JSON types seen (string, number, boolean, object, list, null), commonest first"
    )
    seen: int = Field(description="How many of the sampled events had it")


class EventProperties(BaseModel):
    event: str
    sampled: int = Field(description="How many of the event's latest occurrences were read (at most 500)")
    properties: list[EventPropertyRef]


@router.get("/segments/reference/properties", response_model=EventProperties)
def event_property_reference(
    state: StateDep,
    ws: WorkspaceDep,
    event: Annotated[str, Query(min_length=1, max_length=200, description="The event name")],
) -> dict[str, Any]:
    """The properties a filter on `event` can pick from: the top-level properties of its
    latest 500 occurrences, with the JSON types seen, the commonest first. Events are
    untyped: these are observations, not a schema."""
    with reading(state.engine) as conn:
        return event_properties(conn, ws.id, event)


@router.get("/segments/trends", response_model=SegmentTrends)
def segment_trends(
    state: StateDep,
    ws: WorkspaceDep,
    days: Annotated[int, Query(ge=1, le=trend.MAX_DAYS, description="How many UTC days, up to today")] = 30,
    segment_id: Annotated[
        list[int] | None, Query(description="Only these segments (repeat the parameter); default: all")
    ] = None,
) -> dict[str, Any]:
    """Each segment's membership over the last `days` UTC days: members at the end of each
    day, entries and exits during it — read from the entry and exit log, so the figures are
    those of the contacts still in the workspace (an erased contact's history goes with it)."""
    with reading(state.engine) as conn:
        return trend.membership_trend(conn, ws.id, state.now(ws), days, segment_id)


@router.get("/segments/{segment_id}", response_model=SegmentRead)
def read_segment(segment_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return service.with_count(conn, service.get_segment(conn, ws.id, segment_id))


@router.patch("/segments/{segment_id}", response_model=SegmentRead)
def update_segment(segment_id: int, body: SegmentUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """A new definition is recomputed for everyone by the worker."""
    with state.engine.begin() as conn:
        seg = service.update_segment(
            conn, ws.id, segment_id, state.now(ws), body.model_dump(exclude_unset=True)
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
def explain_membership(
    segment_id: int,
    contact_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    as_of: Annotated[
        datetime | None,
        Query(description="Evaluate as of this earlier instant (ISO 8601; without an offset, UTC)"),
    ] = None,
) -> dict[str, Any]:
    """Which conditions hold for this contact now (or as of `as_of`) and which fail, with the
    values that decided each. ``matches`` is the definition's verdict; ``member`` is the stored
    membership now (the worker catches up within its next pass)."""
    with reading(state.engine) as conn:
        cid = live_contact_id(conn, ws.id, contact_id)
        return service.explain_membership(conn, ws.id, segment_id, cid, state.now(ws), as_of)


@router.post("/segments/{segment_id}/members", response_model=ListMembersAdded)
def add_list_members(
    segment_id: int, body: ListMembersAdd, state: StateDep, ws: WorkspaceDep
) -> dict[str, int]:
    """Static lists only. Idempotent: adding a member twice adds it once."""
    with state.engine.begin() as conn:
        return service.add_list_members(conn, ws.id, segment_id, body.contact_ids, state.now(ws))


@router.delete("/segments/{segment_id}/members/{contact_id}", status_code=204)
def remove_list_member(segment_id: int, contact_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Static lists only. Idempotent: removing a non-member is not an error."""
    with state.engine.begin() as conn:
        service.remove_list_member(conn, ws.id, segment_id, contact_id, state.now(ws))
    return Response(status_code=204)


#: Bodies the CSV import reads (multipart uploads need python-multipart, not a dependency).
CSV_MEDIA_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})


@router.post(
    "/segments/{segment_id}/members/import",
    response_model=ListImportResult,
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_list_members(
    segment_id: int, request: Request, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Static lists only: add the existing contacts a CSV body (`Content-Type: text/csv`, UTF-8,
    a header row) names by `id`, `external_id`/`user_id`, `email` or `phone` — the first
    non-empty one in that order. Never creates contacts: a row naming no contact is rejected
    with its line number. All in one transaction, committed before the answer."""
    await run_in_threadpool(_check_list, state, ws.id, segment_id)
    data = await _csv_body(request)
    return await run_in_threadpool(
        lists.import_list_csv,
        state.engine,
        ws.id,
        segment_id,
        data,
        state.now(ws),
        default_country=ws.default_country,
    )


def _check_list(state: StateDep, workspace_id: int, segment_id: int) -> None:
    """404 / 409 before reading a body of up to 50 MB."""
    with reading(state.engine) as conn:
        service.static_list(conn, workspace_id, segment_id)


async def _csv_body(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        raise HTTPException(415, "send the CSV file itself as the request body with Content-Type: text/csv")
    limit = lists.MAX_IMPORT_BYTES
    too_large = HTTPException(413, f"the CSV is over {limit} bytes; split it into several imports")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        parts.append(chunk)
    return b"".join(parts)


@router.get(
    "/segments/{segment_id}/members.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"}},
)
def export_members(segment_id: int, state: StateDep, ws: WorkspaceDep) -> StreamingResponse:
    """Every member as CSV (`id, external_id, email, phone, first_name, last_name, entered_at`)
    in id order, streamed a page at a time; dynamic and static segments alike. Cells that a
    spreadsheet would run as a formula start with `'`."""
    with reading(state.engine) as conn:
        service.get_segment(conn, ws.id, segment_id)
    return StreamingResponse(
        lists.export_members_csv(state.engine, ws.id, segment_id),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="segment-{segment_id}-members.csv"',
            "Cache-Control": "no-store",
        },
    )
