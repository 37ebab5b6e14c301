"""The scheduler moves a claimed batch set-based: enrollments that end a pass alike are saved
by one statement over their ids, yet each keeps its own history — when it reached its node,
whether its awaited event came, how many steps it has taken."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select

from kairos.clock import FixedClock
from kairos.contacts.changes import Change
from kairos.contacts.erasure import erase_contacts
from kairos.events.ingest import InternalEvent, record_internal
from kairos.journeys.engine import VERSIONS, run_due
from kairos.journeys.entry import Candidate, enroll
from kairos.journeys.tables import enrollment, journey, journey_step
from kairos.journeys.triggers import journey_changes
from kairos.messaging.consent import set_consent
from kairos.messaging.tables import message
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import T0, Api
from tests.journeys.conftest import journey as create_journey
from tests.messaging.conftest import SmtpServer, email_template, make_contact

HOUR = timedelta(hours=1)


def _rows(engine: Engine, journey_id: int) -> dict[int, Any]:
    with engine.connect() as conn:
        rows = conn.execute(select(enrollment).where(enrollment.c.journey_id == journey_id)).all()
    return {r.contact_id: r for r in rows}


def _run(engine: Engine, now: datetime) -> tuple[int, list[str]]:
    """``run_due`` in one transaction, with the UPDATE statements it sent to the database."""
    updates: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE ENROLLMENT"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with engine.begin() as conn:
            return run_due(conn, now), updates
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_a_batch_moves_in_one_statement_and_each_enrollment_keeps_its_own_times(
    api: Api, engine: Engine, workspace: CreatedWorkspace
) -> None:
    jid = create_journey(api, {
        "trigger": {"type": "api"},
        "start": "pause",
        "nodes": {
            "pause": {"type": "wait", "duration": {"amount": 1, "unit": "hours"}, "next": "hold"},
            "hold": {"type": "wait_for_event", "event": "Clicked", "timeout": {"amount": 1, "unit": "days"},
                     "next": "thanks", "timeout_next": None},
            "thanks": {"type": "send", "channel": "email", "template_id": email_template(api), "next": None},
        },
    })  # fmt: skip
    a, b, c = (make_contact(api, external_id=x, email=f"{x}@example.com") for x in "abc")
    ws = workspace.id
    with engine.begin() as conn:
        version_id = conn.execute(select(journey.c.version_id).where(journey.c.id == jid)).scalar_one()
        definition = VERSIONS.get(conn, version_id)[2]
        enroll(conn, ws, jid, version_id, definition, [Candidate(a, "api:a"), Candidate(b, "api:b")], T0)
    with engine.begin() as conn:
        enroll(conn, ws, jid, version_id, definition, [Candidate(c, "api:c")], T0 + 10 * timedelta(minutes=1))

    # all three start waiting alike: one statement, but each keeps the time it arrived
    now = T0 + timedelta(minutes=10)
    moved, updates = _run(engine, now)
    assert (moved, len(updates)) == (3, 1)
    rows = _rows(engine, jid)
    assert {cid: (r.node, r.phase, r.steps, r.resume_at) for cid, r in rows.items()} == {
        cid: ("pause", "wait", 1, now + HOUR) for cid in (a, b, c)
    }
    assert {cid: r.node_at for cid, r in rows.items()} == {a: T0, b: T0, c: now}

    # an hour later they reach "hold" together: node_at is now for each, the timer is a day
    now = T0 + HOUR + timedelta(minutes=10)
    assert _run(engine, now)[0] == 3
    rows = _rows(engine, jid)
    assert {
        cid: (r.node, r.phase, r.steps, r.node_at, r.wait_event, r.resume_at) for cid, r in rows.items()
    } == {cid: ("hold", "wait", 3, now, "Clicked", now + timedelta(days=1)) for cid in (a, b, c)}
    reached_hold = now

    # a clicks: woken, it takes the event branch, is sent the email and completes
    now = T0 + 2 * HOUR
    with engine.begin() as conn:
        record_internal(conn, ws, [InternalEvent(a, "Clicked", {}, now, "kairos-test-click-a")], now)
        journey_changes(conn, {ws: {a: Change(events=frozenset({"Clicked"}))}}, now)
    assert _rows(engine, jid)[a].woken_at == now
    assert _run(engine, now)[0] == 1
    rows = _rows(engine, jid)
    assert (rows[a].state, rows[a].node, rows[a].steps, rows[a].woken_at, rows[a].node_at) == (
        "completed",
        None,
        5,
        None,
        now,
    )
    assert (rows[b].state, rows[b].steps, rows[b].woken_at) == ("active", 3, None)

    # b and c time out together: completed where they were, node_at untouched
    now = reached_hold + timedelta(days=1)
    moved, updates = _run(engine, now)
    assert (moved, len(updates)) == (2, 1)
    rows = _rows(engine, jid)
    assert {
        cid: (r.state, r.node, r.steps, r.node_at, r.resume_at, r.ended_at) for cid, r in rows.items()
    } == {
        a: ("completed", None, 5, T0 + 2 * HOUR, None, T0 + 2 * HOUR),
        b: ("completed", None, 4, reached_hold, None, now),
        c: ("completed", None, 4, reached_hold, None, now),
    }
    with engine.connect() as conn:
        steps = conn.execute(
            select(
                journey_step.c.contact_id, journey_step.c.node, journey_step.c.outcome, journey_step.c.detail
            )
            .where(journey_step.c.journey_id == jid)
            .order_by(journey_step.c.id)
        ).all()
        [(mid, to)] = conn.execute(
            select(message.c.id, message.c.contact_id).where(message.c.source == "journey")
        ).all()
    assert to == a
    assert [(n, o) for cid, n, o, _ in steps if cid == a] == [
        ("pause", "waiting"),
        ("pause", "next"),
        ("hold", "waiting"),
        ("hold", "event"),
        ("thanks", "next"),
    ]
    assert [d for cid, n, _, d in steps if cid == a and n == "thanks"] == [{"message_id": mid}]
    assert [(n, o) for cid, n, o, _ in steps if cid == b] == [
        ("pause", "waiting"),
        ("pause", "next"),
        ("hold", "waiting"),
        ("hold", "timeout"),
    ]


def test_contacts_erased_or_unsubscribed_while_they_wait_are_not_sent_to(
    api: Api,
    engine: Engine,
    workspace: CreatedWorkspace,
    email_channel: dict[str, Any],
    smtp: SmtpServer,
    worker: Worker,
    clock: FixedClock,
) -> None:
    """The send step queues without counting the contacts again (the enrollments name them):
    an erased contact's enrollment is gone with it, and an unsubscribed one's message is
    queued and then skipped when the dispatcher applies consent."""
    jid = create_journey(api, {
        "trigger": {"type": "api"},
        "start": "pause",
        "nodes": {
            "pause": {"type": "wait", "duration": {"amount": 1, "unit": "hours"}, "next": "mail"},
            "mail": {"type": "send", "channel": "email", "template_id": email_template(api), "next": None},
        },
    })  # fmt: skip
    a, b, c = (make_contact(api, external_id=x, email=f"{x}@example.com") for x in "abc")
    ws = workspace.id
    with engine.begin() as conn:
        version_id = conn.execute(select(journey.c.version_id).where(journey.c.id == jid)).scalar_one()
        definition = VERSIONS.get(conn, version_id)[2]
        enroll(conn, ws, jid, version_id, definition, [Candidate(x, f"api:{x}") for x in (a, b, c)], T0)
    assert _run(engine, T0)[0] == 3
    with engine.begin() as conn:
        set_consent(conn, ws, b, "channel:email", "unsubscribed", T0 + HOUR / 2, source="test")
        erase_contacts(conn, ws, [c])
    assert _run(engine, T0 + 2 * HOUR)[0] == 2
    with engine.connect() as conn:
        queued = dict(conn.execute(select(message.c.contact_id, message.c.status)).all())
    assert queued == {a: "queued", b: "queued"}
    assert set(_rows(engine, jid)) == {a, b}

    clock.set(T0 + 2 * HOUR)
    worker.run_once()
    with engine.connect() as conn:
        after = {r.contact_id: (r.status, r.reason) for r in conn.execute(select(message))}
    assert after == {a: ("sent", None), b: ("skipped", "unsubscribed")}
    assert [m.rcpt_tos for m in smtp.recorder.received] == [["a@example.com"]]
