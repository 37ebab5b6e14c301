"""The outbox: every message is a row before anything is sent.

Status lifecycle::

    queued ──claim──▶ sending ──provider accepted──▶ sent ──▶ delivered
       ▲                 │                             └────▶ bounced (async bounce, complaint)
       └──retry/defer────┤
                         ├──permanent failure──▶ failed
                         └──recipient refused──▶ bounced (address suppressed)
    queued ──policy──▶ skipped (reason: unsubscribed, suppressed, frequency_cap, no_address, …)

- Each row has a unique ``idempotency_key`` per workspace: the same journey step, broadcast
  recipient or API request can never create a second message.
- A row is marked ``sending`` in a committed transaction *before* it is handed to the
  provider. If the process dies there, the row stays ``sending`` until its lease
  (``LEASE``) runs out and is then sent again — so a crash can duplicate only the messages
  in flight at that instant, and never loses one.
- Transient failures go back to ``queued`` with exponential backoff and jitter (or the
  provider's ``Retry-After``); after ``MAX_ATTEMPTS`` the message fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, text

from kairos.clock import ensure_utc
from kairos.contacts.tables import contact
from kairos.db.dialect import (
    FastStatement,
    allocate_ids,
    chunks,
    in_ids,
    in_list,
    insert_on_conflict,
    json_converter,
    list_param,
    time_converter,
)
from kairos.errors import InvalidInput, NotFound
from kairos.messaging.channels.base import CHANNEL_KINDS
from kairos.messaging.tables import channel_config, message, message_event, subscription_topic, template

QUEUED, SENDING, SENT, DELIVERED = "queued", "sending", "sent", "delivered"
FAILED, BOUNCED, SKIPPED = "failed", "bounced", "skipped"
STATUSES = (QUEUED, SENDING, SENT, DELIVERED, FAILED, BOUNCED, SKIPPED)

#: How long a claimed message may stay ``sending`` before another pass takes it again.
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
SOURCES = ("api", "journey", "broadcast", "test", "double_opt_in", "notify_sales")
#: Internal messages, about a contact but sent to someone else (a journey's ``notify_sales``
#: email to the sales owner, its CRM webhook): rendered without the contact's consent links
#: or tracking, and nothing that happens to them is recorded on the contact.
INTERNAL_SOURCES = frozenset({"notify_sales"})
#: Messages whose recipient's actions are not the contact's: internal ones, and test sends
#: (a marketer checking a template, often at their own address with a customer's data). They
#: render as usual, links included, but opening, clicking or unsubscribing through them
#: changes nothing of the contact's.
NOT_THE_CONTACTS = INTERNAL_SOURCES | {"test"}


@dataclass(slots=True)
class NewMessage:
    contact_id: int
    channel: str
    idempotency_key: str
    source: str
    template_id: int | None = None
    topic_id: int | None = None
    transactional: bool = False
    source_id: str | None = None
    #: template variables (``payload``, ``event``), inline ``content``, an address override ``to``
    data: dict[str, Any] | None = None
    send_at: datetime | None = None
    channel_config_id: int | None = None
    #: the experiment variant (a broadcast's) the message belongs to, for reports by variant
    variant: str | None = None


def backoff(attempts: int, jitter: float) -> timedelta:
    """Delay before attempt ``attempts + 1``: 30 s, 1 min, 2 min … capped at 6 h, ±20 %
    jitter (``jitter`` in [0, 1)) so a burst of failures does not retry in lockstep."""
    delay: timedelta = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)
    return timedelta(seconds=delay.total_seconds() * (0.8 + 0.4 * jitter))


def enqueue(
    conn: Connection,
    workspace_id: int,
    items: list[NewMessage],
    now: datetime,
    *,
    contacts_known: bool = False,
) -> list[int]:
    """Insert the messages (those whose key exists are left alone) and return the id of the
    row holding each key, new or old, in order.

    ``contacts_known``: the caller read every ``contact_id`` in this transaction from a row of
    this workspace that references the contact (the journey engine: the claimed enrollment's
    foreign key), so the count of the workspace's contacts among them is skipped (a query
    per 1,000 contacts, the largest of the checks in B5's send steps). Nothing is lost by skipping it:
    the foreign key on ``message.contact_id`` still refuses a contact deleted since (the
    insert fails and the pass with it, as the check would have made it), erasing a contact
    deletes its messages, and consent and suppression are applied when the message is sent.
    """
    if not items:
        return []
    _check(conn, workspace_id, items, contacts_known)
    if conn.dialect.name == "postgresql":
        ids = _insert_pg(conn, workspace_id, items, now)
    else:
        ids = _insert_sqlite(conn, workspace_id, items, now)
    missing = [m.idempotency_key for m in items if m.idempotency_key not in ids]
    if missing:  # keys that existed (or came twice)
        dialect = conn.dialect.name
        found = select(message.c.idempotency_key, message.c.id).where(
            message.c.workspace_id == workspace_id, in_list(message.c.idempotency_key, "keys", dialect)
        )
        ids.update((key, mid) for key, mid in conn.execute(found, {"keys": list_param(missing, dialect)}))
    return [ids[m.idempotency_key] for m in items]


def _data_json(conn: Connection, items: list[NewMessage]) -> dict[int, str | None]:
    """Each distinct ``data`` object as JSON, by ``id()``: callers share one dict among many
    messages (a journey's group, a broadcast), and it is dumped once."""
    j = json_converter(conn)
    return {id(d): j(d) for d in {id(m.data): m.data for m in items}.values()}


def _insert_sqlite(
    conn: Connection, workspace_id: int, items: list[NewMessage], now: datetime
) -> dict[str, int]:
    """Straight to the driver (SQLAlchemy's per-row processing cost more than the insert), with
    ids reserved first: the transaction holds SQLite's write lock (``BEGIN IMMEDIATE``), so
    when every row went in, the reserved ids are theirs — no lookup by key. When some key
    existed (or came twice) nothing is known and every key is looked up."""
    t = time_converter(conn)
    stamp = t(now)
    data = _data_json(conn, items)
    new_ids = allocate_ids(conn, message, len(items))
    _INSERT.execute(conn, [
        (mid, workspace_id, m.contact_id, m.channel, m.channel_config_id, m.template_id, m.topic_id,
         m.transactional, m.idempotency_key, m.source, m.source_id, data[id(m.data)], QUEUED, 0,
         stamp if m.send_at is None else t(m.send_at), stamp, stamp, m.variant)
        for mid, m in zip(new_ids, items, strict=True)
    ])  # fmt: skip
    inserted = conn.execute(
        select(func.count()).where(message.c.id.between(new_ids[0], new_ids[-1]))
    ).scalar_one()
    if inserted != len(items):
        return {}
    return {m.idempotency_key: mid for mid, m in zip(new_ids, items, strict=True)}


def _insert_pg(conn: Connection, workspace_id: int, items: list[NewMessage], now: datetime) -> dict[str, int]:
    """One ``INSERT … SELECT FROM unnest(one array per column) ON CONFLICT DO NOTHING
    RETURNING`` per 5,000 messages: new rows report their ids, keys that existed are looked up
    by the caller. SQLAlchemy's multi-row ``VALUES`` (500 rows, 8,000 parameters) was longer
    than psycopg's statement cache takes, so each was parsed again on the client (B5), and
    an ``IN`` list of keys got a generic plan that scanned the workspace's messages."""
    data = _data_json(conn, items)
    now = ensure_utc(now)
    ids: dict[str, int] = {}
    for part in chunks(items, 5_000):
        columns = list(zip(*(
            (m.contact_id, m.channel, m.channel_config_id, m.template_id, m.topic_id, m.transactional,
             m.idempotency_key, m.source, m.source_id, data[id(m.data)],
             now if m.send_at is None else ensure_utc(m.send_at), m.variant)
            for m in part
        ), strict=True))  # fmt: skip
        params: dict[str, Any] = {f"c{i}": list(values) for i, values in enumerate(columns)}
        params.update(workspace_id=workspace_id, status=QUEUED, now=now)
        ids.update((key, mid) for key, mid in conn.execute(_INSERT_ARRAYS, params))
    return ids


_INSERT_COLUMNS = (
    "id", "workspace_id", "contact_id", "channel", "channel_config_id", "template_id", "topic_id",
    "transactional", "idempotency_key", "source", "source_id", "data", "status", "attempts",
    "next_attempt_at", "created_at", "updated_at", "variant",
)  # fmt: skip
_INSERT = FastStatement(
    lambda conn: (
        insert_on_conflict(conn, message)
        .values({c: bindparam(c) for c in _INSERT_COLUMNS})
        .on_conflict_do_nothing()
    ),
    _INSERT_COLUMNS,
)
#: PostgreSQL: (column, array type) of what differs per message, in ``_insert_pg``'s order
_ARRAYS = (
    ("contact_id", "BIGINT"), ("channel", "TEXT"), ("channel_config_id", "BIGINT"),
    ("template_id", "BIGINT"), ("topic_id", "BIGINT"), ("transactional", "BOOLEAN"),
    ("idempotency_key", "TEXT"), ("source", "TEXT"), ("source_id", "TEXT"), ("data", "TEXT"),
    ("next_attempt_at", "TIMESTAMPTZ"), ("variant", "TEXT"),
)  # fmt: skip
_INSERT_ARRAYS = text(
    "INSERT INTO message (workspace_id, status, attempts, created_at, updated_at, "
    + ", ".join(name for name, _ in _ARRAYS)
    + ") SELECT :workspace_id, :status, 0, :now, :now, "
    + ", ".join(f"CAST(c{i} AS JSONB)" if name == "data" else f"c{i}" for i, (name, _) in enumerate(_ARRAYS))
    + " FROM unnest("
    + ", ".join(f"CAST(:c{i} AS {kind}[])" for i, (_, kind) in enumerate(_ARRAYS))
    + ") AS s("
    + ", ".join(f"c{i}" for i in range(len(_ARRAYS)))
    + ") ON CONFLICT DO NOTHING RETURNING idempotency_key, id"
)


#: what a message refers to: (its place in ``_check``'s shapes, the referenced row's channel
#: column, its name, the error codes when it is not the workspace's and when it is for another
#: channel, and how that channel is said)
_REFERENCES = (
    (2, template.c.channel, "template", "template_not_found", "template_channel_mismatch", "{}"),
    (3, channel_config.c.kind, "channel", "channel_not_found", "channel_kind_mismatch", "{}"),
    (4, subscription_topic.c.channel, "subscription topic", "topic_not_found",
     "topic_channel_mismatch", "{} messages"),
)  # fmt: skip


def _check(conn: Connection, workspace_id: int, items: list[NewMessage], contacts_known: bool) -> None:
    """Refuse the batch (nothing written) if a message is malformed, names another workspace's
    (or no) template, channel, topic or — unless ``contacts_known`` — contact, or a reference
    for another channel. A batch has few distinct shapes (channel, source, references: one
    for a journey's group or a broadcast), each checked once, in the order they first come."""
    for m in items:
        if not m.idempotency_key or len(m.idempotency_key) > 255:
            raise InvalidInput("idempotency_key must be 1 to 255 characters", code="invalid_idempotency_key")
    shapes = dict.fromkeys(
        (m.channel, m.source, m.template_id, m.channel_config_id, m.topic_id) for m in items
    )
    for channel, source, *_ in shapes:
        if channel not in CHANNEL_KINDS:
            raise InvalidInput(f"unknown channel {channel!r}", code="unknown_channel")
        if source not in SOURCES:
            raise InvalidInput(f"unknown source {source!r}", code="invalid_source")
    for at, kind_of, what, missing, mismatch, phrase in _REFERENCES:
        pairs = dict.fromkeys((shape[at], shape[0]) for shape in shapes if shape[at] is not None)
        if not pairs:
            continue
        table = kind_of.table
        kinds = dict(
            conn.execute(
                select(table.c.id, kind_of).where(
                    table.c.workspace_id == workspace_id, table.c.id.in_({ref for ref, _ in pairs})
                )
            ).all()
        )
        for ref, channel in pairs:
            if ref not in kinds:  # unknown, or another workspace's: the same answer
                raise NotFound(f"no {what} {ref}", code=missing)
            if kinds[ref] not in (None, channel):  # (a topic without a channel fits any)
                name = what.rsplit(" ", 1)[-1]
                raise InvalidInput(
                    f"{name} {ref} is for {phrase.format(kinds[ref])}, not {channel}", code=mismatch
                )
    if contacts_known:
        return
    contact_ids = {m.contact_id for m in items}
    dialect = conn.dialect.name
    live = conn.execute(
        select(func.count()).where(
            contact.c.workspace_id == workspace_id, in_ids(contact.c.id, contact_ids, dialect)
        )
    ).scalar_one()
    if live != len(contact_ids):
        raise NotFound("a message names a contact that does not exist", code="contact_not_found")


def due_condition(now: datetime) -> Any:
    """Queued and due, or claimed so long ago that its sender must have died."""
    return or_(
        and_(message.c.status == QUEUED, message.c.next_attempt_at <= now),
        and_(message.c.status == SENDING, message.c.claimed_at <= now - LEASE),
    )


#: what a claim reads of a message (not its bookkeeping: key, status, error, timestamps)
CLAIM_COLUMNS = (
    "id", "workspace_id", "contact_id", "channel", "channel_config_id", "template_id", "topic_id",
    "transactional", "source", "data", "attempts", "next_attempt_at",
)  # fmt: skip


def lock_due(conn: Connection, now: datetime, where: Any, limit: int) -> list[Any]:
    """Up to ``limit`` due rows (their ``CLAIM_COLUMNS``; ``where``: the caller's extra
    condition), oldest due first, ties by id, locked for this transaction.

    SQLite: one statement; the write lock is the claim, and ``ix_message_due`` (status,
    next_attempt_at, and the rowid every SQLite index ends with) gives the order.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several dispatchers share the queue and never
    take the same row. The two branches of ``due_condition`` are two index range scans on
    ``ix_message_due``: an ``OR`` of them made PostgreSQL read and sort every due row per
    claim (130 ms for 500 of 100,000 queued), and ``id`` as a tie-break in SQL, which that
    index does not hold, forces the same sort. So rows whose lease ran out come first (few),
    then queued rows in index order (``next_attempt_at``, ties in index order), locked as they
    are read; the batch is then sorted by (``next_attempt_at``, ``id``)."""
    m = message.c
    cols = [m[name] for name in CLAIM_COLUMNS]
    if conn.dialect.name != "postgresql":
        q = select(*cols).where(due_condition(now), where).order_by(m.next_attempt_at, m.id).limit(limit)
        return list(conn.execute(q).mappings())
    expired = (
        select(*cols)
        .where(m.status == SENDING, m.claimed_at <= now - LEASE, where)
        .order_by(m.next_attempt_at, m.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(conn.execute(expired).mappings())
    if len(rows) < limit:
        queued = (
            select(*cols)
            .where(m.status == QUEUED, m.next_attempt_at <= now, where)
            .order_by(m.next_attempt_at)
            .limit(limit - len(rows))
            .with_for_update(skip_locked=True)
        )
        rows.extend(conn.execute(queued).mappings())
    rows.sort(key=lambda r: (r["next_attempt_at"], r["id"]))
    return rows


def get_message(conn: Connection, workspace_id: int, message_id: int) -> dict[str, Any]:
    row = (
        conn.execute(
            select(message).where(message.c.workspace_id == workspace_id, message.c.id == message_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no message {message_id}", code="message_not_found")
    out = dict(row)
    out["events"] = [
        dict(r)
        for r in conn.execute(
            select(message_event.c.kind, message_event.c.link_id, message_event.c.machine,
                   message_event.c.detail, message_event.c.created_at)
            .where(message_event.c.message_id == message_id)
            .order_by(message_event.c.id)
        ).mappings()
    ]  # fmt: skip
    return out


def list_messages(
    conn: Connection,
    workspace_id: int,
    *,
    contact_id: int | None,
    status: str | None,
    after: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    q = select(message).where(message.c.workspace_id == workspace_id)
    if contact_id is not None:
        q = q.where(message.c.contact_id == contact_id)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", code="invalid_status")
        q = q.where(message.c.status == status)
    if after is not None:
        q = q.where(message.c.id < after)
    q = q.order_by(message.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]
