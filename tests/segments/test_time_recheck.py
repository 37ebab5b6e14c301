"""The periodic re-check of time-dependent segments (``membership.recheck_due``): who matches
is computed in a read transaction, only the difference is written in a short write
transaction. Scenario style: the clock is driven; where something must happen between the
two phases, it is done from inside the read phase (a hook on ``_differences``), never by
sleeping."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, update

from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments import membership
from kairos.segments.membership import recheck_due, refresh_due
from kairos.segments.service import create_segment, update_segment
from kairos.segments.tables import membership_transition, segment, segment_membership
from kairos.worker.loop import Worker
from kairos.workspaces.clocks import Scope
from kairos.workspaces.service import CreatedWorkspace

DAY = timedelta(days=1)
VIEWED_THIS_WEEK = {
    "root": {"type": "performed", "event": "viewed", "window": {"last": {"amount": 7, "unit": "days"}}}
}
#: enters by time alone: signed up, then no view for three days
GONE_QUIET = {
    "root": {
        "type": "all",
        "conditions": [
            {"type": "performed", "event": "signed_up"},
            {"type": "not_performed", "event": "viewed", "window": {"last": {"amount": 3, "unit": "days"}}},
        ],
    }
}


def send(engine: Engine, ws: int, now: datetime, user: str, event: str, at: datetime) -> None:
    message = parse_message(
        {"type": "track", "userId": user, "event": event, "timestamp": at.isoformat()}, None, now
    )
    with engine.begin() as conn:
        ingest(conn, ws, [message], now)


def members(engine: Engine, segment_id: int) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(contact.c.external_id)
            .join(segment_membership, segment_membership.c.contact_id == contact.c.id)
            .where(segment_membership.c.segment_id == segment_id)
        )
        return set(rows.scalars())


def transitions(engine: Engine, segment_id: int) -> list[tuple[str, str, datetime]]:
    t = membership_transition.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.kind, contact.c.external_id, t.at)
            .join(contact, contact.c.id == t.contact_id)
            .where(t.segment_id == segment_id)
            .order_by(t.at, t.kind, contact.c.external_id)
        )
        return [(kind, who, at) for kind, who, at in rows]


def new_segment(engine: Engine, ws: int, now: datetime, name: str, definition: Any) -> int:
    with engine.begin() as conn:
        return int(create_segment(conn, ws, now, name=name, definition=definition)["id"])


def refreshed_at(engine: Engine, segment_id: int) -> datetime | None:
    with engine.connect() as conn:
        value: datetime | None = conn.execute(
            select(segment.c.refreshed_at).where(segment.c.id == segment_id)
        ).scalar_one()
        return value


def until_done(job: Callable[[], int]) -> int:
    done = 0
    for _ in range(50):
        count = job()
        if count == 0:
            return done
        done += count
    raise AssertionError("the job never ran out of work")


class Phases:
    """Spies on the re-check's read phase: ``hooks`` run at its end, its transaction still
    open; ``calls`` lists the segments it computed, in order."""

    def __init__(self) -> None:
        self.hooks: list[Callable[[], None]] = []
        self.calls: list[int] = []


@pytest.fixture
def phases(monkeypatch: pytest.MonkeyPatch) -> Phases:
    spy = Phases()
    original = membership._differences

    def differences(conn: Connection, seg: Any, now: datetime) -> list[int]:
        found = original(conn, seg, now)
        assert conn.in_transaction()
        spy.calls.append(seg.id)
        for hook in spy.hooks:
            hook()
        return found

    monkeypatch.setattr(membership, "_differences", differences)
    return spy


def in_another_thread(work: Callable[[], None]) -> None:
    """Run ``work`` on another thread and require it to finish: a write that waited for a
    lock held by the read phase (in this thread) would never finish, so it fails instead of
    hanging the test."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the write waited for the read phase"
    assert not errors, errors


