"""/api/v1/campaigns, /broadcasts, /calendar — thin: parse, call ``kairos.campaigns``, shape."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.campaign_schemas import (
    ApprovalNote,
    BroadcastCreate,
    BroadcastRead,
    BroadcastUpdate,
    CalendarItem,
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    CommentCreate,
    CommentRead,
    Rejection,
)
from kairos.api.deps import (
    IdempotencyKey,
    PrincipalDep,
    StateDep,
    WorkspaceDep,
    encode_cursor,
    int_cursor,
)
from kairos.api.schemas import Page
from kairos.api.transactions import idempotent_create
from kairos.campaigns import broadcasts, service
from kairos.clock import ensure_utc
from kairos.db.engine import reading
from kairos.errors import InvalidInput

router = APIRouter(tags=["campaigns"])


@router.get("/campaigns", response_model=Page[CampaignRead])
def read_campaigns(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": service.list_campaigns(conn, ws.id), "next": None}


@router.post("/campaigns", response_model=CampaignRead, status_code=201)
def create_campaign(
    body: CampaignCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    def create(conn: Any) -> tuple[int, Any]:
        data = body.model_dump(exclude={"name"})
        row = service.create_campaign(conn, ws.id, state.now(ws), body.name, data)
        return 201, jsonable_encoder(CampaignRead.model_validate(row))

    return idempotent_create(
        state, ws.id, idempotency_key, "POST /campaigns", body.model_dump(mode="json"), create
    )


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead)
def read_campaign(campaign_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return service.get_campaign(conn, ws.id, campaign_id)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignRead)
def update_campaign(
    campaign_id: int, body: CampaignUpdate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Changing an approved plan sends it back to draft: approval covers what will run."""
    with state.engine.begin() as conn:
        return service.update_campaign(
            conn, ws.id, campaign_id, state.now(ws), body.model_dump(exclude_unset=True)
        )


@router.post("/campaigns/{campaign_id}/request-approval", response_model=CampaignRead)
def request_approval(
    campaign_id: int, state: StateDep, who: PrincipalDep, body: ApprovalNote | None = None
) -> dict[str, Any]:
    """Draft → `pending_approval`, recording who asked. The optional `comment` goes in the
    campaign's thread; every user who may approve (admins and approvers), but the one who
    asked, gets a notification (`approval_requested`)."""
    ws = who.workspace
    with state.engine.begin() as conn:
        return service.request_approval(
            conn, ws.id, campaign_id, who.actor, state.now(ws), body.comment if body else None
        )


@router.post("/campaigns/{campaign_id}/approve", response_model=CampaignRead)
def approve(
    campaign_id: int, state: StateDep, who: PrincipalDep, body: ApprovalNote | None = None
) -> dict[str, Any]:
    """Approval comes from someone other than who asked (409 `second_approver_required`):
    a console user with the approver permission (admins have it; 403 otherwise), or an API
    key other than the one that asked. The optional `comment` goes in the thread; the
    requester and the thread's participants are notified (`campaign_approved`)."""
    ws = who.workspace
    with state.engine.begin() as conn:
        return service.approve(
            conn, ws.id, campaign_id, who.actor, state.now(ws), body.comment if body else None
        )


@router.post("/campaigns/{campaign_id}/reject", response_model=CampaignRead)
def reject(campaign_id: int, body: Rejection, state: StateDep, who: PrincipalDep) -> dict[str, Any]:
    """Sends a plan awaiting approval back to draft with the reason (`comment`, required:
    422 `comment_required` when blank), by someone other than who asked (409
    `second_approver_required`) with the approver permission (403 otherwise). The requester
    and the thread's participants are notified (`campaign_rejected`); the plan can then be
    changed and approval asked again."""
    ws = who.workspace
    with state.engine.begin() as conn:
        return service.reject(conn, ws.id, campaign_id, who.actor, state.now(ws), body.comment)


@router.get("/campaigns/{campaign_id}/comments", response_model=Page[CommentRead])
def read_comments(
    campaign_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str | None, Query(description="The `next` cursor of the previous page")] = None,
) -> dict[str, Any]:
    """The campaign's thread, oldest first: comments, and the approval steps (asked,
    approved, rejected) with the comment that came with them. Bodies are plain text."""
    with reading(state.engine) as conn:
        rows, more = service.list_comments(conn, ws.id, campaign_id, limit, int_cursor(after))
    return {"data": rows, "next": encode_cursor(more) if more is not None else None}


@router.post("/campaigns/{campaign_id}/comments", response_model=CommentRead, status_code=201)
def create_comment(
    campaign_id: int, body: CommentCreate, state: StateDep, who: PrincipalDep
) -> dict[str, Any]:
    """A comment in the thread (plain text; 422 `comment_required` when blank), by anyone
    who may change campaigns or approve them. The requester and the thread's other
    participants are notified (`campaign_comment`)."""
    ws = who.workspace
    with state.engine.begin() as conn:
        return service.add_comment(conn, ws.id, campaign_id, who.actor, state.now(ws), body.body)


