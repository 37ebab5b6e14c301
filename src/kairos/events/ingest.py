"""The ingest pipeline: validated messages → contacts resolved, profiles updated, events stored.

One call handles any number of messages inside the caller's transaction with a fixed number
of statements: duplicates are found with one query, identities are resolved in bulk, and
events, profile updates and the worker's change queue are written with executemany, and the
dashboard's events per day (``event_day_count``) with one upsert per day of the batch.
Nothing else runs on the request path; segments and journeys react in the worker.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, or_, select

from kairos.analytics.tables import event_day_count
from kairos.b2b.service import GroupCall, apply_group_calls
from kairos.clock import ensure_utc
from kairos.contacts.acquisition import Touch, message_touch, record_touches
from kairos.contacts.fields import ProfileChanges, coerce_traits, normalize_timezone
from kairos.contacts.identity import Claim, IdentityKey, lookup, resolve
from kairos.contacts.service import apply_profile_changes, mark_changed
from kairos.contacts.tables import contact
from kairos.db.dialect import (
    FastStatement,
    chunks,
    each_string,
    in_list,
    insert_on_conflict,
    list_param,
    time_converter,
)
from kairos.errors import InvalidInput
from kairos.events.messages import Message
from kairos.events.tables import event, event_message


@dataclass(slots=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    contacts: int = 0


def check_traits(messages: list[Message], types: dict[str, str]) -> None:
    """Coerce identify traits to their attribute types, in place; raise on the first misfit."""
    if not types:
        return
    for m in messages:
        if m.profile is not None and m.profile.traits:
            try:
                m.profile.traits = coerce_traits(m.profile.traits, types)
            except InvalidInput as exc:
                raise InvalidInput(f"{m.where}.traits: {exc.message}", code=exc.code) from None


def needs_trait_types(messages: list[Message]) -> bool:
    return any(m.profile is not None and m.profile.traits for m in messages)


def ingest(
    conn: Connection,
    workspace_id: int,
    messages: list[Message],
    now: datetime,
    *,
    record_events: bool = True,
    trusted: bool = False,
) -> IngestResult:
    """Ingest ``messages`` in the caller's transaction.

    Unless ``trusted`` (an operator's import), messages come from public clients — a browser
    holding the write key, a hosted form — that anyone can forge. Such a message without a
    ``userId`` that lands on an already identified contact (found by the email or phone it
    claims, or an anonymous id attached that way) only fills the profile's empty fields and
    absent traits: claiming somebody's address must not rewrite their profile
    (docs/security.md, "Public writes")."""
    result = IngestResult()
    fresh = _drop_duplicates(conn, workspace_id, messages) if record_events else messages
    result.duplicates = len(messages) - len(fresh)
    if not fresh:
        return result

    claims = _claims(conn, workspace_id, fresh)
    resolution = resolve(conn, workspace_id, claims, now)
    contact_ids = resolution.contact_ids

    guarded = set() if trusted else _identified(conn, fresh, contact_ids, resolution.created)
    changes: dict[int, ProfileChanges] = {}
    for m, cid in zip(fresh, contact_ids, strict=True):
        if m.profile is None:
            continue
        change = changes.setdefault(cid, ProfileChanges())
        change.update(m.profile.as_defaults() if m.user_id is None and cid in guarded else m.profile)
        if m.context:
            _context_defaults(change, m.context)
    apply_profile_changes(conn, changes, now, created=resolution.created)

    if record_events:
        _insert_events(conn, workspace_id, fresh, contact_ids)
    record_touches(conn, workspace_id, _touches(fresh, contact_ids), now)
    # group calls: the account (by its groupId) is upserted and the contact joins it
    groups = [
        GroupCall(cid, m.properties["groupId"], m.properties["traits"])
        for m, cid in zip(fresh, contact_ids, strict=True)
        if m.type == "group"
    ]
    apply_group_calls(conn, workspace_id, groups, now)
    # stamped with the first receipt so the worker finds these events as "received since"
    mark_changed(conn, workspace_id, contact_ids, min(now, *(m.received_at for m in fresh)))
    if record_events:  # last: on PostgreSQL the day's row stays locked until the commit
        count_events(conn, workspace_id, (m.timestamp for m in fresh))
    result.accepted = len(fresh)
    result.contacts = len(set(contact_ids))
    return result


def _identified(
    conn: Connection, messages: list[Message], contact_ids: list[int], created: set[int]
) -> set[int]:
    """Of the contacts that profile changes without a userId would touch, those identified
    before this batch: with a user id, an email or a phone."""
    candidates = {
        cid
        for m, cid in zip(messages, contact_ids, strict=True)
        if m.profile is not None and m.user_id is None and cid not in created
    }
    found: set[int] = set()
    for part in chunks(candidates):
        found.update(
            conn.execute(
                select(contact.c.id).where(
                    contact.c.id.in_(part),
                    or_(
                        contact.c.external_id.is_not(None),
                        contact.c.email.is_not(None),
                        contact.c.phone.is_not(None),
                    ),
                )
            ).scalars()
        )
    return found


def _stored_message_ids_pg() -> Any:
    # one probe of event_message's primary key (message_id, workspace_id) per id, whatever the
    # plan and the statistics: the inner query names no column another index could start with
    v = each_string("ids")
    stored = (
        select(event_message.c.workspace_id, event_message.c.message_id)
        .where(event_message.c.message_id == v.c.value)
        .offset(0)
        .lateral("e")
    )
    return select(stored.c.message_id).select_from(v).join(stored, stored.c.workspace_id == bindparam("ws"))


_STORED_MESSAGE_IDS = {
    "sqlite": select(event_message.c.message_id).where(
        event_message.c.workspace_id == bindparam("ws"), in_list(event_message.c.message_id, "ids", "sqlite")
    ),
    "postgresql": _stored_message_ids_pg(),
}


def _drop_duplicates(conn: Connection, workspace_id: int, messages: list[Message]) -> list[Message]:
    seen: set[str] = set()
    unique = []
    for m in messages:
        if m.message_id not in seen:
            seen.add(m.message_id)
            unique.append(m)
    dialect = conn.dialect.name
    existing = set(
        conn.execute(
            _STORED_MESSAGE_IDS[dialect], {"ws": workspace_id, "ids": list_param(seen, dialect)}
        ).scalars()
    )
    if not existing:
        return unique
    return [m for m in unique if m.message_id not in existing]


def _claims(conn: Connection, workspace_id: int, messages: list[Message]) -> list[Claim]:
    # alias(previousId): the previous id is an earlier userId if we know one, else an
    # anonymous id. Only alias calls pay for this look-up.
    previous_users: set[IdentityKey] = set()
    aliases = {("user_id", m.previous_id) for m in messages if m.previous_id is not None}
    if aliases:
        previous_users = set(lookup(conn, workspace_id, aliases)[0])  # type: ignore[arg-type]
    claims = []
    for m in messages:
        keys: list[IdentityKey] = []
        if m.user_id is not None:
            keys.append(("user_id", m.user_id))
        if m.profile is not None:
            for kind in ("email", "phone"):
                value = m.profile.fields.get(kind)
                if value:
                    keys.append((kind, value))
        if m.previous_id is not None:
            prev: IdentityKey = ("user_id", m.previous_id)
            keys.append(prev if prev in previous_users else ("anonymous_id", m.previous_id))
        if m.anonymous_id is not None:
            keys.append(("anonymous_id", m.anonymous_id))
        claims.append(Claim(keys=keys, user_id=m.user_id, force=m.previous_id is not None))
    return claims


def _touches(messages: list[Message], contact_ids: list[int]) -> dict[int, list[Touch]]:
    """The acquisition touches (page calls, form submissions) of the batch, by contact."""
    found: dict[int, list[Touch]] = {}
    for m, cid in zip(messages, contact_ids, strict=True):
        if m.type == "page" or m.type == "track":
            touch = message_touch(m.type, m.name, m.properties, m.context, m.timestamp)
            if touch is not None:
                found.setdefault(cid, []).append(touch)
    return found


def _context_defaults(change: ProfileChanges, context: dict[str, Any]) -> None:
    """Browsers report the device's time zone and locale; use them until the profile has its own."""
    tz = context.get("timezone")
    if isinstance(tz, str) and tz:
        with contextlib.suppress(InvalidInput):
            change.defaults.setdefault("timezone", normalize_timezone(tz))
    locale = context.get("locale")
    if isinstance(locale, str) and 0 < len(locale) <= 35:
        change.defaults.setdefault("locale", locale)


_EVENT_COLUMNS = (
    "workspace_id", "contact_id", "type", "name", "message_id", "user_id", "anonymous_id",
    "properties", "context", "integrations", "timestamp", "original_timestamp", "sent_at",
    "received_at",
)  # fmt: skip
_INSERT_EVENTS = FastStatement.insert(event, _EVENT_COLUMNS, copy=True)
_INSERT_MESSAGE_IDS = FastStatement.insert(
    event_message, ("message_id", "workspace_id", "timestamp"), copy=True
)


def _store(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Event rows (in ``_EVENT_COLUMNS`` order) and their message ids: a message id stored
    twice for a workspace fails the transaction, as the unique index did."""
    _INSERT_EVENTS.execute(conn, rows)
    _INSERT_MESSAGE_IDS.execute(conn, [(r[4], r[0], r[10]) for r in rows])


def _insert_events(
    conn: Connection, workspace_id: int, messages: list[Message], contact_ids: list[int]
) -> None:
    t = time_converter(conn)
    rows = []
    for m, cid in zip(messages, contact_ids, strict=True):
        properties, context, integrations = m.encode_json()
        rows.append(
            (
                workspace_id, cid, m.type, m.name, m.message_id, m.user_id, m.anonymous_id,
                properties, context, integrations, t(m.timestamp), t(m.original_timestamp),
                t(m.sent_at), t(m.received_at),
            )
        )  # fmt: skip
    _store(conn, rows)


@dataclass(slots=True)
class InternalEvent:
    """An event Kairos itself observed about a contact (an email opened, a link clicked,
    an unsubscribe), stored like any tracked event so segments and journeys can use it."""

    contact_id: int
    name: str
    properties: dict[str, Any]
    timestamp: datetime
    message_id: str  # unique per workspace; ``kairos-…`` so it never collides with SDK ids


def record_internal(conn: Connection, workspace_id: int, events: list[InternalEvent], now: datetime) -> None:
    if not events:
        return
    t = time_converter(conn)
    rows = [
        (
            workspace_id, e.contact_id, "track", e.name, e.message_id, None, None,
            orjson.dumps(e.properties).decode(), '{"library":{"name":"kairos"}}', None, t(e.timestamp),
            t(e.timestamp), None, t(now),
        )
        for e in events
    ]  # fmt: skip
    _store(conn, rows)
    mark_changed(conn, workspace_id, {e.contact_id for e in events}, now)
    count_events(conn, workspace_id, (e.timestamp for e in events))


def _count_days(conn: Connection) -> Any:
    ins = insert_on_conflict(conn, event_day_count).values(
        workspace_id=bindparam("workspace_id"), day=bindparam("day"), events=bindparam("events")
    )
    return ins.on_conflict_do_update(
        index_elements=[event_day_count.c.workspace_id, event_day_count.c.day],
        set_={"events": event_day_count.c.events + ins.excluded.events},
    )


_COUNT_DAYS = FastStatement(_count_days, ("workspace_id", "day", "events"))


def count_events(conn: Connection, workspace_id: int, timestamps: Iterable[datetime]) -> None:
    """Add events just inserted to ``event_day_count``, by the UTC day of their timestamp:
    one upsert per day, in the caller's transaction (so the counts commit or roll back with
    the events). Days go in ascending order, so two transactions upserting the same days
    lock their rows in the same order (PostgreSQL) and cannot deadlock on them."""
    per_day = Counter(ensure_utc(t).date() for t in timestamps)
    if not per_day:
        return
    as_text = conn.dialect.name == "sqlite"  # SQLAlchemy's Date is 'YYYY-MM-DD' text there

    def day(d: date) -> Any:
        return d.isoformat() if as_text else d

    _COUNT_DAYS.execute(conn, [(workspace_id, day(d), n) for d, n in sorted(per_day.items())])
