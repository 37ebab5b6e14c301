"""/api/v1/channels, /templates, /messages — thin: parse, call ``kairos.messaging``, shape."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from kairos.api.deps import (
    IdempotencyKey,
    PageDep,
    PrincipalDep,
    StateDep,
    WorkspaceDep,
    encode_cursor,
    int_cursor,
)
from kairos.api.messaging_schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    MessageCreate,
    MessageRead,
    ProviderRead,
    TemplateCreate,
    TemplateDraftPreview,
    TemplatePreview,
    TemplateRead,
    TemplateRendered,
    TemplateUpdate,
    TestSend,
)
from kairos.api.schemas import Page
from kairos.api.transactions import idempotent_create
from kairos.contacts.fields import normalize_email, normalize_phone
from kairos.contacts.service import find_contact_id, live_contact_id
from kairos.db.engine import reading
from kairos.errors import NotFound
from kairos.messaging import identity, outbox, service
from kairos.messaging.reference import provider_schemas
from kairos.messaging.render import Tracking, context, load_contacts, render_content
from kairos.messaging.ssrf import check_url
from kairos.messaging.templates import CompiledTemplate, compile_template
from kairos.offers.assignment import sample_template

router = APIRouter(tags=["messaging"])


# --- channels -------------------------------------------------------------------------


def _channel(state: Any, row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "report_url": state.links.report_url(row["workspace_id"], row["id"])}


@router.get("/channels", response_model=Page[ChannelRead])
def read_channels(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {
            "data": [_channel(state, r) for r in service.list_channels(conn, ws.id, state.keyring)],
            "next": None,
        }


@router.get("/channels/providers", response_model=Page[ProviderRead])
def read_providers(principal: PrincipalDep) -> dict[str, Any]:
    """The providers a channel can use, each with the JSON Schemas of its `settings` and
    `secrets` (docs/providers.md is generated from the same models): a client builds its
    channel forms from them. Secrets are write-only."""
    del principal  # any signed-in caller: the schemas are the same for every workspace
    return {"data": provider_schemas(), "next": None}


@router.post("/channels", response_model=ChannelRead, status_code=201)
def create_channel(
    body: ChannelCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Configure a provider. Secrets are encrypted and never returned; the first channel of
    a kind becomes its default."""

    def create(conn: Any) -> tuple[int, Any]:
        row = service.create_channel(
            conn,
            ws.id,
            state.keyring,
            state.now(ws),
            name=body.name,
            provider_name=body.provider,
            settings=body.settings,
            secrets=body.secrets,
            is_default=body.is_default,
            rate_limit=body.rate_limit,
            allow_private=state.settings.allow_private_targets,
        )
        return 201, jsonable_encoder(ChannelRead.model_validate(_channel(state, row)))

    # the fingerprint must not keep secrets in the idempotency table
    fingerprint = body.model_dump(exclude={"secrets"}) | {"secrets": sorted(body.secrets)}
    return idempotent_create(state, ws.id, idempotency_key, "POST /channels", fingerprint, create)


