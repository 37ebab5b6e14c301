"""/api/v1/topics, contact subscriptions, /suppressions, /messaging/policy — thin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import IdempotencyKey, PageDep, StateDep, WorkspaceDep, decode_cursor, encode_cursor
from kairos.api.messaging_schemas import (
    ConsentEventRead,
    ContactSubscriptions,
    MessagingPolicyWrite,
    SubscriptionChange,
    SuppressionCreate,
    SuppressionRead,
    TopicCreate,
    TopicRead,
    TopicUpdate,
)
from kairos.api.schemas import Page
from kairos.api.transactions import idempotent_create
from kairos.contacts.service import live_contact_id
from kairos.db.engine import reading
from kairos.errors import InvalidInput
from kairos.messaging import consent
from kairos.messaging.policy import MessagingPolicy, get_policy, set_policy

router = APIRouter(tags=["consent"])


@router.get("/topics", response_model=Page[TopicRead])
def read_topics(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": consent.list_topics(conn, ws.id), "next": None}


@router.post("/topics", response_model=TopicRead, status_code=201)
def create_topic(
    body: TopicCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    def create(conn: Any) -> tuple[int, Any]:
        row = consent.create_topic(conn, ws.id, state.now(ws), **body.model_dump())
        return 201, jsonable_encoder(TopicRead.model_validate(row))

    return idempotent_create(state, ws.id, idempotency_key, "POST /topics", body.model_dump(), create)


@router.get("/topics/{topic_id}", response_model=TopicRead)
def read_topic(topic_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return consent.get_topic(conn, ws.id, topic_id)


@router.patch("/topics/{topic_id}", response_model=TopicRead)
def update_topic(topic_id: int, body: TopicUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with state.engine.begin() as conn:
        return consent.update_topic(conn, ws.id, topic_id, body.model_dump(exclude_unset=True))


@router.delete("/topics/{topic_id}", status_code=204)
def delete_topic(topic_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    with state.engine.begin() as conn:
        consent.delete_topic(conn, ws.id, topic_id)
    return Response(status_code=204)


def _subscriptions(conn: Any, workspace_id: int, contact_id: int) -> dict[str, Any]:
    channels = {
        scope.split(":", 1)[1]: status
        for scope, status in consent.consents_of(conn, contact_id).items()
        if scope.startswith("channel:")
    }
    return {"topics": consent.contact_preferences(conn, workspace_id, contact_id), "channels": channels}


@router.get("/contacts/{contact_id}/subscriptions", response_model=ContactSubscriptions)
def read_subscriptions(contact_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Every topic with the contact's effective status (opt-in topics: unsubscribed until
    subscribed), and channel-wide unsubscribes."""
    with reading(state.engine) as conn:
        return _subscriptions(conn, ws.id, live_contact_id(conn, ws.id, contact_id))


@router.post("/contacts/{contact_id}/subscriptions", response_model=ContactSubscriptions)
def change_subscription(
    contact_id: int, body: SubscriptionChange, request: Request, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Record consent in the ledger (source, wording version, IP). Subscribing to a double
    opt-in topic records `pending` and emails a confirmation link, unless `confirmed`."""
    now = state.now(ws)
    ip = body.ip or (request.client.host if request.client else None)
    with state.engine.begin() as conn:
        cid = live_contact_id(conn, ws.id, contact_id)
        if body.topic_id is not None and body.status == "subscribed":
            topic = consent.get_topic(conn, ws.id, body.topic_id)
            consent.subscribe(
                conn, ws.id, cid, topic, now, source=body.source, confirmed=body.confirmed,
                wording_version=body.wording_version, ip=ip,
            )  # fmt: skip
        else:
            scope = (
                consent.topic_scope(body.topic_id)
                if body.topic_id is not None
                else consent.channel_scope(body.channel or "")
            )
            consent.parse_scope(conn, ws.id, scope)
            consent.set_consent(
                conn, ws.id, cid, scope, body.status, now, source=body.source,
                wording_version=body.wording_version, ip=ip,
            )  # fmt: skip
        answer = _subscriptions(conn, ws.id, cid)
    state.wake()
    return answer


@router.get("/contacts/{contact_id}/consent-log", response_model=Page[ConsentEventRead])
def read_consent_log(contact_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The consent ledger of a contact, oldest first."""
    with reading(state.engine) as conn:
        return {"data": consent.ledger(conn, ws.id, live_contact_id(conn, ws.id, contact_id)), "next": None}


@router.get("/suppressions", response_model=Page[SuppressionRead])
def read_suppressions(
    state: StateDep, ws: WorkspaceDep, page: PageDep, channel: str | None = None
) -> dict[str, Any]:
    after = None
    if page.after is not None:
        value = decode_cursor(page.after)
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            raise InvalidInput("the 'after' cursor is not one this API issued", code="invalid_cursor")
        after = (value[0], value[1])
    with reading(state.engine) as conn:
        rows = consent.list_suppressions(conn, ws.id, channel=channel, after=after, limit=page.limit)
    nxt = encode_cursor([rows[-1]["channel"], rows[-1]["address"]]) if len(rows) == page.limit else None
    return {"data": rows, "next": nxt}


@router.post("/suppressions", response_model=SuppressionRead, status_code=201)
def create_suppression(body: SuppressionCreate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Nothing more is sent to this address on this channel, transactional messages included."""
    now = state.now(ws)
    with state.engine.begin() as conn:
        consent.suppress(conn, ws.id, body.channel, body.address, body.reason, now, detail=body.detail)
        address = consent.normalize_address(body.channel, body.address)
        rows = consent.list_suppressions(conn, ws.id, channel=body.channel, after=None, limit=1_000_000)
    return next(r for r in rows if r["address"] == address)


@router.delete("/suppressions/{channel}/{address}", status_code=204)
def delete_suppression(channel: str, address: str, state: StateDep, ws: WorkspaceDep) -> Response:
    with state.engine.begin() as conn:
        consent.unsuppress(conn, ws.id, channel, address)
    return Response(status_code=204)


@router.get("/messaging/policy", response_model=MessagingPolicy)
def read_policy(state: StateDep, ws: WorkspaceDep) -> MessagingPolicy:
    with reading(state.engine) as conn:
        return get_policy(conn, ws.id)


@router.put("/messaging/policy", response_model=MessagingPolicy)
def replace_policy(body: MessagingPolicyWrite, state: StateDep, ws: WorkspaceDep) -> MessagingPolicy:
    """Frequency caps and quiet hours for marketing messages; applied at send time, so they
    also hold messages already queued. The time zone is the workspace's (`PATCH /workspace`):
    a `timezone` given here sets it, one left out leaves it as it is."""
    with state.engine.begin() as conn:
        policy = MessagingPolicy(
            frequency_caps=body.frequency_caps, quiet_hours=body.quiet_hours, timezone=body.timezone or "UTC"
        )
        return set_policy(conn, ws.id, policy, set_timezone=body.timezone is not None)
