"""The ingest log: ``/v1`` answers once the accepted messages are stored; a processor turns
them into contacts, profiles and events right after, in large groups.

The HTTP path validates a request completely (a bad one gets its ``400`` and writes nothing),
appends its messages as one ``ingest_log`` row and answers when that row is committed
(``events/writer.py`` gathers concurrent requests into one commit). Identity resolution,
duplicate ``messageId``s, profile changes, event rows and the worker's change queue are
the processor's work (``events/ingest.ingest``), done here for many requests at once, where
the pipeline costs a fraction of what it costs per request.

Guarantees:

- **Nothing accepted is lost.** A group of rows is processed and deleted in one
  transaction: a crash before the commit leaves every row for the next drain (at start-up,
  by the worker's pass, or by another process); after it, every row is done exactly once.
- **Order.** Rows are processed in id order, one drainer at a time (SQLite's write lock; a
  transaction-scoped advisory lock on PostgreSQL), so a client that waits for each answer
  before sending the next request sees its messages applied in that order.
- **Duplicates** by ``messageId`` are dropped when processed, as before.
- **A row that fails on its own** (a bug, data the database refuses) is kept with its
  ``error`` and skipped, never dropped; the rest of its group is processed without it.
  ``kairos ingest failed`` lists such rows and ``kairos ingest replay`` processes them again.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from kairos.clock import Clock
from kairos.contacts.fields import ProfileChanges
from kairos.db.dialect import FastStatement, in_ids, time_converter
from kairos.db.engine import reading
from kairos.db.faults import classify, reason
from kairos.events.ingest import ingest
from kairos.events.messages import Message
from kairos.events.tables import ingest_log

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: the PostgreSQL advisory lock key of the drainer ("kairos ingest log")
_LOCK_KEY = 0x4B4149524F53_01
#: transient conflicts of one group retried this many times before the group is split
RETRIES = 5

_APPEND = FastStatement.insert(
    ingest_log, ["workspace_id", "received_at", "virtual_now", "count", "token", "messages"]
)


def _micros(value: datetime | None) -> int | None:
    if value is None:
        return None
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _instant(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def encode_messages(messages: Sequence[Message]) -> str:
    """Validated messages → the log's JSON text. Properties, context and integrations go in
    as the JSON text ``Message.encode_json`` already made (the event row needs it anyway)."""
    records = []
    for m in messages:
        properties, context, integrations = m.encode_json()
        p = m.profile
        records.append(
            (
                m.type, m.message_id, m.user_id, m.anonymous_id, m.name,
                orjson.Fragment(properties),
                None if context is None else orjson.Fragment(context),
                None if integrations is None else orjson.Fragment(integrations),
                _micros(m.timestamp), _micros(m.original_timestamp), _micros(m.sent_at),
                _micros(m.received_at), m.previous_id,
                None if p is None else (p.fields, p.traits, p.defaults, p.trait_defaults),
                m.where,
            )
        )  # fmt: skip
    return orjson.dumps(records).decode()


def decode_messages(document: str) -> list[Message]:
    out = []
    for r in orjson.loads(document):
        p = r[13]
        out.append(
            Message(
                type=r[0], message_id=r[1], user_id=r[2], anonymous_id=r[3], name=r[4],
                properties=r[5], context=r[6], integrations=r[7],
                timestamp=_EPOCH + timedelta(microseconds=r[8]),
                original_timestamp=_instant(r[9]), sent_at=_instant(r[10]),
                received_at=_EPOCH + timedelta(microseconds=r[11]), previous_id=r[12],
                profile=None if p is None else ProfileChanges(p[0], p[1], p[2], p[3]),
                where=r[14],
            )
        )  # fmt: skip
    return out


@dataclass(slots=True)
class Entry:
    """One request's messages, ready to append. ``token``: a random 63-bit number stored
    with the row, by which the appending process finds the messages it still holds in memory
    (ids are not known before the insert, and SQLite reuses the ids of deleted rows)."""

    workspace_id: int
    received_at: datetime
    virtual_now: datetime | None
    messages: list[Message]
    document: str = ""
    token: int = field(default_factory=lambda: secrets.randbits(63))

    def encode(self) -> None:
        self.document = encode_messages(self.messages)


class _Appends:
    """Appends in progress in this process. On SQLite the writer's append and the processor's
    group need the same write lock, and a processor that takes it again right after its own
    commit can keep a waiting append (and so the answers to clients) out for several groups;
    the processor lets appends in progress go first (``give_way``)."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._count = 0

    def __enter__(self) -> None:
        with self._cv:
            self._count += 1

    def __exit__(self, *_: object) -> None:
        with self._cv:
            self._count -= 1
            if not self._count:
                self._cv.notify_all()

    def give_way(self, timeout: float = 0.05) -> None:
        with self._cv:
            self._cv.wait_for(lambda: not self._count, timeout)


