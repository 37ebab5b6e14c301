"""/api/v1/journeys — thin: parse, call ``kairos.journeys.service``, shape the answer."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import IdempotencyKey, PageDep, StateDep, WorkspaceDep, encode_cursor, int_cursor
from kairos.api.journey_schemas import (
    EnrollmentCreate,
    EnrollmentRead,
    JourneyCreate,
    JourneyEnrollmentRead,
    JourneyRead,
    JourneyStatsRead,
    JourneyUpdate,
    JourneyVersionRead,
)
from kairos.api.schemas import Page
from kairos.api.transactions import idempotent_create
from kairos.contacts.service import find_contact_id, live_contact_id
from kairos.db.engine import reading
from kairos.errors import NotFound
from kairos.journeys import service
from kairos.journeys.definition import definition_schema

router = APIRouter(tags=["journeys"])


@router.get("/journeys", response_model=Page[JourneyRead])
def read_journeys(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": service.list_journeys(conn, ws.id), "next": None}


@router.post("/journeys", response_model=JourneyRead, status_code=201)
def create_journey(
    body: JourneyCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A new journey as a draft. The definition is validated (types, reachable nodes, no
    dangling branch, no cycle without a wait, templates and segments that exist, webhook
    URLs that are public)."""
    service.check_targets(body.definition, allow_private=state.settings.allow_private_targets)

    def create(conn: Any) -> tuple[int, Any]:
        row = service.create_journey(conn, ws.id, state.now(ws), **body.model_dump())
        return 201, jsonable_encoder(JourneyRead.model_validate(row))

    return idempotent_create(state, ws.id, idempotency_key, "POST /journeys", body.model_dump(), create)


@router.get("/journeys/schema", response_model=dict[str, Any])
def read_journey_schema(ws: WorkspaceDep) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12, as pydantic writes it) of a journey definition: the
    trigger kinds, entry rules, goal and exit rules and every node kind with its fields,
    types, limits, defaults and descriptions (docs/journeys.md). The console's journey
    editor draws its inspectors from it. Any role may read it; it is the same for every
    workspace."""
    del ws  # signed in to a workspace, like every /api/v1 route
    return definition_schema()


@router.get("/journeys/{journey_id}", response_model=JourneyRead)
def read_journey(journey_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return service.get_journey(conn, ws.id, journey_id)


@router.patch("/journeys/{journey_id}", response_model=JourneyRead)
def update_journey(journey_id: int, body: JourneyUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Edits the draft; the live version runs on until the next publish."""
    service.check_targets(body.definition, allow_private=state.settings.allow_private_targets)
    with state.engine.begin() as conn:
        return service.update_journey(
            conn, ws.id, journey_id, state.now(ws), body.model_dump(exclude_unset=True)
        )


