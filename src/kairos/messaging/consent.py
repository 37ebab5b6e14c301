"""Consent: subscription topics, each contact's current consent, the ledger, suppression.

Consent is kept per *scope*: ``topic:<id>`` for a subscription topic, ``channel:<kind>`` for
"all marketing on this channel" (what a one-click unsubscribe from a message without a topic
records). A marketing message may go out only when neither its channel nor its topic is
unsubscribed and, for an opt-in topic, the contact is subscribed (a pending double opt-in
does not count). Transactional messages skip consent but never suppression: a hard-bounced
or erased address receives nothing.

Every change goes to the ledger (``consent_event``) with its source, the wording version the
contact saw and the IP. All of it is read at send time by the dispatcher, so an unsubscribe
stops messages already queued.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Text, any_, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql

from kairos.contacts.tables import contact
from kairos.db.dialect import chunks, in_ids, insert_on_conflict
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.messaging.channels.base import CHANNEL_KINDS
from kairos.messaging.tables import consent_event, subscription, subscription_topic, suppression, template
from kairos.workspaces.references import require_owned

Status = Literal["subscribed", "unsubscribed", "pending"]
STATUSES = ("subscribed", "unsubscribed", "pending")
SUPPRESSION_REASONS = ("hard_bounce", "complaint", "manual", "erasure")


def topic_scope(topic_id: int) -> str:
    return f"topic:{topic_id}"


def channel_scope(channel: str) -> str:
    return f"channel:{channel}"


# --- topics -------------------------------------------------------------------------


def _check_channel(channel: str | None) -> None:
    if channel is not None and channel not in CHANNEL_KINDS:
        raise InvalidInput(
            f"channel must be one of {', '.join(CHANNEL_KINDS)}, not {channel!r}", code="unknown_channel"
        )


def create_topic(
    conn: Connection,
    workspace_id: int,
    now: datetime,
    *,
    key: str,
    name: str,
    description: str | None = None,
    channel: str | None = None,
    opt_in: bool = False,
    double_opt_in: bool = False,
    confirmation_template_id: int | None = None,
) -> dict[str, Any]:
    _check_channel(channel)
    if double_opt_in and not opt_in:
        raise InvalidInput("double_opt_in needs opt_in: true", code="invalid_topic")
    _check_confirmation_template(conn, workspace_id, confirmation_template_id)
    if conn.execute(
        select(subscription_topic.c.id).where(
            subscription_topic.c.workspace_id == workspace_id, subscription_topic.c.key == key
        )
    ).first():
        raise Conflict(f"a topic with key {key!r} exists", code="topic_exists")
    topic_id = conn.execute(
        insert(subscription_topic)
        .values(
            workspace_id=workspace_id, key=key, name=name, description=description, channel=channel,
            opt_in=opt_in, double_opt_in=double_opt_in,
            confirmation_template_id=confirmation_template_id, created_at=now,
        )
        .returning(subscription_topic.c.id)
    ).scalar_one()  # fmt: skip
    return get_topic(conn, workspace_id, topic_id)


def _check_confirmation_template(conn: Connection, workspace_id: int, template_id: int | None) -> None:
    require_owned(
        conn, template, workspace_id, template_id,
        field="confirmation_template_id", what="template", code="unknown_template",
    )  # fmt: skip


def update_topic(
    conn: Connection, workspace_id: int, topic_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    current = get_topic(conn, workspace_id, topic_id)
    merged = {**current, **changes}
    _check_channel(merged["channel"])
    if merged["double_opt_in"] and not merged["opt_in"]:
        raise InvalidInput("double_opt_in needs opt_in: true", code="invalid_topic")
    _check_confirmation_template(conn, workspace_id, changes.get("confirmation_template_id"))
    if changes:
        conn.execute(update(subscription_topic).where(subscription_topic.c.id == topic_id).values(**changes))
    return get_topic(conn, workspace_id, topic_id)


def get_topic(conn: Connection, workspace_id: int, topic_id: int) -> dict[str, Any]:
    row = (
        conn.execute(
            select(subscription_topic).where(
                subscription_topic.c.workspace_id == workspace_id, subscription_topic.c.id == topic_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no subscription topic {topic_id}", code="topic_not_found")
    return dict(row)


def list_topics(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(subscription_topic)
        .where(subscription_topic.c.workspace_id == workspace_id)
        .order_by(subscription_topic.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def delete_topic(conn: Connection, workspace_id: int, topic_id: int) -> None:
    get_topic(conn, workspace_id, topic_id)
    conn.execute(delete(subscription).where(subscription.c.scope == topic_scope(topic_id)))
    conn.execute(delete(subscription_topic).where(subscription_topic.c.id == topic_id))


# --- consent ------------------------------------------------------------------------


def parse_scope(conn: Connection, workspace_id: int, scope: str) -> tuple[str, dict[str, Any] | None]:
    """Check a ``topic:<id>`` / ``channel:<kind>`` scope; returns it with the topic row."""
    kind, _, value = scope.partition(":")
    if kind == "channel":
        _check_channel(value)
        return scope, None
    if kind == "topic" and value.isdigit():
        return scope, get_topic(conn, workspace_id, int(value))
    raise InvalidInput(f"scope must be topic:<id> or channel:<kind>, not {scope!r}", code="invalid_scope")


def set_consent(
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    scope: str,
    status: str,
    now: datetime,
    *,
    source: str,
    wording_version: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    message_id: int | None = None,
) -> bool:
    """Record a consent change; returns False when the status was already that (idempotent:
    repeated unsubscribes do not fill the ledger)."""
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", code="invalid_status")
    current = conn.execute(
        select(subscription.c.status).where(
            subscription.c.contact_id == contact_id, subscription.c.scope == scope
        )
    ).scalar()
    if current == status:
        return False
    stmt = insert_on_conflict(conn, subscription).values(
        contact_id=contact_id, scope=scope, workspace_id=workspace_id, status=status, updated_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["contact_id", "scope"], set_={"status": status, "updated_at": now}
        )
    )
    conn.execute(
        insert(consent_event).values(
            workspace_id=workspace_id, contact_id=contact_id, scope=scope, status=status, source=source,
            wording_version=wording_version, ip=ip, user_agent=user_agent, message_id=message_id,
            created_at=now,
        )
    )  # fmt: skip
    # consent is part of the profile: segments on it re-evaluate (contacts/changes.py)
    from kairos.contacts.service import mark_changed  # here: contacts imports messaging

    conn.execute(update(contact).where(contact.c.id == contact_id).values(updated_at=now))
    mark_changed(conn, workspace_id, [contact_id], now)
    return True


def consents_of(conn: Connection, contact_id: int) -> dict[str, str]:
    rows = conn.execute(
        select(subscription.c.scope, subscription.c.status).where(subscription.c.contact_id == contact_id)
    )
    return {scope: status for scope, status in rows}


def ledger(conn: Connection, workspace_id: int, contact_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(consent_event)
        .where(consent_event.c.workspace_id == workspace_id, consent_event.c.contact_id == contact_id)
        .order_by(consent_event.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def contact_preferences(conn: Connection, workspace_id: int, contact_id: int) -> list[dict[str, Any]]:
    """Every topic with this contact's effective status (what the preference centre shows)."""
    consents = consents_of(conn, contact_id)
    out = []
    for topic in list_topics(conn, workspace_id):
        status = consents.get(topic_scope(topic["id"]))
        if status is None:
            status = "unsubscribed" if topic["opt_in"] else "subscribed"
        out.append({"topic": topic, "status": status})
    return out