APPENDS = _Appends()


def append(conn: Connection, entries: Sequence[Entry]) -> None:
    """Append encoded entries in the caller's transaction (one executemany)."""
    t = time_converter(conn)
    _APPEND.execute(
        conn,
        [
            (e.workspace_id, t(e.received_at), t(e.virtual_now), len(e.messages), e.token, e.document)
            for e in entries
        ],
    )


@dataclass(slots=True)
class _Row:
    id: int
    workspace_id: int
    virtual_now: datetime | None
    messages: list[Message]
    token: int | None = None


def pending(conn: Connection) -> tuple[int, int, datetime | None]:
    """(rows, messages, oldest receipt) waiting in the log, failed rows excluded."""
    c = ingest_log.c
    rows, messages, oldest = conn.execute(
        select(func.count(), func.coalesce(func.sum(c.count), 0), func.min(c.received_at)).where(
            c.error.is_(None)
        )
    ).one()
    return int(rows), int(messages), oldest


class Memory:
    """Messages this process appended and has not processed yet, by row token: its processor
    takes them from here instead of decoding the row (a row another process appended, or one
    left by a crash, is decoded). Entries older than ``keep`` seconds are dropped (another
    process may have processed them); their rows, if still pending, are decoded."""

    def __init__(self, keep: float = 60.0, most: int = 200_000) -> None:
        self.keep = keep
        self.most = most  # messages held at most (a stopped processor must not grow it forever)
        self._items: dict[int, tuple[float, list[Message]]] = {}
        self._held = 0
        self._lock = threading.Lock()

    def add(self, entries: Sequence[Entry]) -> None:
        at = time.monotonic()
        with self._lock:
            for e in entries:
                self._items[e.token] = (at, e.messages)
                self._held += len(e.messages)
            oldest = at - self.keep
            while self._items:
                token, (added, messages) = next(iter(self._items.items()))
                if added >= oldest and self._held <= self.most:
                    break
                del self._items[token]
                self._held -= len(messages)

    def get(self, token: int | None) -> list[Message] | None:
        with self._lock:
            item = self._items.get(token) if token is not None else None
        return None if item is None else item[1]

    def forget(self, tokens: Sequence[int | None]) -> None:
        with self._lock:
            for token in tokens:
                item = self._items.pop(token, None) if token is not None else None
                if item is not None:
                    self._held -= len(item[1])


def process(
    engine: Engine, clock: Clock, max_batch: int = 5000, memory: Memory | None = None
) -> tuple[int, bool]:
    """Process one group of pending rows (up to ``max_batch`` messages, at least one row) in
    one transaction: (messages processed, whether rows remain)."""
    for attempt in range(RETRIES):
        try:
            with engine.begin() as conn:
                rows, more = _claim(conn, max_batch, memory)
                if not rows:
                    return 0, False
                _ingest(conn, rows, clock)
                conn.execute(
                    delete(ingest_log).where(in_ids(ingest_log.c.id, [r.id for r in rows], conn.dialect.name))
                )
            if memory is not None:
                memory.forget([r.token for r in rows])
            return sum(len(r.messages) for r in rows), more
        except Exception as exc:
            kind = classify(exc)
            if kind == "unavailable":
                raise  # disk full, read-only, connection lost: nothing to blame on a row
            # a lock conflict, or a concurrent insert of the same identity on PostgreSQL
            transient = kind == "conflict" or isinstance(exc, IntegrityError | OperationalError)
            if transient and attempt < RETRIES - 1:
                log.info("ingest log: the group conflicted (%s); retrying", reason(exc))
                continue
            return _one_by_one(engine, clock, max_batch)
    return 0, True  # pragma: no cover - the loop returns or raises


