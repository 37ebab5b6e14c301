"""/api/v1/contacts — thin: parse, call ``kairos.contacts.service``, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select

from kairos.api.deps import (
    IdempotencyKey,
    PageDep,
    PrincipalDep,
    StateDep,
    WorkspaceDep,
    decode_cursor,
    encode_cursor,
    int_cursor,
)
from kairos.api.schemas import (
    ContactCreate,
    ContactDetail,
    ContactMergeRead,
    ContactRead,
    ContactUpdate,
    ContactWithTraits,
    EventRead,
    LifecycleChangeRead,
    LifecycleStageRead,
    Page,
)
from kairos.api.transactions import idempotent_create
from kairos.clock import ensure_utc
from kairos.contacts import export, service
from kairos.contacts.export import subject_of
from kairos.contacts.fields import normalize_field
from kairos.contacts.lifecycle import stage_history, stages_in_use
from kairos.contacts.merge import merges_into
from kairos.contacts.tables import tag as tag_table
from kairos.contacts.tags import add_tags, remove_tag
from kairos.db.engine import reading
from kairos.db.types import from_micros, to_micros
from kairos.errors import InvalidInput
from kairos.events.service import list_events
from kairos.segments.service import get_segment
from kairos.segments.traits import traits_of

router = APIRouter(prefix="/contacts", tags=["contacts"])


@router.get("", response_model=Page[ContactRead])
def read_contacts(
    state: StateDep,
    ws: WorkspaceDep,
    page: PageDep,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    anonymous_id: str | None = None,
    name: Annotated[
        str | None, Query(max_length=200, description="First, last or full name starts with")
    ] = None,
    segment_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Members of this segment")
    ] = None,
    tag: Annotated[str | None, Query(max_length=200, description="Contacts with this tag")] = None,
    lifecycle_stage: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Contacts in id order. Identifier filters match any identifier the contact ever had;
    `name` matches the start of the first, last or full name, in any case. Filters combine
    (all must hold). An unknown segment is 404 `segment_not_found`; an unknown tag matches
    nobody."""
    filters: list[tuple[str, str]] = []
    if external_id:
        filters.append(("user_id", external_id))
    if email:
        filters.append(("email", _normalized("email", email, ws.default_country)))
    if phone:
        filters.append(("phone", _normalized("phone", phone, ws.default_country)))
    if anonymous_id:
        filters.append(("anonymous_id", anonymous_id))
    after = int_cursor(page.after)
    with reading(state.engine) as conn:
        if segment_id is not None:
            get_segment(conn, ws.id, segment_id)  # 404 for a segment of another workspace
        tag_id = None
        if tag is not None:
            named = tag_table.c.name == tag.strip()
            tag_id = conn.execute(
                select(tag_table.c.id).where(tag_table.c.workspace_id == ws.id, named)
            ).scalar()
            if tag_id is None:
                return {"data": [], "next": None}
        rows = service.list_contacts(
            conn, ws.id, limit=page.limit, after=after, identities=filters, segment_id=segment_id,
            tag_id=tag_id, lifecycle_stage=lifecycle_stage.strip() if lifecycle_stage else None, name=name,
        )  # fmt: skip
    nxt = encode_cursor(rows[-1]["id"]) if len(rows) == page.limit else None
    return {"data": rows, "next": nxt}


