"""Public endpoints reached from messages and apps, authorised by signed tokens (or the
write key for the inbox), never by a session: the open pixel, click redirects, one-click
unsubscribe (RFC 8058), the preference centre, double opt-in confirmation, provider
delivery reports and the in-app inbox.

Links a scanner may follow (unsubscribe, confirmation) act only on POST; GET shows a page
with a button, so a mail gateway prefetching links does not unsubscribe anyone.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select, update

from kairos.api.deps import AppState, StateDep
from kairos.api.ingest import basic_user
from kairos.api.input_guard import form_body
from kairos.api.messaging_schemas import ProviderReport
from kairos.api.page_headers import page_headers
from kairos.clock import ensure_utc
from kairos.db.engine import reading
from kairos.errors import InvalidInput, NotFound, Unauthorized
from kairos.messaging import consent, identity, tracking
from kairos.messaging.tables import inbox_message, message
from kairos.workspaces.clocks import workspace_now
from kairos.workspaces.service import Workspace
from kairos.workspaces.tables import workspace

router = APIRouter(include_in_schema=True, tags=["public"])

#: The smallest transparent GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
TWILIO_STATUS: dict[str, Literal["delivered", "failed", "bounced"]] = {
    "delivered": "delivered",
    "undelivered": "failed",
    "failed": "failed",
}
#: Twilio error codes meaning the number cannot receive messages
TWILIO_BOUNCES = ("30003", "30005", "30006", "21211", "21614")
NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, private", "Pragma": "no-cache"}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;max-width:34rem;"
        "margin:3rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.5rem 1rem}"
        f"</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    # never framed (a framed unsubscribe button invites clickjacking); see page_headers
    return HTMLResponse(doc, status_code=status, headers=page_headers())


def _gone() -> HTMLResponse:
    return _page(
        "Link not valid", "<p>This link is not valid. It may have been copied incompletely.</p>", 404
    )


# --- tracking -------------------------------------------------------------------------


@router.get("/t/o/{token}", include_in_schema=False)
def open_pixel(token: str, state: StateDep, user_agent: Annotated[str | None, Header()] = None) -> Response:
    """Records an open (machine opens flagged) and answers a 1x1 GIF, valid token or not."""
    found = state.links.read("open", token, 1)
    if found is not None:
        with state.engine.begin() as conn:
            tracking.record_open(conn, found[0][0], _message_now(conn, state, found[0][0]), user_agent)
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/t/c/{token}/{link}", include_in_schema=False)
def click(
    token: str, link: str, state: StateDep, user_agent: Annotated[str | None, Header()] = None
) -> Response:
    """Redirects to the URL stored for this link when the message was rendered; the target
    never comes from the request, so this is no open redirect."""
    found = state.links.read("click", token, 1)
    digest = tracking.read_link_part(link)
    if found is None or digest is None:
        return _gone()
    message_id = found[0][0]
    with state.engine.begin() as conn:
        url = tracking.record_click(
            conn, message_id, digest, _message_now(conn, state, message_id), user_agent
        )
    if url is None:
        return _gone()
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


# --- unsubscribe ----------------------------------------------------------------------


@router.get("/u/{token}", include_in_schema=False)
def unsubscribe_page(token: str, state: StateDep) -> HTMLResponse:
    found = state.links.read("unsubscribe", token, 1)
    if found is None:
        return _gone()
    with reading(state.engine) as conn:
        m = tracking.message_row(conn, found[0][0])
    if m is None:
        return _gone()
    prefs = state.links.preferences_url(m.workspace_id, m.contact_id)
    return _page(
        "Unsubscribe",
        "<p>Stop receiving these messages?</p>"
        f"<form method='post'><button type='submit'>Unsubscribe</button></form>"
        f"<p><a href='{html.escape(prefs)}'>Manage all your preferences</a></p>",
    )


@router.post("/u/{token}", include_in_schema=False)
async def unsubscribe(token: str, request: Request, state: StateDep) -> Response:
    """RFC 8058 one-click unsubscribe (``List-Unsubscribe=One-Click`` from a mail client) and
    the page's button: no cookie needed, 200 without redirect, and idempotent."""
    found = state.links.read("unsubscribe", token, 1)
    if found is None:
        return _gone()
    ip = request.client.host if request.client else None
    with state.engine.begin() as conn:
        ok = tracking.unsubscribe(
            conn, found[0][0], _message_now(conn, state, found[0][0]),
            source="one_click" if await _one_click(request) else "link",
            ip=ip, user_agent=request.headers.get("user-agent"),
        )  # fmt: skip
    if not ok:
        return _gone()
    return _page("Unsubscribed", "<p>You will not receive these messages any more.</p>")