def _one_by_one(engine: Engine, clock: Clock, max_batch: int) -> tuple[int, bool]:
    """The group failed: process its rows one per transaction, marking those that fail alone."""
    with reading(engine) as conn:
        ids = conn.execute(
            select(ingest_log.c.id).where(ingest_log.c.error.is_(None)).order_by(ingest_log.c.id).limit(max_batch)
        ).scalars().all()  # fmt: skip
    done = 0
    for row_id in ids:
        try:
            with engine.begin() as conn:
                _lock(conn)
                rows = _read(conn, [row_id])
                if rows:
                    _ingest(conn, rows, clock)
                    conn.execute(delete(ingest_log).where(ingest_log.c.id == row_id))
                    done += len(rows[0].messages)
        except Exception as exc:
            if classify(exc) is not None:
                raise  # the database's state, not the row's: the next drain tries again
            log.error("ingest log: row %s failed and is kept for replay", row_id, exc_info=exc)
            with engine.begin() as conn:
                conn.execute(
                    update(ingest_log)
                    .where(ingest_log.c.id == row_id)
                    .values(error=f"{type(exc).__name__}: {exc}"[:2000])
                )
    return done, True


def _claim(conn: Connection, max_batch: int, memory: Memory | None) -> tuple[list[_Row], bool]:
    """The oldest pending rows holding up to ``max_batch`` messages (at least one row), read
    under the drainer's lock; whether more remain."""
    _lock(conn)
    c = ingest_log.c
    heads = conn.execute(
        select(c.id, c.count.label("n"), c.workspace_id, c.virtual_now, c.token)
        .where(c.error.is_(None))
        .order_by(c.id)
        .limit(max_batch + 1)
    ).all()
    rows: list[_Row] = []
    unknown: list[int] = []
    total = 0
    for head in heads:
        if rows and total + head.n > max_batch:
            break
        held = memory.get(head.token) if memory is not None else None
        rows.append(_Row(head.id, head.workspace_id, head.virtual_now, held or [], head.token))
        if held is None:
            unknown.append(head.id)
        total += head.n
    if unknown:  # appended by another process, or before a restart: decode them
        read = select(c.id, c.messages).where(in_ids(c.id, unknown, conn.dialect.name))
        documents: dict[int, str] = {row_id: document for row_id, document in conn.execute(read)}
        for r in rows:
            if r.id in documents:
                r.messages = decode_messages(documents[r.id])
    return rows, len(rows) < len(heads)


def _lock(conn: Connection) -> None:
    """One drainer at a time, in id order: SQLite's write lock is already held (``BEGIN
    IMMEDIATE``); on PostgreSQL an advisory lock released at commit."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _read(conn: Connection, ids: list[int]) -> list[_Row]:
    if not ids:
        return []
    c = ingest_log.c
    return [
        _Row(r.id, r.workspace_id, r.virtual_now, decode_messages(r.messages))
        for r in conn.execute(
            select(c.id, c.workspace_id, c.virtual_now, c.messages)
            .where(in_ids(c.id, ids, conn.dialect.name))
            .order_by(c.id)
        )
    ]


def _ingest(conn: Connection, rows: list[_Row], clock: Clock) -> None:
    """Each workspace's messages in id order, in one call of the pipeline."""
    now = clock.now()
    by_workspace: dict[int, list[_Row]] = {}
    for r in rows:
        by_workspace.setdefault(r.workspace_id, []).append(r)
    for workspace_id, group in by_workspace.items():
        # a sandbox's rows carry its virtual now: the write is stamped with it
        at = max((r.virtual_now for r in group if r.virtual_now is not None), default=now)
        ingest(conn, workspace_id, [m for r in group for m in r.messages], at)


