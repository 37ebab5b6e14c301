"""Two workers on the same due work: each job is claimed, so exactly one worker runs it.

On PostgreSQL the race is made deterministic: the first worker runs the job's pass and keeps
its transaction open (its claim held) while the second runs the same pass — the second must
find nothing to do, at once (a ``lock_timeout`` turns waiting on the first worker's rows
into a failure rather than a hang). On SQLite the write lock, taken at ``BEGIN IMMEDIATE``
before the job reads anything, serialises the two, which start together from a barrier.
Either way both then run until nothing is due, and the results are counted exactly."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, text

from kairos.campaigns.broadcasts import create_broadcast, run_broadcasts, schedule
from kairos.campaigns.tables import broadcast
from kairos.clock import FixedClock
from kairos.contacts.changes import process_changes
from kairos.contacts.service import mark_changed
from kairos.contacts.tables import contact
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.journeys.engine import VERSIONS, run_due
from kairos.journeys.entry import Candidate, enroll
from kairos.journeys.service import create_journey, publish
from kairos.journeys.tables import enrollment, journey_step
from kairos.journeys.triggers import scan_triggers
from kairos.messaging.service import create_template
from kairos.messaging.tables import message
from kairos.segments.membership import reevaluate_contacts, refresh_due
from kairos.segments.service import create_segment
from kairos.segments.tables import computed_trait_value, membership_transition, segment_membership
from kairos.segments.traits import create_trait, refresh_traits_due
from kairos.workspaces.service import CreatedWorkspace

Job = Callable[[Connection, datetime], int]
PEOPLE = 40
HAS_EMAIL = {"root": {"type": "attribute", "attribute": "email", "operator": "contains", "value": "@"}}


def two_workers(engine: Engine, job: Job, now: datetime) -> None:
    """Two workers run ``job``'s pass on the same due work at once, then until none is left."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as first, engine.connect() as second:
            held = first.begin()
            assert job(first, now) > 0  # the first worker claimed the work and holds it
            with second.begin():
                second.execute(text("SET LOCAL lock_timeout = '3s'"))
                assert job(second, now) == 0  # ... so the second skips it, without waiting
            held.commit()
    else:
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def run() -> None:
            start.wait()
            try:
                with engine.begin() as conn:
                    job(conn, now)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
    for _ in range(100):
        with engine.begin() as conn:
            if job(conn, now) == 0:
                return
    raise AssertionError("the job never ran out of work")


def people(engine: Engine, ws: int, now: datetime, n: int = PEOPLE) -> list[int]:
    with engine.begin() as conn:
        return list(
            conn.execute(
                insert(contact).returning(contact.c.id),
                [{"workspace_id": ws, "email": f"p{i}@example.com", "external_id": f"p{i}", "traits": {},
                  "score": 0, "created_at": now, "updated_at": now} for i in range(n)],
            ).scalars()
        )  # fmt: skip


def segment_with_everyone(engine: Engine, ws: int, now: datetime) -> int:
    with engine.begin() as conn:
        seg_id = int(create_segment(conn, ws, now, name="everyone", definition=HAS_EMAIL)["id"])
    with engine.begin() as conn:
        assert refresh_due(conn, now) == 1
    return seg_id


def transitions(engine: Engine, segment_id: int) -> Counter[tuple[str, int]]:
    with engine.connect() as conn:
        t = membership_transition.c
        return Counter(conn.execute(select(t.kind, t.contact_id).where(t.segment_id == segment_id)).all())