async def _form(request: Request) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body (all our forms and Twilio's callbacks)."""
    return await form_body(request, 1000)


async def _one_click(request: Request) -> bool:
    body = await request.body()
    return b"List-Unsubscribe=One-Click" in body


# --- preference centre and double opt-in ---------------------------------------------


def _preferences(state: Any, token: str) -> tuple[int, int] | None:
    found = state.links.read("preferences", token, 2)
    return None if found is None else (found[0][0], found[0][1])


@router.get("/p/{token}", include_in_schema=False)
def preference_centre(token: str, state: StateDep) -> HTMLResponse:
    ids = _preferences(state, token)
    if ids is None:
        return _gone()
    workspace_id, contact_id = ids
    with reading(state.engine) as conn:
        prefs = consent.contact_preferences(conn, workspace_id, contact_id)
        channels = consent.consents_of(conn, contact_id)
    rows = "".join(
        f"<p><label><input type='checkbox' name='topic' value='{p['topic']['id']}'"
        f"{' checked' if p['status'] == 'subscribed' else ''}> {html.escape(p['topic']['name'])}</label>"
        + (
            f"<br><small>{html.escape(p['topic']['description'])}</small>"
            if p["topic"]["description"]
            else ""
        )
        + "</p>"
        for p in prefs
    )
    all_off = channels.get(consent.channel_scope("email")) == "unsubscribed"
    return _page(
        "Your preferences",
        f"<form method='post'>{rows}<p><label><input type='checkbox' name='unsubscribe_all' value='email'"
        f"{' checked' if all_off else ''}> No marketing email at all</label></p>"
        "<button type='submit'>Save</button></form>",
    )


@router.post("/p/{token}", include_in_schema=False)
async def save_preferences(token: str, request: Request, state: StateDep) -> HTMLResponse:
    ids = _preferences(state, token)
    if ids is None:
        return _gone()
    workspace_id, contact_id = ids
    form = await _form(request)
    chosen = {int(v) for v in form.get("topic", []) if v.isascii() and v.isdigit() and len(v) < 19}
    ip = request.client.host if request.client else None
    now = state.now(workspace_id)
    with state.engine.begin() as conn:
        for p in consent.contact_preferences(conn, workspace_id, contact_id):
            topic = p["topic"]
            wanted = topic["id"] in chosen
            if wanted and p["status"] != "subscribed":
                consent.subscribe(
                    conn, workspace_id, contact_id, topic, now, source="preference_centre", ip=ip
                )
            elif not wanted and p["status"] != "unsubscribed":
                consent.set_consent(
                    conn, workspace_id, contact_id, consent.topic_scope(topic["id"]), "unsubscribed", now,
                    source="preference_centre", ip=ip,
                )  # fmt: skip
        channel_status = "unsubscribed" if "email" in form.get("unsubscribe_all", []) else "subscribed"
        current = consent.consents_of(conn, contact_id).get(consent.channel_scope("email"))
        if current != channel_status and not (current is None and channel_status == "subscribed"):
            consent.set_consent(
                conn, workspace_id, contact_id, consent.channel_scope("email"), channel_status, now,
                source="preference_centre", ip=ip,
            )  # fmt: skip
    state.wake()
    return _page("Preferences saved", "<p>Your choices are saved.</p>")


@router.get("/p/confirm/{token}", include_in_schema=False)
def confirm_page(token: str, state: StateDep) -> HTMLResponse:
    if state.links.read("confirm", token, 2) is None:
        return _gone()
    return _page(
        "Confirm your subscription",
        "<form method='post'><button type='submit'>Yes, subscribe me</button></form>",
    )


@router.post("/p/confirm/{token}", include_in_schema=False)
def confirm(token: str, request: Request, state: StateDep) -> HTMLResponse:
    found = state.links.read("confirm", token, 2)
    if found is None:
        return _gone()
    contact_id, topic_id = found[0]
    with state.engine.begin() as conn:
        workspace_id = _workspace_of_contact(conn, contact_id)
        now = workspace_now(conn, workspace_id, state.clock)
        topic = consent.get_topic(conn, workspace_id, topic_id)
        consent.subscribe(
            conn, workspace_id, contact_id, topic, now, source="double_opt_in", confirmed=True,
            ip=request.client.host if request.client else None,
        )  # fmt: skip
    return _page("Subscribed", f"<p>You are subscribed to {html.escape(topic['name'])}.</p>")


def _message_now(conn: Any, state: AppState, message_id: int) -> datetime:
    """The now of the workspace that sent this message (a sandbox's virtual now)."""
    row = conn.execute(
        select(workspace.c.sandbox, workspace.c.clock_at)
        .join(message, message.c.workspace_id == workspace.c.id)
        .where(message.c.id == message_id)
    ).first()
    return ensure_utc(row.clock_at) if row is not None and row.sandbox else state.clock.now()


def _workspace_of_contact(conn: Any, contact_id: int) -> int:
    from kairos.contacts.tables import contact

    ws = conn.execute(select(contact.c.workspace_id).where(contact.c.id == contact_id)).scalar()
    if ws is None:
        raise NotFound("no such contact", code="contact_not_found")
    return int(ws)


# --- provider delivery reports --------------------------------------------------------


@router.post("/hooks/reports/{token}", tags=["public"], status_code=204)
async def provider_report(token: str, request: Request, state: StateDep) -> Response:
    """Delivery reports from a provider: the generic JSON form (`ProviderReport`), or a
    Twilio status callback (form fields `MessageSid`, `MessageStatus`, `ErrorCode`). The URL
    is the channel's `report_url`: its token authenticates the provider, and a report only
    applies to messages sent through that channel (others are 404 `message_not_found`)."""
    found = state.links.read("reports", token, 2)
    if found is None:
        raise Unauthorized("unknown report URL", code="unauthorized")
    workspace_id, channel_id = found[0]
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        fields = {k: v[0] for k, v in (await _form(request)).items()}
        kind = TWILIO_STATUS.get(fields.get("MessageStatus", ""))
        error_code = fields.get("ErrorCode") or None
        if kind == "failed" and error_code in TWILIO_BOUNCES:
            kind = "bounced"  # unreachable, unknown or landline number: do not try again
        report = None  # an intermediate status (queued, sending, sent): nothing to record
        if kind is not None:
            report = ProviderReport(type=kind, provider_id=fields.get("MessageSid", ""), detail=error_code)
    else:
        try:
            report = ProviderReport.model_validate_json(await request.body())
        except ValueError as exc:
            raise InvalidInput(f"not a delivery report: {exc}", code="invalid_report") from None
    if report is None:
        return Response(status_code=204)
    now = state.now(workspace_id)
    with state.engine.begin() as conn:
        # only the messages this channel sent: a report URL is the key of one channel, and
        # must not settle (or bounce and suppress) messages of another
        q = select(message.c.id).where(
            message.c.workspace_id == workspace_id, message.c.channel_config_id == channel_id
        )
        if report.message_id is not None:
            q = q.where(message.c.id == report.message_id)
        elif report.provider_id:
            q = q.where(message.c.provider_id == report.provider_id)
        else:
            raise InvalidInput("give message_id or provider_id", code="invalid_report")
        mid = conn.execute(q).scalar()
        if mid is None:
            raise NotFound("no such message", code="message_not_found")
        tracking.provider_outcome(
            conn, mid, report.type, now, detail={"reason": report.detail} if report.detail else None
        )
    state.wake()
    return Response(status_code=204)


# --- in-app inbox ---------------------------------------------------------------------


def _inbox_contact(
    state: Any,
    authorization: str | None,
    user_id: str | None,
    anonymous_id: str | None,
    user_hash: str | None,
) -> tuple[Workspace, int]:
    ws = state.keys.resolve(basic_user(authorization), "write")
    if ws is None:
        raise Unauthorized("unknown or revoked write key", code="unauthorized")
    if (user_id is None) == (anonymous_id is None):
        raise InvalidInput("give exactly one of user_id, anonymous_id", code="invalid_contact")
    if user_id is not None and not identity.verified(state.keyring, ws.id, user_id, user_hash):
        raise Unauthorized(
            "a user_id needs its user_hash: HMAC-SHA256 of the user id with the workspace's identity "
            "secret, computed by your backend (GET /api/v1/inbox/identity-secret)",
            code="invalid_user_hash",
        )
    with reading(state.engine) as conn:
        cid = identity.inbox_owner(conn, ws.id, user_id=user_id, anonymous_id=anonymous_id)
    return ws, cid


@router.get("/inbox/v1/messages", tags=["public"])
def inbox(
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    user_hash: str | None = None,
    include_dismissed: bool = False,
) -> dict[str, Any]:
    """A contact's in-app messages, newest first (write key as Basic auth user name; a
    ``user_id`` with its ``user_hash``)."""
    ws, cid = _inbox_contact(state, authorization, user_id, anonymous_id, user_hash)
    q = select(inbox_message).where(inbox_message.c.workspace_id == ws.id, inbox_message.c.contact_id == cid)
    if not include_dismissed:
        q = q.where(inbox_message.c.dismissed_at.is_(None))
    with reading(state.engine) as conn:
        rows = [dict(r) for r in conn.execute(q.order_by(inbox_message.c.id.desc()).limit(200)).mappings()]
    for r in rows:
        r.pop("workspace_id")
        r["unread"] = r["read_at"] is None
    return {"data": rows, "unread": sum(1 for r in rows if r["unread"])}


@router.post("/inbox/v1/messages/{inbox_id}/{action}", tags=["public"], status_code=204)
def inbox_action(
    inbox_id: int,
    action: str,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    user_hash: str | None = None,
) -> Response:
    """`read` or `dismiss` one in-app message; idempotent. Reading records an open."""
    if action not in ("read", "dismiss"):
        raise NotFound(f"no action {action!r}: use read or dismiss", code="not_found")
    ws, cid = _inbox_contact(state, authorization, user_id, anonymous_id, user_hash)
    now = state.now(ws)
    column = "read_at" if action == "read" else "dismissed_at"
    with state.engine.begin() as conn:
        row = conn.execute(
            select(inbox_message).where(
                inbox_message.c.id == inbox_id,
                inbox_message.c.workspace_id == ws.id,
                inbox_message.c.contact_id == cid,
            )
        ).first()
        if row is None:
            raise NotFound(f"no inbox message {inbox_id}", code="inbox_message_not_found")
        if getattr(row, column) is None:
            conn.execute(update(inbox_message).where(inbox_message.c.id == inbox_id).values({column: now}))
            if action == "read":
                tracking.record(conn, [tracking.Outcome(row.message_id, "opened")], now)
    return Response(status_code=204)
