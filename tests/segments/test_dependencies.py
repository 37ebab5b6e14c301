"""The dependency index and segments of segments, scenario style: a changed contact is
re-checked only against segments that depend on what changed; a segment built on another
follows it within the same worker pass; references are checked when saved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.contacts.changes import Change, what_changed
from kairos.contacts.service import mark_changed
from kairos.contacts.tables import contact
from kairos.contacts.tags import add_tags
from kairos.errors import Conflict, InvalidInput
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.segments import membership, traits
from kairos.segments.service import add_list_members, create_segment, delete_segment, update_segment
from kairos.segments.tables import segment_membership
from kairos.segments.traits import create_trait
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.segments.test_membership import VIEWED_A_THIS_WEEK, members, track

ORDERED = {"root": {"type": "performed", "event": "Order Completed"}}


def send(engine: Engine, ws: int, clock: FixedClock, body: dict[str, Any]) -> None:
    with engine.begin() as conn:
        ingest(conn, ws, [parse_message(body, None, clock.now())], clock.now())


def contact_id(engine: Engine, external_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(contact.c.id).where(contact.c.external_id == external_id)).scalar_one()
        )


def test_what_changed_is_read_from_the_data(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ws = workspace.id
    send(engine, ws, clock, {"type": "track", "userId": "old", "event": "Signed Up"})
    send(engine, ws, clock, {"type": "identify", "userId": "trait", "traits": {"plan": "pro"}})
    Worker(engine, clock).run_once()  # everyone processed once
    clock.advance(timedelta(minutes=1))
    send(engine, ws, clock, {"type": "track", "userId": "old", "event": "Page Viewed"})
    send(engine, ws, clock, {"type": "track", "userId": "old", "event": "Order Completed"})
    send(engine, ws, clock, {"type": "identify", "userId": "trait", "traits": {"plan": "free"}})
    send(engine, ws, clock, {"type": "track", "userId": "new", "event": "Page Viewed"})
    old, trait, new = (contact_id(engine, u) for u in ("old", "trait", "new"))
    with engine.connect() as conn:
        changes = what_changed(conn, [old, trait, new])
    assert changes[old] == Change(frozenset({"Page Viewed", "Order Completed"}))
    assert changes[trait].profile and not changes[trait].everything
    assert changes[new].everything


def test_only_segments_depending_on_what_changed_are_rechecked(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = Worker(engine, clock)
    with engine.begin() as conn:
        orders = create_segment(conn, workspace.id, clock.now(), name="orders", definition=ORDERED)
        views = create_segment(conn, workspace.id, clock.now(), name="views", definition=VIEWED_A_THIS_WEEK)
        vip = create_segment(
            conn, workspace.id, clock.now(), name="vip", definition={"root": {"type": "tag", "tag": "vip"}}
        )
    track(engine, workspace.id, clock, "ann", "Product Viewed", product_id="B")
    worker.run_once()
    rechecked: list[str] = []
    real = membership.refresh

    def spy(conn: Any, seg: Any, now: Any, contact_ids: Any = None) -> Any:
        rechecked.append(seg.name)
        return real(conn, seg, now, contact_ids)

    monkeypatch.setattr(membership, "refresh", spy)
    clock.advance(timedelta(minutes=1))
    track(engine, workspace.id, clock, "ann", "Product Viewed", product_id="A")
    worker.run_once()
    assert rechecked == ["views"]
    assert members(engine, views["id"]) == {"ann"} and members(engine, orders["id"]) == set()

    rechecked.clear()
    clock.advance(timedelta(minutes=1))
    ann = contact_id(engine, "ann")
    with engine.begin() as conn:  # a tag is a profile change: only the tag segment cares
        add_tags(conn, workspace.id, [(ann, "vip")], clock.now())
        mark_changed(conn, workspace.id, [ann], clock.now())
    worker.run_once()
    assert rechecked == ["vip"]
    assert members(engine, vip["id"]) == {"ann"}


def test_a_segment_of_a_segment_follows_it_in_the_same_pass(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    worker = Worker(engine, clock)
    with engine.begin() as conn:
        viewers = create_segment(
            conn, workspace.id, clock.now(), name="viewers", definition=VIEWED_A_THIS_WEEK
        )
        not_buyers = create_segment(conn, workspace.id, clock.now(), name="viewers, no order", definition={
            "root": {"type": "all", "conditions": [
                {"type": "segment", "segment_id": viewers["id"]},
                {"type": "not_performed", "event": "Order Completed"},
            ]}})  # fmt: skip
    worker.run_once()
    track(engine, workspace.id, clock, "ann", "Product Viewed", product_id="A")
    assert worker.run_once()["contact_changes"] == 1  # one pass for both segments
    assert members(engine, not_buyers["id"]) == {"ann"}

    # Ann leaves the viewers by time alone; the full refresh carries her out of both.
    clock.advance(timedelta(days=8))
    worker.run_once()
    assert members(engine, viewers["id"]) == set() and members(engine, not_buyers["id"]) == set()


def test_references_are_checked_when_saved(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    now = clock.now()
    with engine.begin() as conn:
        a = create_segment(conn, workspace.id, now, name="a", definition=ORDERED)
        b = create_segment(
            conn, workspace.id, now, name="b", definition={"root": {"type": "segment", "segment_id": a["id"]}}
        )

    def refer(segment_id: int) -> dict[str, Any]:
        return {"root": {"type": "all", "conditions": [{"type": "segment", "segment_id": segment_id}]}}

    with pytest.raises(InvalidInput) as err, engine.begin() as conn:
        update_segment(conn, workspace.id, a["id"], now, {"definition": refer(b["id"])})
    assert err.value.code == "segment_cycle"
    assert err.value.message.startswith("root.conditions[0].segment_id:")
    with pytest.raises(InvalidInput) as err, engine.begin() as conn:
        update_segment(conn, workspace.id, a["id"], now, {"definition": refer(a["id"])})
    assert err.value.code == "segment_cycle"
    with pytest.raises(InvalidInput) as err, engine.begin() as conn:
        create_segment(conn, workspace.id, now, name="c", definition=refer(b["id"] + 100))
    assert err.value.code == "unknown_segment"
    with pytest.raises(Conflict) as conflict, engine.begin() as conn:
        delete_segment(conn, workspace.id, a["id"])
    assert conflict.value.code == "segment_in_use"


def test_a_merged_contact_stays_on_static_lists_as_its_survivor(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    send(engine, workspace.id, clock, {"type": "track", "anonymousId": "visitor", "event": "Page Viewed"})
    send(engine, workspace.id, clock, {"type": "track", "userId": "known", "event": "Page Viewed"})
    with engine.connect() as conn:
        ids = dict(conn.execute(select(contact.c.id, contact.c.external_id)).all())
    known = next(cid for cid, ext in ids.items() if ext == "known")
    with engine.begin() as conn:
        vips = create_segment(conn, workspace.id, clock.now(), name="list", kind="static")
        add_list_members(conn, workspace.id, vips["id"], [known], clock.now())
    send(engine, workspace.id, clock, {"type": "identify", "userId": "known", "anonymousId": "visitor"})
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(segment_membership.c.contact_id).where(segment_membership.c.segment_id == vips["id"])
            )
            .scalars()
            .all()
        )
        survivor = conn.execute(
            select(contact.c.id).where(contact.c.external_id == "known", contact.c.merged_into.is_(None))
        ).scalar_one()
    assert rows == [survivor]


def test_traits_are_recomputed_only_for_their_events(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = Worker(engine, clock)
    with engine.begin() as conn:
        create_trait(conn, workspace.id, clock.now(), name="spent", definition={
            "event": "Order Completed", "function": "sum", "property": "revenue"})  # fmt: skip
    track(engine, workspace.id, clock, "ann", "Order Completed", revenue=30)
    worker.run_once()
    recomputed: list[str] = []
    real = traits.recompute

    def spy(conn: Any, trait: Any, now: Any, contact_ids: Any = None) -> Any:
        recomputed.append(trait.name)
        return real(conn, trait, now, contact_ids)

    monkeypatch.setattr(traits, "recompute", spy)
    clock.advance(timedelta(minutes=1))
    track(engine, workspace.id, clock, "ann", "Page Viewed")
    worker.run_once()
    assert recomputed == []
    track(engine, workspace.id, clock, "ann", "Order Completed", revenue=12)
    worker.run_once()
    assert recomputed == ["spent"]
    ann = contact_id(engine, "ann")
    with engine.connect() as conn:
        assert traits.traits_of(conn, [ann])[ann]["spent"] == 42