def blocked_by_consent(conn: Connection, items: Sequence[tuple[int, str, int | None]]) -> dict[int, str]:
    """For marketing messages given as (contact_id, channel, topic_id): which contacts may not
    receive them, as {index: reason}. Two queries for any number of messages."""
    contacts = {c for c, _, _ in items}
    topic_ids = {t for _, _, t in items if t is not None}
    opt_in: set[int] = set()
    if topic_ids:
        opt_in = set(
            conn.execute(
                select(subscription_topic.c.id).where(
                    subscription_topic.c.id.in_(topic_ids), subscription_topic.c.opt_in.is_(True)
                )
            ).scalars()
        )
    status: dict[tuple[int, str], str] = {}
    for part in chunks(contacts):
        for cid, scope, st in conn.execute(
            select(subscription.c.contact_id, subscription.c.scope, subscription.c.status).where(
                in_ids(subscription.c.contact_id, part, conn.dialect.name)
            )
        ):
            status[(cid, scope)] = st
    blocked: dict[int, str] = {}
    for i, (cid, channel, topic_id) in enumerate(items):
        if status.get((cid, channel_scope(channel))) == "unsubscribed":
            blocked[i] = "unsubscribed"
        elif topic_id is not None:
            st = status.get((cid, topic_scope(topic_id)))
            if st == "unsubscribed":
                blocked[i] = "unsubscribed"
            elif topic_id in opt_in and st != "subscribed":
                blocked[i] = "pending_opt_in" if st == "pending" else "not_opted_in"
    return blocked


# --- suppression ----------------------------------------------------------------------


def normalize_address(channel: str, address: str) -> str:
    return address.strip().lower() if channel == "email" else address.strip()


def suppress(
    conn: Connection,
    workspace_id: int,
    channel: str,
    address: str,
    reason: str,
    now: datetime,
    *,
    detail: str | None = None,
    contact_id: int | None = None,
) -> None:
    _check_channel(channel)
    if reason not in SUPPRESSION_REASONS:
        raise InvalidInput(
            f"reason must be one of {', '.join(SUPPRESSION_REASONS)}", code="invalid_suppression_reason"
        )
    if not address.strip():
        raise InvalidInput("address must not be empty", code="invalid_address")
    stmt = insert_on_conflict(conn, suppression).values(
        workspace_id=workspace_id, channel=channel, address=normalize_address(channel, address),
        reason=reason, detail=detail, contact_id=contact_id, created_at=now,
    )  # fmt: skip
    conn.execute(stmt.on_conflict_do_nothing())