def test_two_phase_recheck_records_what_one_transaction_records(
    engine: Engine,
    workspace: CreatedWorkspace,
    other_workspace: CreatedWorkspace,
    clock: FixedClock,
    phases: Phases,
) -> None:
    """The same people and events in two workspaces: one re-checked by ``recheck_due``, the
    other by the one-transaction ``refresh_due``. Members and transitions (with their
    instants) are the same at every step, including a segment that refers to a re-checked
    one (the cascade)."""
    start = clock.now()
    history = {
        "ann": [("signed_up", 20), ("viewed", 0)],
        "bob": [("signed_up", 20), ("viewed", 5)],
        "cat": [("signed_up", 10)],
        "dan": [("signed_up", 20), ("viewed", 2)],
        "eve": [("viewed", 1)],
    }
    segments: dict[int, dict[str, int]] = {}
    for ws in (workspace.id, other_workspace.id):
        for user, events in history.items():
            for name, days_ago in events:
                send(engine, ws, start, user, name, start - days_ago * DAY)
        viewed = new_segment(engine, ws, start, "viewed", VIEWED_THIS_WEEK)
        signed_up = {"type": "performed", "event": "signed_up"}
        both = {"root": {"type": "all", "conditions": [{"type": "segment", "segment_id": viewed}, signed_up]}}
        segments[ws] = {
            "viewed": viewed,
            "quiet": new_segment(engine, ws, start, "quiet", GONE_QUIET),
            "viewed, signed up": new_segment(engine, ws, start, "viewed, signed up", both),
        }

    def two_phase(now: datetime) -> int:
        return until_done(lambda: recheck_due(engine, now, Scope(only=workspace.id)))

    def one_transaction(now: datetime) -> int:
        def once() -> int:
            with engine.begin() as conn:
                return refresh_due(conn, now, Scope(only=other_workspace.id))

        return until_done(once)

    # steps between whole days, so no event sits on a window's edge
    expected = {
        0.0: {"viewed": {"ann", "bob", "dan", "eve"}, "quiet": {"bob", "cat"}},
        1.5: {"viewed": {"ann", "bob", "dan", "eve"}, "quiet": {"bob", "cat", "dan"}},
        3.5: {"viewed": {"ann", "dan", "eve"}, "quiet": {"ann", "bob", "cat", "dan"}},
        8.5: {"viewed": set(), "quiet": {"ann", "bob", "cat", "dan"}},
    }
    for days, want in expected.items():
        now = start + days * DAY
        clock.set(now)
        assert two_phase(now) == one_transaction(now) > 0
        for name, ids in segments[workspace.id].items():
            twin = segments[other_workspace.id][name]
            assert members(engine, ids) == members(engine, twin), (days, name)
            assert transitions(engine, ids) == transitions(engine, twin), (days, name)
        mine = segments[workspace.id]
        assert members(engine, mine["viewed"]) == want["viewed"]
        assert members(engine, mine["quiet"]) == want["quiet"]
        assert members(engine, mine["viewed, signed up"]) == want["viewed"] - {"eve"}
        assert refreshed_at(engine, mine["viewed"]) == now
    # the first computation is one write transaction; the re-checks after it had read phases
    assert sorted(set(phases.calls)) == sorted(
        [segments[workspace.id]["viewed"], segments[workspace.id]["quiet"]]
    )
    viewed = segments[workspace.id]["viewed"]
    assert [t for t in transitions(engine, viewed) if t[1] == "bob"] == [
        ("entered", "bob", start), ("exited", "bob", start + 3.5 * DAY)
    ]  # fmt: skip


def test_a_contact_changed_between_the_phases_is_decided_by_its_state_then(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, phases: Phases
) -> None:
    """Ann and Bob are about to leave (their views are 8 days old) when the read phase
    ends; Ann views again before the write phase: she stays, Bob leaves. The write is
    committed by another connection while the read phase is still open."""
    start = clock.now()
    for user in ("ann", "bob"):
        send(engine, workspace.id, start, user, "viewed", start)
    seg_id = new_segment(engine, workspace.id, start, "viewed", VIEWED_THIS_WEEK)
    assert recheck_due(engine, start) == 1
    assert members(engine, seg_id) == {"ann", "bob"}

    now = clock.advance(8 * DAY)
    phases.hooks.append(
        lambda: in_another_thread(lambda: send(engine, workspace.id, now, "ann", "viewed", now))
    )
    assert recheck_due(engine, now) == 1
    assert phases.calls == [seg_id]
    assert members(engine, seg_id) == {"ann"}
    assert transitions(engine, seg_id) == [
        ("entered", "ann", start), ("entered", "bob", start), ("exited", "bob", now)
    ]  # fmt: skip
    assert recheck_due(engine, now) == 0


def test_a_contact_that_starts_matching_between_the_phases_enters_once(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, phases: Phases
) -> None:
    """Cat goes quiet (enters by time); Dan views between the phases, so at the write
    phase he no longer enters although the read phase counted him."""
    start = clock.now()
    for user in ("cat", "dan"):
        send(engine, workspace.id, start, user, "signed_up", start)
        send(engine, workspace.id, start, user, "viewed", start)
    seg_id = new_segment(engine, workspace.id, start, "quiet", GONE_QUIET)
    assert recheck_due(engine, start) == 1
    assert members(engine, seg_id) == set()

    now = clock.advance(4 * DAY)
    phases.hooks.append(
        lambda: in_another_thread(lambda: send(engine, workspace.id, now, "dan", "viewed", now))
    )
    assert recheck_due(engine, now) == 1
    assert members(engine, seg_id) == {"cat"}
    assert transitions(engine, seg_id) == [("entered", "cat", now)]


def test_the_read_phase_does_not_hold_the_write_lock(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, phases: Phases
) -> None:
    """While the re-check computes, other connections commit writes (on SQLite: the
    single write lock is free; it would wait forever otherwise, and the test fail)."""
    start = clock.now()
    send(engine, workspace.id, start, "ann", "viewed", start)
    seg_id = new_segment(engine, workspace.id, start, "viewed", VIEWED_THIS_WEEK)
    assert recheck_due(engine, start) == 1

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(update(contact).where(contact.c.external_id == "ann").values(first_name="Ann"))

    phases.hooks.append(lambda: in_another_thread(write))
    now = clock.advance(8 * DAY)
    assert recheck_due(engine, now) == 1
    assert phases.calls == [seg_id]
    assert members(engine, seg_id) == set()
    with engine.connect() as conn:
        assert conn.execute(select(contact.c.first_name)).scalar_one() == "Ann"


