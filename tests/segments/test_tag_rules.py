"""Tag rules, scenario style: submit events, run the worker as of an instant, assert who
carries the tag. A tag follows membership of its segment; segments testing the tag follow in
the same pass; rules that would loop are refused. The clock is driven, nothing sleeps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact, contact_change, contact_tag, tag
from kairos.errors import InvalidInput
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments.service import add_list_members, create_segment, remove_list_member, update_segment
from kairos.segments.tables import segment, segment_membership
from kairos.segments.tag_rules import create_tag_rule, delete_tag_rule
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace

BIG_SPENDER = {"root": {"type": "performed", "event": "Order Completed",
                        "where": [{"property": "revenue", "operator": "gt", "value": 50}],
                        "window": {"last": {"amount": 7, "unit": "days"}}}}  # fmt: skip
RECENT_VISITOR = {
    "root": {"type": "performed", "event": "Visited", "window": {"last": {"amount": 30, "unit": "days"}}}
}
TAGGED_VIP = {"root": {"type": "tag", "tag": "vip"}}


def track(engine: Engine, ws: int, clock: FixedClock, user: str, name: str, **props: Any) -> None:
    message = parse_message(
        {"type": "track", "userId": user, "event": name, "properties": props}, None, clock.now()
    )
    with engine.begin() as conn:
        ingest(conn, ws, [message], clock.now())


def tagged(engine: Engine, ws: int, name: str = "vip") -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(contact.c.external_id)
            .join(contact_tag, contact_tag.c.contact_id == contact.c.id)
            .join(tag, tag.c.id == contact_tag.c.tag_id)
            .where(tag.c.workspace_id == ws, tag.c.name == name)
        )
        return set(rows.scalars())


def members(engine: Engine, segment_id: int) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(contact.c.external_id)
            .join(segment_membership, segment_membership.c.contact_id == contact.c.id)
            .where(segment_membership.c.segment_id == segment_id)
        )
        return set(rows.scalars())


def make_segment(engine: Engine, ws: int, clock: FixedClock, name: str, definition: dict[str, Any]) -> int:
    with engine.begin() as conn:
        return int(create_segment(conn, ws, clock.now(), name=name, definition=definition)["id"])


def make_rule(engine: Engine, ws: int, clock: FixedClock, segment_id: int, tag_name: str = "vip") -> int:
    with engine.begin() as conn:
        return int(create_tag_rule(conn, ws, clock.now(), segment_id=segment_id, tag=tag_name)["id"])


def test_members_carry_the_tag_while_they_are_members(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    worker = Worker(engine, clock)
    spenders = make_segment(engine, workspace.id, clock, "Big spenders", BIG_SPENDER)
    vips = make_segment(engine, workspace.id, clock, "Tagged VIP", TAGGED_VIP)
    make_rule(engine, workspace.id, clock, spenders)
    track(engine, workspace.id, clock, "ann", "Signed Up")
    track(engine, workspace.id, clock, "bob", "Signed Up")
    worker.run_once()

    # Ann's order arrives: in one pass she enters, is tagged, and the segment testing the tag follows.
    clock.advance(timedelta(minutes=1))
    track(engine, workspace.id, clock, "ann", "Order Completed", revenue=80)
    track(engine, workspace.id, clock, "bob", "Order Completed", revenue=20)
    worker.run_once()
    assert members(engine, spenders) == {"ann"}
    assert tagged(engine, workspace.id) == {"ann"}
    assert members(engine, vips) == {"ann"}

    # Eight quiet days: she leaves, loses the tag, and leaves the tag's segment too.
    clock.advance(timedelta(days=8))
    worker.run_once()
    assert members(engine, spenders) == set()
    assert tagged(engine, workspace.id) == set()
    assert members(engine, vips) == set()


def test_a_new_rule_tags_current_members_and_a_deleted_one_leaves_its_tags(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    track(engine, workspace.id, clock, "ann", "Order Completed", revenue=80)
    spenders = make_segment(engine, workspace.id, clock, "Big spenders", BIG_SPENDER)
    Worker(engine, clock).run_once()
    with engine.begin() as conn:
        conn.execute(contact_change.delete())
    rule = make_rule(engine, workspace.id, clock, spenders)
    assert tagged(engine, workspace.id) == {"ann"}  # at once, not by the worker
    with engine.connect() as conn:  # queued, so segments testing the tag follow
        assert len(conn.execute(select(contact_change.c.contact_id)).all()) == 1

    with engine.begin() as conn:
        delete_tag_rule(conn, workspace.id, rule)
    clock.advance(timedelta(days=8))
    Worker(engine, clock).run_once()
    assert members(engine, spenders) == set()
    assert tagged(engine, workspace.id) == {"ann"}  # the rule stopped; it undid nothing


def test_an_exit_keeps_a_tag_another_rule_still_gives(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    worker = Worker(engine, clock)
    track(engine, workspace.id, clock, "ann", "Order Completed", revenue=80)
    track(engine, workspace.id, clock, "ann", "Visited")
    track(engine, workspace.id, clock, "bob", "Order Completed", revenue=90)
    spenders = make_segment(engine, workspace.id, clock, "Big spenders", BIG_SPENDER)
    visitors = make_segment(engine, workspace.id, clock, "Recent visitors", RECENT_VISITOR)
    make_rule(engine, workspace.id, clock, spenders)
    make_rule(engine, workspace.id, clock, visitors)
    worker.run_once()
    assert tagged(engine, workspace.id) == {"ann", "bob"}
    clock.advance(timedelta(days=8))
    worker.run_once()
    assert members(engine, spenders) == set() and members(engine, visitors) == {"ann"}
    assert tagged(engine, workspace.id) == {"ann"}


def test_static_lists_tag_on_add_and_untag_on_remove(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    track(engine, workspace.id, clock, "ann", "Signed Up")
    with engine.begin() as conn:
        lst = create_segment(conn, workspace.id, clock.now(), name="Press", kind="static")
        ann = conn.execute(select(contact.c.id)).scalar_one()
    make_rule(engine, workspace.id, clock, lst["id"], "press")
    with engine.begin() as conn:
        add_list_members(conn, workspace.id, lst["id"], [ann], clock.now())
    assert tagged(engine, workspace.id, "press") == {"ann"}
    with engine.begin() as conn:
        remove_list_member(conn, workspace.id, lst["id"], ann, clock.now())
    assert tagged(engine, workspace.id, "press") == set()


# --- loops ---------------------------------------------------------------------------------------


def stored_segment(engine: Engine, ws: int, clock: FixedClock, name: str, root: dict[str, Any]) -> int:
    """A segment row as saved, without compiling it: loops are about what definitions test."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(segment)
                .values(
                    workspace_id=ws,
                    name=name,
                    kind="dynamic",
                    definition={"schema_version": 1, "root": root},
                    time_dependent=False,
                    needs_refresh=True,
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
                .returning(segment.c.id)
            ).scalar_one()
        )


