"""Advancing a sandbox's clock: the worker's jobs run at every instant something falls due.

Setting the clock straight to the target would run a three-day journey's steps all at the
target, and each wait would then start from there. ``advance`` instead visits, in order, each
instant between the sandbox's now and the target at which one of its rows falls due — an
enrollment resuming, a broadcast starting or ending its test, a message due (quiet hours,
retries), a contact change — and runs the workspace's jobs there, as a worker would have at
that moment. A sandbox whose outcome also depends on the passing of time itself (segments
and traits with time windows, journeys triggered by dates or schedules) is also visited on
every whole hour, so "in the last 7 days" and "every Monday at 9:00" move as they would live.

Each visited instant is its own transactions, and the clock is stored as it moves: an
advance stopped by its deadline (or a crash) leaves a consistent sandbox whose clock reads
the last instant reached, and advancing again carries on from there.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, exists, func, or_, select, union_all

from kairos.campaigns.tables import broadcast
from kairos.clock import Clock, ensure_utc
from kairos.config import Settings
from kairos.contacts.tables import contact_change
from kairos.errors import InvalidInput
from kairos.journeys.definition import DateTrigger, ScheduleTrigger
from kairos.journeys.engine import ACTIVE
from kairos.journeys.tables import enrollment
from kairos.journeys.triggers import active_journeys
from kairos.messaging import outbox
from kairos.messaging.tables import message
from kairos.segments.tables import computed_trait, segment
from kairos.worker.loop import Worker, build_dispatcher
from kairos.workspaces.clocks import Scope, sandbox_now, set_clock

#: the longest a sandbox may be advanced in one call (a year and a month, as simulations)
MAX_SPAN = timedelta(days=400)
#: how often time-dependent sandboxes are visited while advancing
TICK = timedelta(hours=1)


@dataclass(slots=True)
class Advance:
    """What an advance did: where the clock was and is, whether it reached the target."""

    workspace_id: int
    started_at: datetime
    now: datetime
    target: datetime
    complete: bool = False
    instants: int = 0  # instants visited (the start and the target included)
    done: Counter[str] = field(default_factory=Counter)  # units of work per job


def advance(worker: Worker, workspace_id: int, target: datetime, *, deadline: float | None = None) -> Advance:
    """Move the sandbox's clock to ``target``, running its jobs at every instant something
    falls due on the way. ``deadline`` (``time.monotonic()``): stop after the instant in
    progress once it has passed, with ``complete`` false and the clock where it got to — but
    not before the clock has moved once: a call re-runs the instant the last one stopped at,
    and stopping there again would leave a client that asks again never getting further."""
    target = ensure_utc(target)
    with worker.engine.begin() as conn:
        now = sandbox_now(conn, workspace_id)
    if target < now:
        raise InvalidInput(
            f"the sandbox's clock is at {now.isoformat()}; it only moves forward", code="clock_backwards"
        )
    if target - now > MAX_SPAN:
        raise InvalidInput(
            f"advance at most {MAX_SPAN.days} days at a time (asked for {(target - now).days} days)",
            code="advance_too_far",
        )
    result = Advance(workspace_id, now, now, target)
    while True:
        result.done.update(worker.run_workspace(workspace_id, now))
        result.instants += 1
        if now >= target:
            result.complete = True
            break
        if deadline is not None and now > result.started_at and time.monotonic() > deadline:
            break
        with worker.engine.begin() as conn:
            now = set_clock(conn, workspace_id, next_instant(conn, workspace_id, now, target))
        result.now = now
    result.done = Counter({k: v for k, v in result.done.items() if v})
    return result


def next_instant(conn: Connection, workspace_id: int, now: datetime, target: datetime) -> datetime:
    """The first instant after ``now`` (and at most ``target``) at which something of the
    workspace falls due."""
    candidates = [target]
    due = _next_due(conn, workspace_id, now)
    if due is not None:
        candidates.append(due)
    if _time_dependent(conn, workspace_id):
        candidates.append(now.replace(minute=0, second=0, microsecond=0) + TICK)
    return max(min(candidates), now)


def _next_due(conn: Connection, workspace_id: int, now: datetime) -> datetime | None:
    ws = Scope(only=workspace_id)
    firsts = union_all(
        select(func.min(enrollment.c.resume_at).label("at")).where(
            ws.clause(enrollment.c.workspace_id), enrollment.c.state == ACTIVE, enrollment.c.resume_at > now
        ),
        select(func.min(broadcast.c.starts_at)).where(
            ws.clause(broadcast.c.workspace_id),
            broadcast.c.status.in_(("scheduled", "sending")),
            broadcast.c.starts_at > now,
        ),
        select(func.min(broadcast.c.test_ends_at)).where(
            ws.clause(broadcast.c.workspace_id),
            broadcast.c.status == "testing",
            broadcast.c.test_ends_at > now,
        ),
        select(func.min(message.c.next_attempt_at)).where(
            ws.clause(message.c.workspace_id),
            message.c.status == outbox.QUEUED,
            message.c.next_attempt_at > now,
        ),
        select(func.min(contact_change.c.changed_at)).where(
            ws.clause(contact_change.c.workspace_id), contact_change.c.changed_at > now
        ),
    ).subquery()
    instants = [conn.execute(select(func.min(firsts.c.at))).scalar()]
    # a message claimed by a sender that died falls due again when its lease runs out
    claimed = conn.execute(
        select(func.min(message.c.claimed_at)).where(
            ws.clause(message.c.workspace_id),
            message.c.status == outbox.SENDING,
            message.c.claimed_at > now - outbox.LEASE,
        )
    ).scalar()
    if claimed is not None:
        instants.append(ensure_utc(claimed) + outbox.LEASE)
    return min((ensure_utc(i) for i in instants if i is not None), default=None)


def _time_dependent(conn: Connection, workspace_id: int) -> bool:
    ws = Scope(only=workspace_id)
    windows = conn.execute(
        select(
            or_(
                exists().where(
                    ws.clause(segment.c.workspace_id),
                    and_(segment.c.kind == "dynamic", segment.c.time_dependent.is_(True)),
                ),
                exists().where(
                    ws.clause(computed_trait.c.workspace_id), computed_trait.c.time_dependent.is_(True)
                ),
            )
        )
    ).scalar()
    if windows:
        return True
    return any(
        isinstance(definition.trigger, DateTrigger | ScheduleTrigger)
        for _, definition in active_journeys(conn, {workspace_id})
    )


class Advancer:
    """Advances sandboxes for the API process: its own worker (and message dispatcher, so
    what falls due is sent as it would be), built on first use, one advance at a time."""

    def __init__(self, settings: Settings, engine: Engine, clock: Clock) -> None:
        self._settings = settings
        self._engine = engine
        self._clock = clock
        self._worker: Worker | None = None
        self._lock = threading.Lock()

    def advance(self, workspace_id: int, target: datetime, *, timeout: float) -> Advance:
        with self._lock:
            if self._worker is None:
                dispatcher = build_dispatcher(self._settings, self._engine, self._clock)
                self._worker = Worker(self._engine, self._clock, dispatcher=dispatcher)
            return advance(self._worker, workspace_id, target, deadline=time.monotonic() + timeout)

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None