def test_a_second_worker_does_not_recheck_a_segment_being_rechecked(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, phases: Phases
) -> None:
    """While one worker computes a segment's re-check, another worker's pass finds it is
    not due (the claim is committed before the read phase): it is computed once, and each
    exit recorded once."""
    start = clock.now()
    for user in ("ann", "bob"):
        send(engine, workspace.id, start, user, "viewed", start)
    seg_id = new_segment(engine, workspace.id, start, "viewed", VIEWED_THIS_WEEK)
    assert recheck_due(engine, start) == 1

    now = clock.advance(8 * DAY)
    second: list[int] = []
    phases.hooks.append(lambda: second.append(recheck_due(engine, now)))
    assert recheck_due(engine, now) == 1
    assert second == [0]
    assert phases.calls == [seg_id]
    assert [kind for kind, _, _ in transitions(engine, seg_id)] == ["entered", "entered", "exited", "exited"]


def test_a_definition_changed_between_the_phases_is_left_to_the_full_refresh(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, phases: Phases
) -> None:
    start = clock.now()
    send(engine, workspace.id, start, "ann", "viewed", start)
    seg_id = new_segment(engine, workspace.id, start, "viewed", VIEWED_THIS_WEEK)
    assert recheck_due(engine, start) == 1

    now = clock.advance(8 * DAY)
    longer = {"root": {**VIEWED_THIS_WEEK["root"], "window": {"last": {"amount": 30, "unit": "days"}}}}

    def change() -> None:
        with engine.begin() as conn:
            update_segment(conn, workspace.id, seg_id, now, {"definition": longer})

    phases.hooks.append(lambda: in_another_thread(change))
    assert recheck_due(engine, now) == 1  # computed, but not applied: the definition moved
    phases.hooks.clear()
    assert members(engine, seg_id) == {"ann"}
    assert recheck_due(engine, now) == 1  # the full refresh of the new definition
    assert recheck_due(engine, now) == 0
    assert members(engine, seg_id) == {"ann"}
    assert [kind for kind, _, _ in transitions(engine, seg_id)] == ["entered"]


def test_a_failed_recheck_gives_its_claim_back(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, phases: Phases
) -> None:
    start = clock.now()
    send(engine, workspace.id, start, "ann", "viewed", start)
    seg_id = new_segment(engine, workspace.id, start, "viewed", VIEWED_THIS_WEEK)
    assert recheck_due(engine, start) == 1

    def fail() -> None:
        raise RuntimeError("boom")

    phases.hooks.append(fail)
    now = clock.advance(8 * DAY)
    with pytest.raises(RuntimeError):
        recheck_due(engine, now)
    assert refreshed_at(engine, seg_id) == start  # due again
    assert members(engine, seg_id) == {"ann"}
    phases.hooks.clear()
    assert recheck_due(engine, now) == 1
    assert members(engine, seg_id) == set()
    assert transitions(engine, seg_id) == [("entered", "ann", start), ("exited", "ann", now)]


def test_the_worker_rechecks_with_a_read_phase(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, phases: Phases
) -> None:
    start = clock.now()
    send(engine, workspace.id, start, "ann", "viewed", start)
    seg_id = new_segment(engine, workspace.id, start, "viewed", VIEWED_THIS_WEEK)
    worker = Worker(engine, clock)
    assert worker.run_once()["segment_refresh"] == 1
    assert phases.calls == []  # the first computation: one write transaction
    now = clock.advance(8 * DAY)
    assert worker.run_once()["segment_refresh"] == 1
    assert phases.calls == [seg_id]
    assert transitions(engine, seg_id) == [("entered", "ann", start), ("exited", "ann", now)]


def test_postgresql_a_claim_in_progress_is_skipped_without_waiting(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    """PostgreSQL: while another worker's claim transaction holds the due segment, a
    re-check skips it at once (``SKIP LOCKED``) rather than waiting or taking it too."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises workers with its write lock, taken at BEGIN")
    start = clock.now()
    send(engine, workspace.id, start, "ann", "viewed", start)
    seg_id = new_segment(engine, workspace.id, start, "viewed", VIEWED_THIS_WEEK)
    assert recheck_due(engine, start) == 1
    now = clock.advance(8 * DAY)
    with engine.connect() as other:
        held = other.begin()
        claimed = membership._next_due(other, now, Scope())
        assert claimed is not None and claimed.id == seg_id
        assert recheck_due(engine, now) == 0
        held.rollback()
    assert recheck_due(engine, now) == 1
    assert transitions(engine, seg_id) == [("entered", "ann", start), ("exited", "ann", now)]