@router.post("/journeys/{journey_id}/publish", response_model=JourneyRead)
def publish_journey(journey_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The draft becomes the next immutable version and goes live; enrollments already
    running finish on the version they entered."""
    with state.engine.begin() as conn:
        result = service.publish(conn, ws.id, journey_id, state.now(ws))
    state.wake()
    return result


def _status(journey_id: int, status: str, state: Any, ws: Any) -> dict[str, Any]:
    with state.engine.begin() as conn:
        result = service.set_status(conn, ws.id, journey_id, status, state.now(ws))
    state.wake()
    return result


@router.post("/journeys/{journey_id}/pause", response_model=JourneyRead)
def pause_journey(journey_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Nobody enters and nobody moves until resumed."""
    return _status(journey_id, "paused", state, ws)


@router.post("/journeys/{journey_id}/resume", response_model=JourneyRead)
def resume_journey(journey_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    return _status(journey_id, "active", state, ws)


@router.post("/journeys/{journey_id}/archive", response_model=JourneyRead)
def archive_journey(journey_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    return _status(journey_id, "archived", state, ws)


@router.get("/journeys/{journey_id}/versions", response_model=Page[JourneyVersionRead])
def read_versions(journey_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": service.list_versions(conn, ws.id, journey_id), "next": None}


@router.get("/journeys/{journey_id}/stats", response_model=JourneyStatsRead)
def read_stats(
    journey_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    version: int | None = Query(
        None,
        ge=1,
        description="Count only the enrollments of this version number (the live one: "
        "`live_version`); default every version's, by node id. 404 `version_not_found`",
    ),
) -> dict[str, Any]:
    """Per node: `entered`, `current` (there now), `passed`, `exited`, `converted` and the
    passages by outcome (`next`, `yes`, `timeout`, a split branch, `waiting` …); and the
    totals: enrollments by state. Grouped in SQL over the step log and the enrollments."""
    with reading(state.engine) as conn:
        journey = service.get_journey(conn, ws.id, journey_id)
        version_id = service.version_id_of(conn, ws.id, journey_id, version) if version is not None else None
        return {
            "version": version,
            "live_version": journey["version"],
            "nodes": service.node_counts(conn, ws.id, journey_id, version_id),
            "totals": service.journey_totals(conn, ws.id, journey_id, version_id),
        }


@router.post("/journeys/{journey_id}/enrollments", response_model=EnrollmentRead, status_code=201)
def enroll(
    journey_id: int,
    body: EnrollmentCreate,
    state: StateDep,
    ws: WorkspaceDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """API trigger: enter a contact with a payload the templates can use. The same
    `Idempotency-Key` enters once; 409 `entry_refused` when the entry rules say no."""
    key = idempotency_key or uuid.uuid4().hex
    with state.engine.begin() as conn:
        if body.contact_id is not None:
            cid = live_contact_id(conn, ws.id, body.contact_id)
        else:
            found = find_contact_id(conn, ws.id, "user_id", body.user_id or "")
            if found is None:
                raise NotFound(f"no contact with user id {body.user_id!r}", code="contact_not_found")
            cid = found
        result = service.enroll_through_api(conn, ws.id, journey_id, cid, body.payload, key, state.now(ws))
    state.wake()
    return result


@router.get("/journeys/{journey_id}/enrollments", response_model=Page[JourneyEnrollmentRead])
def read_enrollments(
    journey_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    page: PageDep,
    enrollment_state: str | None = Query(
        None, description="`active`, `completed`, `converted` or `exited` (else 422 `invalid_state`)"
    ),
    node: str | None = Query(
        None, max_length=64, description="Only those at this node now (active) or that ended there"
    ),
) -> dict[str, Any]:
    """The journey's enrollments in id order (cursor pages), each with its contact's id,
    identifiers and name."""
    with reading(state.engine) as conn:
        service.get_journey(conn, ws.id, journey_id)
        rows = service.list_enrollments(
            conn, ws.id, journey_id=journey_id, contact_id=None, state=enrollment_state, node=node,
            after=int_cursor(page.after), limit=page.limit, with_contact=True,
        )  # fmt: skip
    return {"data": rows, "next": encode_cursor(rows[-1]["id"]) if len(rows) == page.limit else None}


@router.get("/contacts/{contact_id}/enrollments", response_model=Page[EnrollmentRead])
def read_contact_enrollments(
    contact_id: int, state: StateDep, ws: WorkspaceDep, page: PageDep
) -> dict[str, Any]:
    with reading(state.engine) as conn:
        cid = live_contact_id(conn, ws.id, contact_id)
        rows = service.list_enrollments(
            conn,
            ws.id,
            journey_id=None,
            contact_id=cid,
            state=None,
            after=int_cursor(page.after),
            limit=page.limit,
        )
    return {"data": rows, "next": encode_cursor(rows[-1]["id"]) if len(rows) == page.limit else None}


@router.delete("/journeys/{journey_id}/enrollments/{enrollment_id}", status_code=204)
def remove_enrollment(journey_id: int, enrollment_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Take a contact out of the journey now (state exited, reason removed)."""
    with state.engine.begin() as conn:
        service.remove_enrollment(conn, ws.id, journey_id, enrollment_id, state.now(ws))
    return Response(status_code=204)
