"""Live membership, scenario style: submit events, run the worker as of an instant, assert
who is in and which transitions were recorded. The clock is driven, nothing sleeps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.errors import InvalidInput
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments.service import create_segment, update_segment
from kairos.segments.tables import membership_transition, segment_membership
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace

VIEWED_A_THIS_WEEK = {
    "root": {
        "type": "performed",
        "event": "Product Viewed",
        "where": [{"property": "product_id", "operator": "eq", "value": "A"}],
        "window": {"last": {"amount": 7, "unit": "days"}},
    }
}


def track(engine: Engine, ws: int, clock: FixedClock, user: str, name: str, **props: Any) -> None:
    message = parse_message(
        {"type": "track", "userId": user, "event": name, "properties": props}, None, clock.now()
    )
    with engine.begin() as conn:
        ingest(conn, ws, [message], clock.now())


def members(engine: Engine, segment_id: int) -> set[str]:
    from kairos.contacts.tables import contact

    with engine.connect() as conn:
        rows = conn.execute(
            select(contact.c.external_id)
            .join(segment_membership, segment_membership.c.contact_id == contact.c.id)
            .where(segment_membership.c.segment_id == segment_id)
        )
        return set(rows.scalars())


def transitions(engine: Engine, segment_id: int) -> list[tuple[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(membership_transition.c.kind, membership_transition.c.at)
            .where(membership_transition.c.segment_id == segment_id)
            .order_by(membership_transition.c.id)
        )
        return [(kind, at) for kind, at in rows]


def test_enter_by_events_leave_by_time_reenter_incrementally(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    worker = Worker(engine, clock)
    track(engine, workspace.id, clock, "ann", "Product Viewed", product_id="A")
    track(engine, workspace.id, clock, "bob", "Product Viewed", product_id="B")
    with engine.begin() as conn:
        seg = create_segment(
            conn, workspace.id, clock.now(), name="Viewed A this week", definition=VIEWED_A_THIS_WEEK
        )
    assert seg["time_dependent"] is True
    worker.run_once()
    assert members(engine, seg["id"]) == {"ann"}
    assert transitions(engine, seg["id"]) == [("entered", clock.now())]

    # Eight days of silence: Ann leaves although nothing happened to her.
    left_at = clock.advance(timedelta(days=8))
    worker.run_once()
    assert members(engine, seg["id"]) == set()
    assert transitions(engine, seg["id"])[-1] == ("exited", left_at)

    # A minute later Bob views A: the changed-contacts path lets him in at once.
    clock.advance(timedelta(minutes=1))
    track(engine, workspace.id, clock, "bob", "Product Viewed", product_id="A")
    worker.run_once()
    assert members(engine, seg["id"]) == {"bob"}
    assert [k for k, _ in transitions(engine, seg["id"])] == ["entered", "exited", "entered"]


def test_changing_the_definition_recomputes_everyone(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    worker = Worker(engine, clock)
    for user, product in (("ann", "A"), ("bob", "B"), ("cy", "B")):
        track(engine, workspace.id, clock, user, "Product Viewed", product_id=product)
    with engine.begin() as conn:
        seg = create_segment(conn, workspace.id, clock.now(), name="A", definition=VIEWED_A_THIS_WEEK)
    worker.run_once()
    assert members(engine, seg["id"]) == {"ann"}
    changed = {
        "root": {
            **VIEWED_A_THIS_WEEK["root"],
            "where": [{"property": "product_id", "operator": "eq", "value": "B"}],
        }
    }
    with engine.begin() as conn:
        update_segment(conn, workspace.id, seg["id"], clock.now(), {"definition": changed})
    worker.run_once()
    assert members(engine, seg["id"]) == {"bob", "cy"}
    assert sorted(k for k, _ in transitions(engine, seg["id"])) == ["entered", "entered", "entered", "exited"]


def test_merged_contacts_leave_and_the_survivor_is_evaluated(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    worker = Worker(engine, clock)
    message = parse_message(
        {
            "type": "track",
            "anonymousId": "visitor",
            "event": "Product Viewed",
            "properties": {"product_id": "A"},
        },
        None,
        clock.now(),
    )
    with engine.begin() as conn:
        ingest(conn, workspace.id, [message], clock.now())
        seg = create_segment(conn, workspace.id, clock.now(), name="A", definition=VIEWED_A_THIS_WEEK)
    track(engine, workspace.id, clock, "known", "Signed In")
    worker.run_once()
    with engine.connect() as conn:
        before = set(conn.execute(select(segment_membership.c.contact_id)).scalars())
    identify = parse_message(
        {"type": "identify", "userId": "known", "anonymousId": "visitor"}, None, clock.now()
    )
    with engine.begin() as conn:
        ingest(conn, workspace.id, [identify], clock.now())
    worker.run_once()
    with engine.connect() as conn:
        after = set(conn.execute(select(segment_membership.c.contact_id)).scalars())
    assert len(before) == len(after) == 1
    assert members(engine, seg["id"]) == {
        "known"
    }  # the older (anonymous) contact survived and took the user id


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        (
            {
                "name": "x",
                "definition": {
                    "root": {"type": "attribute", "attribute": "age", "operator": "gt", "value": 1}
                },
            },
            "unknown_attribute",
        ),
        ({"name": "x", "definition": {"root": {"type": "nope"}}}, "invalid_definition"),
        ({"name": "x", "kind": "static", "definition": VIEWED_A_THIS_WEEK}, "invalid_definition"),
        ({"name": "  ", "definition": VIEWED_A_THIS_WEEK}, "invalid_name"),
    ],
)
def test_bad_segments_are_refused(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, kwargs: dict[str, Any], code: str
) -> None:
    with pytest.raises(InvalidInput) as err, engine.begin() as conn:
        create_segment(conn, workspace.id, clock.now(), **kwargs)
    assert err.value.code == code
