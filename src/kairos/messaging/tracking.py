"""Open and click tracking, unsubscribe links, and what happens to a message after it left.

Public links carry signed tokens (``kairos.crypto.Keyring``: ids + a 128-bit HMAC), never
anything a visitor could rewrite into another contact's link:

- ``/t/o/{token}``: the open pixel (token: message id);
- ``/t/c/{token}/{link}``: a click (token: the signed message id; link: the 128-bit hash of
  the URL). The redirect target is looked up in ``tracked_link`` of the message's workspace
  — written before the message was sent — so the server never redirects to a URL taken from
  the request, and a forged link part can only name a URL that workspace already sends;
- ``/u/{token}``: unsubscribe (RFC 8058 one-click POST, or a page with a button);
- ``/p/{token}``: the preference centre (token: workspace id + contact id);
- ``/p/confirm/{token}``: double opt-in confirmation (token: contact id + topic id).

Every outcome (delivered, opened, clicked, bounced, complained, unsubscribed) is written
twice: as a ``message_event`` for reports, and as an event on the contact (``Email
Opened``, ``Email Link Clicked`` … in Segment's naming), so segments and journeys read one
stream.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from kairos.crypto import Keyring
from kairos.db.dialect import chunks, insert_on_conflict
from kairos.events.ingest import InternalEvent, record_internal
from kairos.messaging.consent import channel_scope, set_consent, suppress, topic_scope
from kairos.messaging.outbox import NOT_THE_CONTACTS
from kairos.messaging.tables import message, message_event, tracked_link

PREFIX = {
    "email": "Email",
    "sms": "SMS",
    "push": "Push Notification",
    "wechat": "WeChat Message",
    "webhook": "Webhook",
    "inapp": "In-App Message",
}
VERB = {
    "sent": "Sent",
    "delivered": "Delivered",
    "opened": "Opened",
    "clicked": "Link Clicked",
    "bounced": "Bounced",
    "complained": "Marked as Spam",
    "failed": "Failed",
}
KINDS = (*VERB, "unsubscribed")

#: Opens this soon after sending are a security scanner or a mail client prefetching, not a
#: person; so are fetches by these agents (Apple Mail Privacy Protection fetches through
#: proxies that present as a bare Mozilla/5.0; Gmail's image proxy fetches on a real open).
MACHINE_WINDOW = timedelta(seconds=2)
_MACHINE_AGENTS = re.compile(
    r"(barracuda|mimecast|proofpoint|ppops|symantec|messagelabs|trendmicro|forcepoint|"
    r"bot|crawler|spider|curl|python-|go-http|java/|okhttp|linkpreview|slackbot|"
    r"yahoomailproxy|^mozilla/5\.0$)",
    re.IGNORECASE,
)


def event_name(channel: str, kind: str) -> str:
    return "Unsubscribed" if kind == "unsubscribed" else f"{PREFIX[channel]} {VERB[kind]}"


def is_machine(user_agent: str | None, sent_at: datetime | None, now: datetime) -> bool:
    if not user_agent or _MACHINE_AGENTS.search(user_agent.strip()):
        return True
    return sent_at is not None and now - sent_at < MACHINE_WINDOW


def url_hash(url: str) -> bytes:
    return hashlib.sha256(url.encode()).digest()[:16]


def link_part(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def read_link_part(text: str) -> bytes | None:
    try:
        digest = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None
    return digest if len(digest) == 16 else None


class Links:
    """Builds and reads the signed public links of one server (``base_url``)."""

    def __init__(self, keyring: Keyring, base_url: str) -> None:
        self.keyring = keyring
        self.base = base_url.rstrip("/")

    def open_url(self, message_id: int) -> str:
        return f"{self.base}/t/o/{self.keyring.sign('open', message_id)}.gif"

    def click_prefix(self, message_id: int) -> str:
        """The part of every click URL of one message before the link hash (signed once per
        message, not once per link: a newsletter has many links)."""
        return f"{self.base}/t/c/{self.keyring.sign('click', message_id)}/"

    def click_url(self, message_id: int, digest: bytes) -> str:
        return self.click_prefix(message_id) + link_part(digest)

    def unsubscribe_url(self, message_id: int) -> str:
        return f"{self.base}/u/{self.unsubscribe_token(message_id)}"

    def unsubscribe_token(self, message_id: int) -> str:
        return self.keyring.sign("unsubscribe", message_id)

    def preferences_url(self, workspace_id: int, contact_id: int) -> str:
        return f"{self.base}/p/{self.keyring.sign('preferences', workspace_id, contact_id)}"

    def confirm_url(self, contact_id: int, topic_id: int) -> str:
        return f"{self.base}/p/confirm/{self.keyring.sign('confirm', contact_id, topic_id)}"

    def report_url(self, workspace_id: int, channel_id: int) -> str:
        """Where a provider posts delivery reports for one channel configuration."""
        return f"{self.base}/hooks/reports/{self.keyring.sign('reports', workspace_id, channel_id)}"

    def read(
        self, purpose: str, token: str, count: int, extra_len: int = 0
    ) -> tuple[tuple[int, ...], bytes] | None:
        return self.keyring.verify(purpose, token.removesuffix(".gif"), count, extra_len)


def register_links(conn: Connection, workspace_id: int, urls: dict[bytes, str], now: datetime) -> None:
    """Store the URLs a batch of rendered messages links to (once each per workspace)."""
    if not urls:
        return
    rows = [
        {"workspace_id": workspace_id, "url_hash": h.hex(), "url": url, "created_at": now}
        for h, url in urls.items()
    ]
    for part in chunks(rows, 500):
        conn.execute(insert_on_conflict(conn, tracked_link).on_conflict_do_nothing(), list(part))


@dataclass(slots=True)
class Outcome:
    """Something that happened to a sent message, to be recorded."""

    message_id: int
    kind: str  # one of KINDS
    detail: dict[str, Any] | None = None
    link_id: int | None = None
    machine: bool = False


def record(conn: Connection, outcomes: list[Outcome], now: datetime) -> None:
    """Write message events and the matching contact events for these outcomes."""
    if not outcomes:
        return
    ids = {o.message_id for o in outcomes}
    info: dict[int, Any] = {}
    for part in chunks(ids):
        for row in conn.execute(
            select(
                message.c.id, message.c.workspace_id, message.c.contact_id, message.c.channel,
                message.c.template_id, message.c.source, message.c.source_id,
            ).where(message.c.id.in_(part))
        ):  # fmt: skip
            info[row.id] = row
    events: dict[int, list[InternalEvent]] = {}
    rows = []
    for o in outcomes:
        m = info.get(o.message_id)
        if m is None:
            continue
        rows.append(
            {
                "workspace_id": m.workspace_id, "message_id": m.id, "contact_id": m.contact_id,
                "kind": o.kind, "link_id": o.link_id, "machine": o.machine, "detail": o.detail,
                "created_at": now,
            }
        )  # fmt: skip
        properties: dict[str, Any] = {
            "message_id": m.id, "channel": m.channel, "template_id": m.template_id,
            "source": m.source, "source_id": m.source_id,
        }  # fmt: skip
        if o.machine:
            properties["machine"] = True
        if o.detail:
            properties.update({k: v for k, v in o.detail.items() if k in ("url", "reason", "error")})
        if m.source in NOT_THE_CONTACTS:
            continue  # to the sales owner, or a test: nothing of it is the contact's engagement
        events.setdefault(m.workspace_id, []).append(
            InternalEvent(
                contact_id=m.contact_id,
                name=event_name(m.channel, o.kind),
                properties=properties,
                timestamp=now,
                message_id=f"kairos-{o.kind}-{uuid.uuid4().hex}",
            )
        )
    if rows:
        conn.execute(insert(message_event), rows)
    for workspace_id, evs in events.items():
        record_internal(conn, workspace_id, evs, now)


def message_row(conn: Connection, message_id: int) -> Any:
    return conn.execute(select(message).where(message.c.id == message_id)).first()


def record_open(conn: Connection, message_id: int, now: datetime, user_agent: str | None) -> bool:
    m = message_row(conn, message_id)
    if m is None:
        return False
    record(conn, [Outcome(message_id, "opened", machine=is_machine(user_agent, m.sent_at, now))], now)
    return True


def record_click(
    conn: Connection, message_id: int, digest: bytes, now: datetime, user_agent: str | None
) -> str | None:
    """The target URL of a click (None if unknown), recording the click."""
    m = message_row(conn, message_id)
    if m is None:
        return None
    link = conn.execute(
        select(tracked_link.c.id, tracked_link.c.url).where(
            tracked_link.c.workspace_id == m.workspace_id, tracked_link.c.url_hash == digest.hex()
        )
    ).first()
    if link is None:
        return None
    machine = is_machine(user_agent, m.sent_at, now)
    record(conn, [Outcome(message_id, "clicked", {"url": link.url}, link_id=link.id, machine=machine)], now)
    return str(link.url)


def unsubscribe(
    conn: Connection,
    message_id: int,
    now: datetime,
    *,
    source: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> bool:
    """Unsubscribe the recipient of a message from its topic (or, without a topic, from all
    marketing on its channel). Idempotent: the second call changes and records nothing."""
    m = message_row(conn, message_id)
    if m is None or m.source in NOT_THE_CONTACTS:  # its recipient is not the contact
        return False
    scope = topic_scope(m.topic_id) if m.topic_id is not None else channel_scope(m.channel)
    changed = set_consent(
        conn, m.workspace_id, m.contact_id, scope, "unsubscribed", now,
        source=source, ip=ip, user_agent=user_agent, message_id=m.id,
    )  # fmt: skip
    if changed:
        record(conn, [Outcome(m.id, "unsubscribed", {"scope": scope})], now)
    return True


def provider_outcome(
    conn: Connection,
    message_id: int,
    kind: str,
    now: datetime,
    *,
    detail: dict[str, Any] | None = None,
) -> None:
    """A delivery report from a provider: delivered, bounced, complained or failed. Bounces
    and complaints suppress the address so nothing is sent to it again."""
    m = message_row(conn, message_id)
    if m is None:
        return
    status = {"delivered": "delivered", "bounced": "bounced", "failed": "failed"}.get(kind)
    if status is not None and not (status == "delivered" and m.status in ("bounced", "failed")):
        conn.execute(update(message).where(message.c.id == m.id).values(status=status, updated_at=now))
    if kind in ("bounced", "complained") and m.address:
        reason = "hard_bounce" if kind == "bounced" else "complaint"
        # the address is suppressed either way; it is the contact's only if it was sent to them
        owner = None if m.source in NOT_THE_CONTACTS else m.contact_id
        suppress(conn, m.workspace_id, m.channel, m.address, reason, now, contact_id=owner)
    if kind == "complained":
        unsubscribe(conn, m.id, now, source="complaint")
    record(conn, [Outcome(m.id, kind, detail)], now)