def _status(campaign_id: int, status: str, state: Any, ws: Any) -> dict[str, Any]:
    with state.engine.begin() as conn:
        return service.set_status(conn, ws.id, campaign_id, status, state.now(ws))


@router.post("/campaigns/{campaign_id}/launch", response_model=CampaignRead)
def launch(campaign_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """409 `approval_required` when the campaign needs an approval it does not have."""
    return _status(campaign_id, "active", state, ws)


@router.post("/campaigns/{campaign_id}/complete", response_model=CampaignRead)
def complete(campaign_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    return _status(campaign_id, "completed", state, ws)


@router.post("/campaigns/{campaign_id}/cancel", response_model=CampaignRead)
def cancel_campaign(campaign_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    return _status(campaign_id, "cancelled", state, ws)


@router.get("/broadcasts", response_model=Page[BroadcastRead])
def read_broadcasts(state: StateDep, ws: WorkspaceDep, campaign_id: int | None = None) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": broadcasts.list_broadcasts(conn, ws.id, campaign_id), "next": None}


@router.post("/broadcasts", response_model=BroadcastRead, status_code=201)
def create_broadcast(
    body: BroadcastCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A draft; `POST /broadcasts/{id}/schedule` sends it (at `send_at`, at `local_time` on
    `local_date` in each contact's time zone, or now)."""

    def create(conn: Any) -> tuple[int, Any]:
        row = broadcasts.create_broadcast(conn, ws.id, state.now(ws), body.model_dump())
        return 201, jsonable_encoder(BroadcastRead.model_validate(row))

    return idempotent_create(
        state, ws.id, idempotency_key, "POST /broadcasts", body.model_dump(mode="json"), create
    )


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastRead)
def read_broadcast(broadcast_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return broadcasts.get_broadcast(conn, ws.id, broadcast_id)


@router.patch("/broadcasts/{broadcast_id}", response_model=BroadcastRead)
def update_broadcast(
    broadcast_id: int, body: BroadcastUpdate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Change a draft: the fields given (the others keep their value), checked as on creation
    (`unknown_segment`, `invalid_content`, `invalid_experiment`, `invalid_schedule`, …).
    A `template_id` replaces an experiment and an `experiment` a template; a `send_at`
    replaces a local date and time and they replace it. Once scheduled a broadcast is no
    longer a draft: 409 `broadcast_not_draft`."""
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "channel"):
        if required in changes and changes[required] is None:
            raise InvalidInput(f"{required} cannot be null", code="validation_error")
    with state.engine.begin() as conn:
        return broadcasts.update_broadcast(conn, ws.id, broadcast_id, state.now(ws), changes)


def _act(action: Any, broadcast_id: int, state: Any, ws: Any) -> dict[str, Any]:
    with state.engine.begin() as conn:
        result: dict[str, Any] = action(conn, ws.id, broadcast_id, state.now(ws))
    state.wake()
    return result


@router.post("/broadcasts/{broadcast_id}/schedule", response_model=BroadcastRead)
def schedule_broadcast(broadcast_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    return _act(broadcasts.schedule, broadcast_id, state, ws)


@router.post("/broadcasts/{broadcast_id}/pause", response_model=BroadcastRead)
def pause_broadcast(broadcast_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Stops queuing and holds the messages queued but not yet sent."""
    return _act(broadcasts.pause, broadcast_id, state, ws)


@router.post("/broadcasts/{broadcast_id}/resume", response_model=BroadcastRead)
def resume_broadcast(broadcast_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    return _act(broadcasts.resume, broadcast_id, state, ws)


@router.post("/broadcasts/{broadcast_id}/cancel", response_model=BroadcastRead)
def cancel_broadcast(broadcast_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Messages not yet sent are skipped (`broadcast_cancelled`)."""
    return _act(broadcasts.cancel, broadcast_id, state, ws)


@router.get("/calendar", response_model=Page[CalendarItem])
def read_calendar(state: StateDep, ws: WorkspaceDep, start: datetime, end: datetime) -> dict[str, Any]:
    """The marketing calendar in [start, end): campaigns running (`starts_at` to `ends_at`),
    broadcasts (drafts with a time, scheduled, sending; `starts_at` is the send time, or
    `local_date` + `local_time` in each contact's zone) and live journeys (`starts_at`: live
    since their first publication, no end), each with its `campaign_id`."""
    if end <= start or (end - start).days > 400:
        raise InvalidInput("end must be after start, at most 400 days later", code="invalid_range")
    with reading(state.engine) as conn:
        return {"data": service.calendar(conn, ws.id, ensure_utc(start), ensure_utc(end)), "next": None}