# Before "/{contact_id}": the first route whose path matches answers.
@router.get("/lifecycle-stages", response_model=Page[LifecycleStageRead])
def read_lifecycle_stages(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The lifecycle stages the workspace's live contacts are at now, in code-point order
    (at most 500). Stages are free text (`PATCH /contacts/{id}` `lifecycle_stage`): this is
    what filters and pickers offer. One index seek per stage, however many contacts."""
    with reading(state.engine) as conn:
        return {"data": [{"stage": s} for s in stages_in_use(conn, ws.id)], "next": None}


@router.post("", response_model=ContactDetail, status_code=201, responses={200: {"model": ContactDetail}})
def upsert_contact(
    body: ContactCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Create a contact, or update the one matching ``external_id`` (then email, then phone).
    201 when created, 200 when an existing contact was updated. Fields left out keep their
    value; an explicit null clears one."""

    def create(conn: Any) -> tuple[int, Any]:
        contact, created = service.upsert_contact(
            conn,
            ws.id,
            body.model_dump(exclude_unset=True),
            state.now(ws),
            default_country=ws.default_country,
        )
        return (201 if created else 200), jsonable_encoder(ContactDetail.model_validate(contact))

    return idempotent_create(state, ws.id, idempotency_key, "POST /contacts", body.model_dump(), create)


@router.get("/{contact_id}", response_model=ContactWithTraits)
def read_contact(contact_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """A merged contact's id answers with the contact it was merged into."""
    with reading(state.engine) as conn:
        found = service.get_contact(conn, ws.id, contact_id)
        # Here, not in contacts.service: segments.traits imports contacts, not the reverse.
        return {**found, "computed_traits": traits_of(conn, [found["id"]])[found["id"]]}


@router.patch("/{contact_id}", response_model=ContactDetail)
def update_contact(
    contact_id: int, body: ContactUpdate, state: StateDep, ws: WorkspaceDep, who: PrincipalDep
) -> dict[str, Any]:
    """A stage change is recorded in the contact's history with the source `console` when a
    console user made it, `api` when an API key did."""
    data = body.model_dump(exclude_unset=True)
    source = "console" if who.user_id is not None else "api"
    with state.engine.begin() as conn:
        return service.update_contact(
            conn, ws.id, contact_id, data, state.now(ws), default_country=ws.default_country, source=source
        )


@router.delete("/{contact_id}", status_code=204)
def delete_contact(contact_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Erase the contact with its identities, events and tags (right to erasure)."""
    with state.engine.begin() as conn:
        service.delete_contact(conn, ws.id, contact_id)
    return Response(status_code=204)


@router.get(
    "/{contact_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
def export_contact(contact_id: int, state: StateDep, ws: WorkspaceDep) -> StreamingResponse:
    """Everything held on the person (right of access), as one JSON document streamed in
    pages: profile, identities, merges, tags, lifecycle history, computed traits, segment
    memberships and transitions, consent, suppressions, messages with their events, inbox,
    journeys, offers and coupons, broadcasts, events (docs/api.md). A merged contact's id
    exports the contact it was merged into; an erased or unknown one is 404."""
    with reading(state.engine) as conn:
        subject = subject_of(conn, ws.id, contact_id)
    return StreamingResponse(
        export.export_contact(state.engine, subject, state.now(ws)),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="contact-{subject.contact_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/{contact_id}/events", response_model=Page[EventRead])
def read_contact_events(
    contact_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    page: PageDep,
    name: str | None = None,
    since: Annotated[datetime | None, Query(description="Inclusive, ISO 8601")] = None,
    until: Annotated[datetime | None, Query(description="Exclusive, ISO 8601")] = None,
) -> dict[str, Any]:
    """The contact's timeline, newest first (including contacts merged into it)."""
    before = _time_id_cursor(page.after)
    with reading(state.engine) as conn:
        cid = service.live_contact_id(conn, ws.id, contact_id)
        rows = list_events(
            conn,
            cid,
            limit=page.limit,
            name=name,
            since=ensure_utc(since) if since else None,
            until=ensure_utc(until) if until else None,
            before=before,
        )
    nxt = None
    if len(rows) == page.limit:
        nxt = encode_cursor([to_micros(rows[-1]["timestamp"]), rows[-1]["id"]])
    return {"data": rows, "next": nxt}


@router.get("/{contact_id}/lifecycle", response_model=Page[LifecycleChangeRead])
def read_lifecycle_history(
    contact_id: int, state: StateDep, ws: WorkspaceDep, page: PageDep
) -> dict[str, Any]:
    """The contact's lifecycle stage changes, newest first: from, to, what changed it
    (`source`) and when, including those of contacts merged into it."""
    before = _time_id_cursor(page.after)
    with reading(state.engine) as conn:
        cid = service.live_contact_id(conn, ws.id, contact_id)
        rows = stage_history(conn, cid, limit=page.limit, before=before)
    nxt = None
    if len(rows) == page.limit:
        nxt = encode_cursor([to_micros(rows[-1]["changed_at"]), rows[-1]["id"]])
    return {"data": rows, "next": nxt}


@router.get("/{contact_id}/merges", response_model=Page[ContactMergeRead])
def read_merges(contact_id: int, state: StateDep, ws: WorkspaceDep, page: PageDep) -> dict[str, Any]:
    """The contacts merged into this one by identity resolution, newest first: the id merged
    away (which now leads here), the contact it was merged into (this one, or one merged into
    this one since), the identifiers that tied them, and when."""
    before = int_cursor(page.after)
    with reading(state.engine) as conn:
        cid = service.live_contact_id(conn, ws.id, contact_id)
        rows = merges_into(conn, ws.id, cid, limit=page.limit, before=before)
    nxt = encode_cursor(rows[-1]["id"]) if len(rows) == page.limit else None
    return {"data": rows, "next": nxt}


@router.post("/{contact_id}/tags/{tag}", response_model=ContactDetail)
def add_contact_tag(contact_id: int, tag: str, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Idempotent: tagging twice keeps one tag."""
    with state.engine.begin() as conn:
        now = state.now(ws)
        cid = service.live_contact_id(conn, ws.id, contact_id)
        if add_tags(conn, ws.id, [(cid, tag)], now):
            service.mark_changed(conn, ws.id, [cid], now)
        return service.get_contact(conn, ws.id, cid)


@router.delete("/{contact_id}/tags/{tag}", response_model=ContactDetail)
def remove_contact_tag(contact_id: int, tag: str, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Idempotent: removing a tag the contact does not have is not an error."""
    with state.engine.begin() as conn:
        cid = service.live_contact_id(conn, ws.id, contact_id)
        if remove_tag(conn, ws.id, cid, tag, state.now(ws)):
            service.mark_changed(conn, ws.id, [cid], state.now(ws))
        return service.get_contact(conn, ws.id, cid)


def _time_id_cursor(after: str | None) -> tuple[datetime, int] | None:
    """A (time, id) cursor of a newest-first list."""
    if after is None:
        return None
    cursor = decode_cursor(after)
    if not (isinstance(cursor, list) and len(cursor) == 2 and all(isinstance(v, int) for v in cursor)):
        raise InvalidInput("the 'after' cursor is not one this API issued", code="invalid_cursor")
    return (from_micros(cursor[0]), cursor[1])


def _normalized(kind: str, value: str, default_country: str | None) -> str:
    return normalize_field(kind, value, default_country) or value