@router.get("/channels/{channel_id}", response_model=ChannelRead)
def read_channel(channel_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return _channel(state, service.get_channel(conn, ws.id, channel_id, state.keyring))


@router.patch("/channels/{channel_id}", response_model=ChannelRead)
def update_channel(channel_id: int, body: ChannelUpdate, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with state.engine.begin() as conn:
        row = service.update_channel(
            conn,
            ws.id,
            channel_id,
            state.keyring,
            state.now(ws),
            body.model_dump(exclude_unset=True),
            allow_private=state.settings.allow_private_targets,
        )
    return _channel(state, row)


@router.post("/channels/{channel_id}/verify", status_code=204)
def verify_channel(channel_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Check the provider can be reached with this configuration, sending nothing (SMTP:
    connect, STARTTLS, AUTH, QUIT). 422 `smtp_unreachable` says what failed."""
    with reading(state.engine) as conn:
        service.verify_channel(
            conn, ws.id, channel_id, state.keyring, allow_private=state.settings.allow_private_targets
        )
    return Response(status_code=204)


@router.get("/channels/{channel_id}/signing-secret")
def read_signing_secret(channel_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, str]:
    """A webhook channel's signing secret (`whsec_…`, per Standard Webhooks), for the
    receiver to verify `webhook-signature`. Kairos generates one when none was given."""
    with reading(state.engine) as conn:
        return {"signing_secret": service.signing_secret(conn, ws.id, channel_id, state.keyring)}


@router.get("/inbox/identity-secret")
def read_identity_secret(state: StateDep, ws: WorkspaceDep) -> dict[str, str]:
    """The workspace's in-app inbox identity secret: your backend signs each signed-in user's
    id with it (`user_hash` = HMAC-SHA256(secret, user_id), hex) and hands the hash to the
    page or app that reads `/inbox/v1/messages`. Keep it server-side."""
    return {"identity_secret": identity.identity_secret(state.keyring, ws.id)}


@router.delete("/channels/{channel_id}", status_code=204)
def delete_channel(channel_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    with state.engine.begin() as conn:
        service.delete_channel(conn, ws.id, channel_id)
    return Response(status_code=204)


# --- templates ------------------------------------------------------------------------


@router.get("/templates", response_model=Page[TemplateRead])
def read_templates(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return {"data": service.list_templates(conn, ws.id), "next": None}


@router.post("/templates", response_model=TemplateRead, status_code=201)
def create_template(
    body: TemplateCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A template that does not compile (Liquid or MJML) is refused with 422
    `template_invalid`, naming the field; one past a resource limit with 422
    `template_too_complex`, a field over 512 KB with 422 `template_too_large`."""
    service.check_template(body.channel, body.fields)  # compiled before any transaction

    def create(conn: Any) -> tuple[int, Any]:
        row = service.create_template(conn, ws.id, state.now(ws), **body.model_dump(), checked=True)
        return 201, jsonable_encoder(TemplateRead.model_validate(row))

    return idempotent_create(state, ws.id, idempotency_key, "POST /templates", body.model_dump(), create)


@router.get("/templates/{template_id}", response_model=TemplateRead)
def read_template(template_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    with reading(state.engine) as conn:
        return service.get_template(conn, ws.id, template_id)


@router.patch("/templates/{template_id}", response_model=TemplateRead)
def update_template(
    template_id: int, body: TemplateUpdate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """A change of fields bumps `version`; messages not yet sent use the new version."""
    return service.edit_template(
        state.engine, ws.id, template_id, state.now(ws), body.model_dump(exclude_unset=True)
    )


@router.delete("/templates/{template_id}", status_code=204)
def delete_template(template_id: int, state: StateDep, ws: WorkspaceDep) -> Response:
    """Deletes a template that nothing will still send. `409 template_in_use` names what
    uses it: messages waiting in the outbox, a journey's draft or a version that is live or
    has contacts in it, a broadcast not yet fully queued (its content or a variant's), an
    open campaign's materials, a landing page, a topic's double opt-in confirmation."""
    with state.engine.begin() as conn:
        service.delete_template(conn, ws.id, template_id)
    return Response(status_code=204)


@router.post("/templates/preview", response_model=TemplateRendered)
def preview_draft(body: TemplateDraftPreview, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Render an unsaved template (`channel` and `fields` as `POST /templates` takes them)
    for a contact, as `POST /templates/{id}/preview` renders a saved one: what an editor
    shows while the template is written. Fields that do not compile are a 422
    `template_invalid` naming the field (as on save); with `strict`, variables without a
    value are a 422 `template_render_failed` naming them."""
    compiled = compile_template(body.channel, body.fields)  # before any connection opens
    return _preview(state, ws, compiled, body)


@router.post("/templates/{template_id}/preview", response_model=TemplateRendered)
def preview_template(
    template_id: int, body: TemplatePreview, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Render for a contact exactly as the dispatcher would (tracked links, unsubscribe
    headers), without sending. With `strict`, a variable without a value is a 422."""
    with reading(state.engine) as conn:
        t = service.get_template(conn, ws.id, template_id)
    return _preview(state, ws, compile_template(t["channel"], t["fields"]), body)


def _preview(state: Any, ws: Any, compiled: CompiledTemplate, body: TemplatePreview) -> dict[str, Any]:
    """The content of one message of ``compiled`` for the preview's contact, event, payload
    and offer (message id 0: nothing is stored)."""
    now = state.now(ws)
    with reading(state.engine) as conn:
        view: dict[str, Any] = {"id": 0, "traits": {}}
        cid: int | None = None
        if body.contact_id is not None:
            cid = live_contact_id(conn, ws.id, body.contact_id)
            view = load_contacts(conn, [cid])[cid]
        offer = None if body.offer_id is None else sample_template(conn, ws.id, body.offer_id, cid)
    links = {
        "unsubscribe_url": state.links.unsubscribe_url(0),
        "preferences_url": state.links.preferences_url(ws.id, int(view["id"])),
        "confirm_url": state.links.confirm_url(int(view["id"]), 0),
    }
    ctx = context(view, {"event": body.event, "payload": body.payload, "offer": offer}, 0, links)
    content = render_content(
        compiled,
        compiled.channel,
        ctx,
        message_id=0,
        links=state.links,
        tracking=Tracking(opens=body.tracking, clicks=body.tracking),
        seen_links={},
        marketing=True,
        now=now,
        strict=body.strict,
    )
    content.pop("date", None)
    return {"content": jsonable_encoder(content)}


def _test_recipient(channel: str, to: str, default_country: str | None, state: Any) -> str:
    """A test send's `to`, checked and normalised like a contact's address on that channel."""
    if channel == "email":
        return normalize_email(to)
    if channel == "sms":
        return normalize_phone(to, default_country)
    if channel == "webhook":
        check_url(to, allow_private=state.settings.allow_private_targets)
    return to


@router.post("/templates/{template_id}/test-send", response_model=MessageRead, status_code=202)
def test_send(template_id: int, body: TestSend, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Queue the template for one contact (to `to` if given) as a transactional test message:
    the subject is prefixed with [Test]. Follow its status at /messages/{id}. A `to` that is
    not an address of the template's channel is a 422 at once (`invalid_email`,
    `invalid_phone`, `url_not_allowed`)."""
    now = state.now(ws)
    with state.engine.begin() as conn:
        t = service.get_template(conn, ws.id, template_id)
        cid = live_contact_id(conn, ws.id, body.contact_id)
        data: dict[str, Any] = {"event": body.event, "payload": body.payload}
        if body.offer_id is not None:
            data["offer"] = sample_template(conn, ws.id, body.offer_id, cid)
        if body.to:
            data["to"] = _test_recipient(t["channel"], body.to, ws.default_country, state)
        [mid] = outbox.enqueue(
            conn,
            ws.id,
            [
                outbox.NewMessage(
                    contact_id=cid,
                    channel=t["channel"],
                    source="test",
                    transactional=True,
                    template_id=template_id,
                    idempotency_key=f"test:{template_id}:{now.timestamp()}:{cid}",
                    data=data,
                )
            ],
            now,
        )
        result = outbox.get_message(conn, ws.id, mid)
    state.wake()
    return result


# --- messages -------------------------------------------------------------------------


@router.post("/messages", response_model=MessageRead, status_code=202)
def create_message(
    body: MessageCreate, state: StateDep, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Send a one-off message through the outbox (policy applies at send time, as for every
    message). The same `Idempotency-Key` never creates a second message."""
    now = state.now(ws)
    if body.channel == "webhook" and body.to:
        check_url(body.to, allow_private=state.settings.webhook_allow_private)

    def create(conn: Any) -> tuple[int, Any]:
        cid = _contact(conn, ws.id, body)
        data = {
            k: v
            for k, v in (
                ("event", body.event),
                ("payload", body.payload),
                ("content", body.content),
                ("to", body.to),
            )
            if v is not None
        }
        key = f"api:{idempotency_key}" if idempotency_key else f"api:{uuid.uuid4().hex}"
        [mid] = outbox.enqueue(
            conn,
            ws.id,
            [
                outbox.NewMessage(
                    contact_id=cid,
                    channel=body.channel,
                    source="api",
                    template_id=body.template_id,
                    topic_id=body.topic_id,
                    transactional=body.transactional,
                    idempotency_key=key,
                    data=data,
                    send_at=body.send_at,
                    channel_config_id=body.channel_id,
                )
            ],
            now,
        )
        return 202, jsonable_encoder(MessageRead.model_validate(outbox.get_message(conn, ws.id, mid)))

    answer = idempotent_create(
        state, ws.id, idempotency_key, "POST /messages", body.model_dump(mode="json"), create
    )
    state.wake()
    return answer


def _contact(conn: Any, workspace_id: int, body: MessageCreate) -> int:
    if body.contact_id is not None:
        return live_contact_id(conn, workspace_id, body.contact_id)
    kind, value = ("user_id", body.user_id) if body.user_id else ("email", normalize_email(body.email or ""))
    found = find_contact_id(conn, workspace_id, kind, value or "")
    if found is None:
        raise NotFound(f"no contact with {kind} {value!r}", code="contact_not_found")
    return found


@router.get("/messages", response_model=Page[MessageRead])
def read_messages(
    state: StateDep,
    ws: WorkspaceDep,
    page: PageDep,
    contact_id: int | None = None,
    status: Annotated[str | None, Query(description="queued, sending, sent, delivered, …")] = None,
) -> dict[str, Any]:
    """Newest first."""
    with reading(state.engine) as conn:
        rows = outbox.list_messages(
            conn, ws.id, contact_id=contact_id, status=status, after=int_cursor(page.after), limit=page.limit
        )
    nxt = encode_cursor(rows[-1]["id"]) if len(rows) == page.limit else None
    return {"data": rows, "next": nxt}


@router.get("/messages/{message_id}", response_model=MessageRead)
def read_message(message_id: int, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The message with everything that happened to it (delivered, opened, clicked …)."""
    with reading(state.engine) as conn:
        return outbox.get_message(conn, ws.id, message_id)