def unsuppress(conn: Connection, workspace_id: int, channel: str, address: str) -> None:
    result = conn.execute(
        delete(suppression).where(
            suppression.c.workspace_id == workspace_id,
            suppression.c.channel == channel,
            suppression.c.address.in_(
                [normalize_address(channel, address), suppression_hash(channel, address)]
            ),
        )
    )
    if result.rowcount == 0:
        raise NotFound(f"{address!r} is not suppressed on {channel}", code="suppression_not_found")


def list_suppressions(
    conn: Connection, workspace_id: int, *, channel: str | None, after: tuple[str, str] | None, limit: int
) -> list[dict[str, Any]]:
    q = select(suppression).where(suppression.c.workspace_id == workspace_id)
    if channel is not None:
        q = q.where(suppression.c.channel == channel)
    if after is not None:
        q = q.where(tuple_(suppression.c.channel, suppression.c.address) > tuple_(*after))
    q = q.order_by(suppression.c.channel, suppression.c.address).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def suppressed(conn: Connection, workspace_id: int, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (channel, normalised address) pairs are suppressed."""
    by_channel: dict[str, set[str]] = {}
    for channel, address in pairs:
        by_channel.setdefault(channel, set()).add(address)
    found: set[tuple[str, str]] = set()
    for channel, addresses in by_channel.items():
        # an erased person's suppressions are kept as hashes (contacts/erasure.py)
        hashed = {suppression_hash(channel, a): a for a in addresses}
        for part in chunks([*addresses, *hashed]):
            found.update(
                (channel, hashed.get(a, a))
                for a in conn.execute(
                    select(suppression.c.address).where(
                        suppression.c.workspace_id == workspace_id,
                        suppression.c.channel == channel,
                        _among(conn, suppression.c.address, part),
                    )
                ).scalars()
            )
    return found


def _among(conn: Connection, column: Any, values: Sequence[str]) -> Any:
    """``column IN values``; on PostgreSQL one text array (``= ANY``), so the dispatcher's
    lookup of a batch's addresses is one short statement psycopg prepares once, not a
    thousand parameters rendered and parsed on every pass."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(Text)))
    return column.in_(values)


def suppression_hash(channel: str, address: str) -> str:
    """What a suppression keeps of an erased person's address: enough to recognise it, not
    to read it."""
    digest = hashlib.sha256(f"{channel}:{normalize_address(channel, address)}".encode()).hexdigest()
    return f"sha256:{digest}"


#: Sent when a topic asks for double opt-in and has no confirmation template of its own.
DEFAULT_CONFIRMATION = {
    "subject": "Please confirm your subscription",
    "format": "html",
    "body": (
        "<html><body><p>Hello {{ contact.first_name | default: '' }},</p>"
        "<p>Please confirm that you want to receive {{ payload.topic_name }}:</p>"
        '<p><a href="{{ links.confirm_url }}" data-kairos-notrack>Yes, subscribe me</a></p>'
        "<p>If you did not ask for this, ignore this email.</p></body></html>"
    ),
}


def subscribe(
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    topic: dict[str, Any],
    now: datetime,
    *,
    source: str,
    confirmed: bool = False,
    wording_version: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """Subscribe a contact to a topic; a double opt-in topic first records ``pending`` and
    queues the confirmation email (its link calls this again with ``confirmed=True``).
    Returns the resulting status."""
    from kairos.messaging.outbox import NewMessage, enqueue

    scope = topic_scope(topic["id"])
    if topic["double_opt_in"] and not confirmed:
        if consents_of(conn, contact_id).get(scope) == "subscribed":
            return "subscribed"
        set_consent(
            conn, workspace_id, contact_id, scope, "pending", now, source=source,
            wording_version=wording_version, ip=ip, user_agent=user_agent,
        )  # fmt: skip
        data: dict[str, Any] = {"confirm_topic_id": topic["id"], "payload": {"topic_name": topic["name"]}}
        if topic["confirmation_template_id"] is None:
            data["content"] = DEFAULT_CONFIRMATION
        enqueue(
            conn,
            workspace_id,
            [
                NewMessage(
                    contact_id=contact_id, channel="email", source="double_opt_in", transactional=True,
                    idempotency_key=f"double-opt-in:{topic['id']}:{contact_id}:{int(now.timestamp())}",
                    template_id=topic["confirmation_template_id"], data=data, source_id=str(topic["id"]),
                )
            ],
            now,
        )  # fmt: skip
        return "pending"
    set_consent(
        conn, workspace_id, contact_id, scope, "subscribed", now, source=source,
        wording_version=wording_version, ip=ip, user_agent=user_agent,
    )  # fmt: skip
    return "subscribed"