def test_one_worker_refreshes_a_segment(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    now = clock.now()
    ids = people(engine, workspace.id, now)
    with engine.begin() as conn:
        seg_id = create_segment(conn, workspace.id, now, name="everyone", definition=HAS_EMAIL)["id"]
    two_workers(engine, refresh_due, now)
    assert transitions(engine, seg_id) == Counter({("entered", cid): 1 for cid in ids})
    with engine.connect() as conn:
        assert conn.execute(
            select(func.count()).where(segment_membership.c.segment_id == seg_id)
        ).scalar_one() == len(ids)


def test_one_worker_recomputes_a_trait(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    now = clock.now()
    messages = [
        parse_message({"type": "track", "userId": f"u{i}", "event": "viewed", "messageId": f"m{i}-{k}"}, None, now)
        for i in range(PEOPLE) for k in range(2)
    ]  # fmt: skip
    with engine.begin() as conn:
        ingest(conn, workspace.id, messages, now)
        trait_id = create_trait(
            conn, workspace.id, now, name="views", definition={"function": "count", "event": "viewed"}
        )["id"]
    two_workers(engine, refresh_traits_due, now)
    with engine.connect() as conn:
        v = computed_trait_value.c
        values = conn.execute(select(v.number).where(v.trait_id == trait_id)).scalars().all()
    assert sorted(values) == [2] * PEOPLE


def test_one_worker_processes_each_changed_contact(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    now = clock.now()
    ids = people(engine, workspace.id, now)
    seg_id = segment_with_everyone(engine, workspace.id, now)
    with engine.begin() as conn:
        conn.execute(contact.update().where(contact.c.id.in_(ids[:10])).values(email=None, updated_at=now))
        mark_changed(conn, workspace.id, ids, now)
    two_workers(engine, lambda conn, at: process_changes(conn, at, [reevaluate_contacts]), now)
    expected = Counter({("entered", cid): 1 for cid in ids}) + Counter(
        {("exited", cid): 1 for cid in ids[:10]}
    )
    assert transitions(engine, seg_id) == expected


def welcome_journey(engine: Engine, ws: int, now: datetime, trigger: dict[str, Any]) -> tuple[int, int]:
    with engine.begin() as conn:
        j = create_journey(
            conn, ws, now, name="welcome", description=None, layout=None,
            definition={"trigger": trigger, "start": "tag",
                        "nodes": {"tag": {"type": "update_contact", "add_tags": ["welcomed"], "next": None}}},
        )  # fmt: skip
        return int(j["id"]), int(publish(conn, ws, j["id"], now)["version_id"])


def test_one_worker_scans_a_journey_trigger(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    now = clock.now()
    ids = people(engine, workspace.id, now)
    seg_id = segment_with_everyone(engine, workspace.id, now)
    journey_id, _ = welcome_journey(
        engine, workspace.id, now, {"type": "segment_entered", "segment_id": seg_id}
    )
    two_workers(engine, scan_triggers, now)
    with engine.connect() as conn:
        entered = Counter(
            conn.execute(
                select(enrollment.c.contact_id).where(enrollment.c.journey_id == journey_id)
            ).scalars()
        )
    assert entered == Counter(ids)  # each member once


def test_one_worker_moves_each_enrollment(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    now = clock.now()
    ids = people(engine, workspace.id, now)
    journey_id, version_id = welcome_journey(engine, workspace.id, now, {"type": "api"})
    with engine.begin() as conn:
        definition = VERSIONS.get(conn, version_id)[2]
        enroll(
            conn,
            workspace.id,
            journey_id,
            version_id,
            definition,
            [Candidate(c, f"api:{c}") for c in ids],
            now,
        )
    two_workers(engine, run_due, now)
    with engine.connect() as conn:
        steps = Counter(conn.execute(select(journey_step.c.enrollment_id, journey_step.c.node)).all())
        states = Counter(conn.execute(select(enrollment.c.state)).scalars())
    assert len(steps) == len(ids) and set(steps.values()) == {1}  # every step once
    assert states == Counter({"completed": len(ids)})


def test_one_worker_queues_a_broadcast(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    now = clock.now()
    ids = people(engine, workspace.id, now)
    seg_id = segment_with_everyone(engine, workspace.id, now)
    with engine.begin() as conn:
        tid = create_template(conn, workspace.id, now, name="hello", channel="email",
                              fields={"subject": "Hello", "format": "html", "body": "<p>Hi</p>"})["id"]  # fmt: skip
        b = create_broadcast(
            conn,
            workspace.id,
            now,
            {"name": "b", "channel": "email", "segment_id": seg_id, "template_id": tid},
        )
        schedule(conn, workspace.id, b["id"], now)
    two_workers(engine, run_broadcasts, now)
    with engine.connect() as conn:
        to = Counter(
            conn.execute(select(message.c.contact_id).where(message.c.source == "broadcast")).scalars()
        )
        row = conn.execute(select(broadcast).where(broadcast.c.id == b["id"])).one()
    assert to == Counter(ids)  # one message per recipient
    assert (row.status, row.audience, row.queued) == ("queued", len(ids), len(ids))


def test_a_contact_rechecked_during_a_full_refresh_leaves_the_segment_once(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    """A worker re-checks a changed contact of a segment while another worker's full refresh
    of that segment, which already took the contact out, has not committed: the re-check
    waits for it instead of recording the same exit a second time."""
    viewed = {
        "root": {"type": "performed", "event": "viewed", "window": {"last": {"amount": 7, "unit": "days"}}}
    }
    start = clock.now()
    with engine.begin() as conn:
        ingest(conn, workspace.id, [parse_message({"type": "track", "userId": "ann", "event": "viewed"}, None, start)],
               start)  # fmt: skip
        seg_id = create_segment(conn, workspace.id, start, name="viewed", definition=viewed)["id"]
    with engine.begin() as conn:
        assert refresh_due(conn, start) == 1  # Ann is in
        process_changes(conn, start)  # the queue is empty again
    now = clock.advance(timedelta(days=8))
    # Ann's phone sends a week-old event late: she is changed, and still out of the window.
    late = parse_message(
        {"type": "track", "userId": "ann", "event": "viewed", "timestamp": start.isoformat()}, None, now
    )
    with engine.begin() as conn:
        ingest(conn, workspace.id, [late], now)

    errors: list[BaseException] = []
    asked = threading.Event()

    def recheck() -> None:
        asked.set()
        try:
            with engine.begin() as conn:
                process_changes(conn, now, [reevaluate_contacts])
        except BaseException as exc:  # reported below
            errors.append(exc)

    with engine.connect() as full:
        held = full.begin()
        assert refresh_due(full, now) == 1  # the time refresh: Ann exits (not yet committed)
        other = threading.Thread(target=recheck)
        other.start()
        asked.wait(10)
        if engine.dialect.name == "postgresql":
            _until_blocked(engine)
        held.commit()
    other.join(timeout=60)
    assert not errors, errors
    ann = transitions(engine, seg_id)
    assert sorted(kind for kind, _ in ann.elements()) == ["entered", "exited"]


def _until_blocked(engine: Engine) -> None:
    """Until another session of this database waits for a lock (the second worker)."""
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                     " AND wait_event_type = 'Lock'")
            ).scalar_one()  # fmt: skip
            conn.rollback()
            if waiting:
                return
            time.sleep(0.01)  # watching another session reach its lock, not business time
    pytest.fail("the second worker never waited for the first")