def tag_test(name: str, present: bool = True) -> dict[str, Any]:
    return {"type": "tag", "tag": name, "present": present}


def test_a_segment_testing_its_own_tag_is_refused(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    # Members would be tagged vip, stop matching "not vip", lose the tag, match again …
    not_vip = stored_segment(engine, workspace.id, clock, "Not yet VIP", {"type": "all", "conditions": [
        BIG_SPENDER["root"], {"type": "not", "condition": tag_test("vip")}]})  # fmt: skip
    with pytest.raises(InvalidInput) as err:
        make_rule(engine, workspace.id, clock, not_vip, "vip")
    assert err.value.code == "tag_rule_loop" and "'Not yet VIP'" in err.value.message
    make_rule(engine, workspace.id, clock, not_vip, "prospect")  # another tag is fine


def test_loops_through_other_rules_and_segments_are_refused(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    # a gives "x" to its members; b tests "x" and gives "y"; c follows b's membership and gives "z".
    a = stored_segment(
        engine,
        workspace.id,
        clock,
        "a",
        {"type": "any", "conditions": [tag_test("y", False), tag_test("z")]},
    )
    b = stored_segment(engine, workspace.id, clock, "b", tag_test("x"))
    c = stored_segment(engine, workspace.id, clock, "c", {"type": "segment", "segment_id": b})
    make_rule(engine, workspace.id, clock, a, "x")
    make_rule(engine, workspace.id, clock, c, "w")  # nothing tests "w"
    for seg, name in ((b, "y"), (c, "z")):  # a tests "y" and "z": each would close a loop
        with pytest.raises(InvalidInput) as err:
            make_rule(engine, workspace.id, clock, seg, name)
        assert err.value.code == "tag_rule_loop"
    # Editing a segment to test its own rule's tag is refused the same way.
    with pytest.raises(InvalidInput) as edit, engine.begin() as conn:
        update_segment(conn, workspace.id, c, clock.now(), {"definition": {"root": tag_test("w")}})
    assert edit.value.code == "tag_rule_loop"
    with engine.begin() as conn:
        update_segment(conn, workspace.id, c, clock.now(), {"definition": {"root": tag_test("v")}})


def test_rules_name_a_segment_of_their_workspace(
    engine: Engine, workspace: CreatedWorkspace, other_workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    theirs = make_segment(engine, other_workspace.id, clock, "Theirs", BIG_SPENDER)
    for segment_id, tag_name, code in (
        (theirs, "vip", "unknown_segment"),
        (999_999, "vip", "unknown_segment"),
    ):
        with pytest.raises(InvalidInput) as err:
            make_rule(engine, workspace.id, clock, segment_id, tag_name)
        assert err.value.code == code
    mine = make_segment(engine, workspace.id, clock, "Mine", BIG_SPENDER)
    with pytest.raises(InvalidInput) as bad:
        make_rule(engine, workspace.id, clock, mine, "no/slashes")
    assert bad.value.code == "invalid_tag"