class IngestProcessor:
    """Drains the log in a thread of its own: woken by each append of this process, and every
    ``poll_interval`` seconds for rows other processes (or a crash) left."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        max_batch: int = 5000,
        on_commit: Callable[[], None] | None = None,
        poll_interval: float = 1.0,
        linger: float = 0.01,
    ) -> None:
        self.engine = engine
        self.linger = linger  # seconds a woken processor waits for more appends
        self.clock = clock
        self.max_batch = max_batch
        self.poll_interval = poll_interval
        self._on_commit = on_commit  # e.g. wake the embedded worker
        self._cv = threading.Condition()
        self._pending = True  # drain what a previous run left, at start
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one drain at a time in this process
        self.memory = Memory()

    def appended(self, entries: Sequence[Entry]) -> None:
        """The writer committed ``entries``: keep their messages and wake the thread."""
        self.memory.add(entries)
        self.notify()

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="kairos-ingest-processor", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify()
        if self._thread is None:
            return
        self._thread.join(timeout=60)
        self._thread = None
        try:  # a graceful stop leaves nothing behind (a crash would: the next start drains it)
            if _anything_pending(self.engine):  # looked at first: no write lock for nothing
                self.drain()
        except Exception as exc:
            log.warning("ingest log: not drained at stop (%s); the next start will", reason(exc))

    def notify(self) -> None:
        with self._cv:
            self._pending = True
            self._cv.notify()

    def drain(self) -> int:
        """Process until the log holds nothing pending; messages processed."""
        total = 0
        with self._lock:
            while True:
                APPENDS.give_way()
                done, more = process(self.engine, self.clock, self.max_batch, self.memory)
                total += done
                if done and self._on_commit is not None:
                    self._on_commit()
                if not more:
                    return total

    def _run(self) -> None:
        failures = 0
        while True:
            woken = True
            with self._cv:
                while not self._pending and not self._stopping:
                    if not self._cv.wait(timeout=self.poll_interval * 2**failures):
                        woken = False  # a poll, for rows appended by other processes
                        break
                if self._stopping:
                    return
                self._pending = False
            try:
                if woken and self.linger > 0:
                    # let a group gather: a transaction per small append costs more than its
                    # messages (answers do not wait for this; only visibility does)
                    time.sleep(self.linger)
                # a poll looks first, without the write lock (SQLite has one for everybody)
                if woken or _anything_pending(self.engine):
                    self.drain()
                failures = 0
            except Exception as exc:
                failures = min(failures + 1, 5)
                log.warning("ingest log: processing failed (%s); retrying", reason(exc), exc_info=exc)


def _anything_pending(engine: Engine) -> bool:
    with reading(engine) as conn:
        c = ingest_log.c
        return conn.execute(select(c.id).where(c.error.is_(None)).limit(1)).first() is not None


def failed(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """Rows kept after failing on their own: id, workspace, receipt, messages, error."""
    c = ingest_log.c
    return [
        dict(r._mapping)
        for r in conn.execute(
            select(c.id, c.workspace_id, c.received_at, c.count, c.error)
            .where(c.error.is_not(None))
            .order_by(c.id)
            .limit(limit)
        )
    ]


def replay(conn: Connection, ids: Sequence[int] | None = None) -> int:
    """Put failed rows back in line (all, or ``ids``); the next drain processes them."""
    c = ingest_log.c
    q = update(ingest_log).where(c.error.is_not(None))
    if ids is not None:
        q = q.where(in_ids(c.id, ids, conn.dialect.name))
    return int(conn.execute(q.values(error=None)).rowcount or 0)
