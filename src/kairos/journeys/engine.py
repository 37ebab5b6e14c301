"""The journey engine: enrollments are rows, the scheduler moves them in batches.

``run_due`` claims enrollments whose ``resume_at`` has come (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so workers share the work and never take the same row), groups them by
(journey version, node) and calls that node kind's handler once per group (``nodes.py``).
A handler answers, for each enrollment, a ``Move``: the branch it took and where it goes
next, or how long it stays. Enrollments that move on at once (an action followed by a
branch) go round again in the same pass; a wait ends the pass for them with a timer in
``resume_at``. Every move is a row in ``journey_step``.

Everything a pass does — moves, step log, messages queued in the outbox, contact updates —
commits in one transaction, so each step of an enrollment happens exactly once: a crash
before the commit leaves the rows as they were for the next pass; a message queued by a
step carries the idempotency key ``journey:<enrollment>:<node>:<step>``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Integer,
    Text,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    null,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from kairos.db.dialect import FastStatement, time_converter
from kairos.journeys.definition import JourneyDefinition, parse_journey
from kairos.journeys.tables import enrollment, journey, journey_step, journey_version
from kairos.workspaces.clocks import EVERY, Scope

ACTIVE, COMPLETED, CONVERTED, EXITED = "active", "completed", "converted", "exited"
ENDED = (COMPLETED, CONVERTED, EXITED)
ENTER, WAIT = "enter", "wait"
#: Instant moves per enrollment in one pass; validation forbids cycles without a wait, so
#: only a very long chain of actions reaches this (the rest continues next pass).
MAX_ROUNDS = 64

STAY = object()  # a Move that keeps the enrollment at its node


@dataclass(slots=True)
class Enrollment:
    """A claimed enrollment, in the order of ``CLAIM_COLUMNS`` (built positionally). The claim
    reads no instants: a pass sets ``resume_at`` for every enrollment it moves, ``node_at`` and
    ``woken_at`` only change when it leaves its node (``moved``/``left``), and a handler needs
    no more than whether the awaited event came (``woken``)."""

    id: int
    workspace_id: int
    journey_id: int
    version_id: int
    contact_id: int
    node: str | None
    phase: str
    woken: bool  # the event a wait_for_event node waits for has come (``woken_at`` is set)
    steps: int
    payload_json: str | None  # the trigger's payload as stored; decoded only by nodes that use it
    state: str = ACTIVE
    wait_event: str | None = None
    resume_at: datetime | None = None  # set by the pass's moves
    exit_reason: str | None = None
    dirty: bool = False
    passed: int = 0  # steps taken in this pass
    moved: bool = False  # reached a node in this pass: node_at is now
    left: bool = False  # left its node in this pass: woken_at is cleared

    payload_changed: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        data = orjson.loads(self.payload_json) if self.payload_json else None
        return data if isinstance(data, dict) else {}

    def remember(self, key: str, value: Any) -> None:
        """Keep something in the payload for later nodes (an assigned offer's code)."""
        self.payload_json = orjson.dumps({**self.payload, key: value}).decode()
        self.payload_changed = True


@dataclass(slots=True)
class Move:
    """What a handler decided for one enrollment."""

    enrollment: Enrollment
    outcome: str  # the branch taken ("next", "yes", "timeout", a split branch …) or "waiting"
    target: Any = STAY  # a node id, None (the journey ends here: completed), or STAY
    resume_at: datetime | None = None  # with STAY: when to look again (None: only an event wakes it)
    wait_event: str | None = None
    state: str | None = None  # to end it another way: exited, converted
    detail: dict[str, Any] | None = None


@dataclass
class Context:
    conn: Connection
    now: datetime
    definition: JourneyDefinition
    journey_id: int
    workspace_id: int
    version_id: int
    cache: dict[str, Any] = field(default_factory=dict)


#: node kind → handler(ctx, node, enrollments) -> moves
Handler = Callable[[Context, Any, list[Enrollment]], list[Move]]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


class Versions:
    """Parsed definitions by version. Versions are immutable, so each is parsed once per
    process; the cache is keyed by the stored text too, because ids can come back (SQLite
    reuses the highest rowid after a delete) and a stale graph must never run."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[int, str], tuple[int, int, JourneyDefinition]] = {}

    def get(self, conn: Connection, version_id: int) -> tuple[int, int, JourneyDefinition]:
        v = journey_version.c
        row = conn.execute(
            select(v.journey_id, v.workspace_id, cast(v.definition, Text).label("text")).where(
                v.id == version_id
            )
        ).one()
        key = (version_id, row.text)
        found = self._parsed.get(key)
        if found is None:
            if len(self._parsed) > 10_000:
                self._parsed.clear()
            found = self._parsed[key] = (
                row.journey_id,
                row.workspace_id,
                parse_journey(orjson.loads(row.text)),
            )
        return found


VERSIONS = Versions()


#: What the scheduler reads of an enrollment, in ``Enrollment``'s field order: no instants,
#: and the payload as text (most nodes never need it)
CLAIM_COLUMNS = (
    enrollment.c.id, enrollment.c.workspace_id, enrollment.c.journey_id, enrollment.c.version_id,
    enrollment.c.contact_id, enrollment.c.node, enrollment.c.phase,
    enrollment.c.woken_at.is_not(None).label("woken"), enrollment.c.steps,
    cast(enrollment.c.payload, Text).label("payload_json"), enrollment.c.state, enrollment.c.wait_event,
)  # fmt: skip


def enrollment_of(r: Any) -> Enrollment:
    """A row of ``CLAIM_COLUMNS`` as an ``Enrollment``."""
    return Enrollment(*r)


def run_due(conn: Connection, now: datetime, limit: int = 2000, scope: Scope = EVERY) -> int:
    """Move every due enrollment (up to ``limit``) as far as it goes now; returns how many."""
    # Only live journeys: a paused one's due enrollments must not fill every batch.
    q = (
        select(*CLAIM_COLUMNS)
        .join(journey, journey.c.id == enrollment.c.journey_id)
        .where(
            enrollment.c.state == ACTIVE,
            enrollment.c.resume_at <= now,
            journey.c.status == "active",
            scope.clause(enrollment.c.workspace_id),
        )
        .order_by(enrollment.c.resume_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True, of=enrollment)
    claimed = [Enrollment(*r) for r in conn.execute(q).all()]  # fetchall: one driver call
    if not claimed:
        return 0
    advance(conn, claimed, now)
    return len(claimed)


def advance(conn: Connection, claimed: list[Enrollment], now: datetime) -> None:
    """Move these (claimed, due) enrollments as far as they go at ``now`` and write it all:
    the scheduler's core, also used by the simulation for its one enrollment."""
    import kairos.journeys.nodes  # noqa: F401  (registers the node handlers)

    log = _StepLog(time_converter(conn)(now))
    pending = claimed
    for _ in range(MAX_ROUNDS):
        groups: dict[tuple[int, str], list[Enrollment]] = defaultdict(list)
        for e in pending:
            groups[(e.version_id, e.node or "")].append(e)
        moved: list[Enrollment] = []
        for (version_id, node_id), members in groups.items():
            journey_id, workspace_id, definition = VERSIONS.get(conn, version_id)
            node = definition.nodes.get(node_id)
            if node is None:  # cannot happen with immutable versions; end rather than loop
                moves = [Move(e, "missing_node", target=None, state=EXITED) for e in members]
            else:
                ctx = Context(conn, now, definition, journey_id, workspace_id, version_id)
                moves = HANDLERS[node.type](ctx, node, members)
            for m in moves:
                _apply(m, now, log)
                e = m.enrollment
                if e.state == ACTIVE and e.resume_at is not None and e.resume_at <= now:
                    moved.append(e)
        pending = moved
        if not pending:
            break
    _write(conn, claimed, log, now)


class _StepLog(list[tuple[Any, ...]]):
    """The pass's ``journey_step`` rows, in driver form (``_INSERT_STEPS``)."""

    def __init__(self, stamp: Any) -> None:
        super().__init__()
        self.stamp = stamp


def _apply(m: Move, now: datetime, log: _StepLog) -> None:
    e = m.enrollment
    e.dirty = True
    detail = m.detail
    log.append((e.workspace_id, e.journey_id, e.version_id, e.id, e.contact_id, e.node or "", m.outcome,
                None if detail is None else orjson.dumps(detail).decode(), log.stamp))  # fmt: skip
    e.steps += 1
    e.passed += 1
    if m.state in ENDED:
        e.state, e.exit_reason, e.resume_at, e.wait_event = m.state, m.outcome, None, None
        return
    if m.target is STAY:
        e.phase, e.resume_at, e.wait_event = WAIT, m.resume_at, m.wait_event
        return
    e.woken, e.wait_event, e.left = False, None, True
    if m.target is None:
        e.state, e.resume_at, e.node = COMPLETED, None, None
        return
    e.node, e.phase, e.resume_at, e.moved = m.target, ENTER, now, True


# The writes of every pass go straight to the driver (``FastStatement``): SQLAlchemy's
# per-row parameter processing cost more than the writes themselves (docs/benchmarks.md, B5).
# Enrollments that end a pass alike (same state, node, timer …: typically a whole claimed
# group) move in one statement over their ids; the rest row by row. Columns a pass leaves as
# they were are kept by the statement itself, so the claim need not read them.
_SAVE_NAMES = (
    "state", "node", "phase", "resume_at", "wait_event", "exit_reason", "active", "ended_at", "now",
    "passed", "moved", "left",
)  # fmt: skip


def _save_values() -> dict[str, Any]:
    c = enrollment.c
    return {
        "state": bindparam("state"), "node": bindparam("node"), "phase": bindparam("phase"),
        "resume_at": bindparam("resume_at"), "wait_event": bindparam("wait_event"),
        "exit_reason": bindparam("exit_reason"), "active_journey_id": bindparam("active"),
        "ended_at": bindparam("ended_at"), "updated_at": bindparam("now"),
        "steps": c.steps + bindparam("passed", type_=Integer),
        "node_at": case((bindparam("moved", type_=Boolean), bindparam("now")), else_=c.node_at),
        "woken_at": case((bindparam("left", type_=Boolean), null()), else_=c.woken_at),
    }  # fmt: skip


def _ids_in(conn: Connection) -> Any:
    """``enrollment.id`` among the ids bound as ``ids``: a JSON array on SQLite, an array on
    PostgreSQL (one parameter however many ids)."""
    if conn.dialect.name == "postgresql":
        return enrollment.c.id == func.any(cast(bindparam("ids"), ARRAY(BigInteger)))
    return enrollment.c.id.in_(select(literal_column("value")).select_from(func.json_each(bindparam("ids"))))


_SAVE = FastStatement(
    lambda _conn: update(enrollment).where(enrollment.c.id == bindparam("eid")).values(_save_values()),
    (*_SAVE_NAMES, "eid"),
)
_SAVE_MANY = FastStatement(
    lambda conn: update(enrollment).where(_ids_in(conn)).values(_save_values()), (*_SAVE_NAMES, "ids")
)
_SAVE_PAYLOAD = FastStatement(
    lambda _conn: (
        update(enrollment).where(enrollment.c.id == bindparam("eid")).values(payload=bindparam("payload"))
    ),
    ("payload", "eid"),
)
_STEP_COLUMNS = ("workspace_id", "journey_id", "version_id", "enrollment_id", "contact_id", "node", "outcome",
                 "detail", "at")  # fmt: skip
_INSERT_STEPS = FastStatement.insert(journey_step, _STEP_COLUMNS)
#: PostgreSQL: the pass's steps as one array per column, one statement (psycopg's executemany
#: still costs a round of client work per row)
_STEP_ARRAYS = ("BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "TEXT", "TEXT", "TEXT", "TIMESTAMPTZ")
_INSERT_STEP_ARRAYS = FastStatement(
    lambda _conn: text(
        f"INSERT INTO journey_step ({', '.join(_STEP_COLUMNS)}) "
        "SELECT c0, c1, c2, c3, c4, c5, c6, CAST(c7 AS JSONB), c8 FROM unnest("
        + ", ".join(f"CAST(:c{i} AS {kind}[])" for i, kind in enumerate(_STEP_ARRAYS))
        + ") AS s(c0, c1, c2, c3, c4, c5, c6, c7, c8)"
    ),
    [f"c{i}" for i in range(len(_STEP_ARRAYS))],
)


def _write(conn: Connection, enrollments: list[Enrollment], log: _StepLog, now: datetime) -> None:
    t = time_converter(conn)
    stamp = log.stamp
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for e in enrollments:
        if e.dirty:
            groups[(
                e.state, e.node, e.phase, e.resume_at, e.wait_event, e.exit_reason,
                e.journey_id if e.state == ACTIVE else None, e.state in ENDED, e.passed, e.moved, e.left,
            )].append(e.id)  # fmt: skip
    single: list[tuple[Any, ...]] = []
    pg = conn.dialect.name == "postgresql"
    for key, ids in groups.items():
        state, node, phase, resume_at, wait_event, reason, active, ended, passed, moved, left = key
        values = (state, node, phase, t(resume_at), wait_event, reason, active, stamp if ended else None,
                  stamp, passed, moved, left)  # fmt: skip
        if len(ids) == 1:
            single.append((*values, ids[0]))
        else:
            _SAVE_MANY.execute(conn, [(*values, ids if pg else orjson.dumps(ids).decode())])
    _SAVE.execute(conn, single)
    changed = [(e.payload_json, e.id) for e in enrollments if e.payload_changed]
    if changed:
        _SAVE_PAYLOAD.execute(conn, changed)
    if pg and log:
        _INSERT_STEP_ARRAYS.execute(conn, [tuple(map(list, zip(*log, strict=True)))])
    else:
        _INSERT_STEPS.execute(conn, log)


def end_enrollments(
    conn: Connection,
    rows: list[tuple[int, int, int, int, int, str | None]],
    state: str,
    reason: str,
    now: datetime,
) -> None:
    """End these active enrollments now — (id, workspace, journey, version, contact, node) —
    as converted or exited (a goal or exit rule, or removed through the API), logging it."""
    if not rows:
        return
    conn.execute(
        update(enrollment)
        .where(enrollment.c.id == bindparam("eid"), enrollment.c.state == ACTIVE)
        .values(state=state, exit_reason=reason, resume_at=None, wait_event=None, active_journey_id=None,
                ended_at=now, updated_at=now),
        [{"eid": r[0]} for r in rows],
    )  # fmt: skip
    conn.execute(
        insert(journey_step),
        [{"workspace_id": ws, "journey_id": jid, "version_id": vid, "enrollment_id": eid, "contact_id": cid,
          "node": node or "", "outcome": reason, "detail": None, "at": now}
         for eid, ws, jid, vid, cid, node in rows],
    )  # fmt: skip
