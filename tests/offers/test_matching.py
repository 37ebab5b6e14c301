"""Matching, assignment and redemption, scenario style: contacts act, the clock is driven,
offers are matched, given and redeemed by orders, and every decision is explained."""

from __future__ import annotations

import base64
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, select

from kairos.clock import FixedClock
from kairos.contacts.changes import process_changes
from kairos.offers.assignment import assign
from kairos.offers.codes import generate_codes, import_codes
from kairos.offers.matching import best_offers, explain
from kairos.offers.redemption import redeem_coupons
from kairos.offers.tables import coupon, offer_assignment
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.offers.test_offers import make_offer, track

VIEWED_SHOES = {"type": "performed", "event": "Product Viewed",
                "where": [{"property": "category", "operator": "eq", "value": "shoes"}],
                "window": {"last": {"amount": 7, "unit": "days"}}}  # fmt: skip


def reasons(engine: Engine, ws: int, contact_id: int, clock: FixedClock) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(v.key, v.reason) for v in explain(conn, ws, contact_id, clock.now()).offers]


def best(engine: Engine, ws: int, contacts: list[int], clock: FixedClock, **kw: Any) -> dict[int, str | None]:
    with engine.connect() as conn:
        found = best_offers(conn, ws, contacts, clock.now(), **kw)
    return {cid: m.key if m else None for cid, m in found.items()}


def give(engine: Engine, ws: int, offer_id: int, contacts: list[int], clock: FixedClock) -> Any:
    with engine.begin() as conn:
        return assign(conn, ws, offer_id, contacts, clock.now())


def add_codes(engine: Engine, ws: int, offer_id: int, clock: FixedClock, count: int) -> None:
    with engine.begin() as conn:
        generate_codes(conn, ws, offer_id, clock.now(), count=count)


def redeem(engine: Engine, clock: FixedClock) -> None:
    with engine.begin() as conn:
        process_changes(conn, clock.now(), [redeem_coupons])


# --- matching ----------------------------------------------------------------------------


def test_matching_picks_by_eligibility_then_priority_and_explains_every_offer(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ws = workspace.id
    ids = track(engine, ws, clock, ["ann"], "Product Viewed", category="shoes")
    ids |= track(engine, ws, clock, ["bob"], "Product Viewed", category="bags")
    ann, bob = ids["ann"], ids["bob"]
    day = timedelta(days=1)
    make_offer(
        engine,
        ws,
        clock,
        "shoes-10",
        kind="discount_percent",
        value=10,
        priority=10,
        eligibility=VIEWED_SHOES,
    )
    make_offer(
        engine,
        ws,
        clock,
        "vip-20",
        kind="discount_percent",
        value=20,
        priority=20,
        eligibility={"type": "tag", "tag": "vip"},
    )
    make_offer(engine, ws, clock, "ship", kind="free_shipping")
    make_offer(engine, ws, clock, "tie", priority=10)  # same priority as shoes-10, younger
    make_offer(engine, ws, clock, "paused", priority=50, status="paused")
    make_offer(engine, ws, clock, "empty", priority=45, coupon_mode="pool")
    make_offer(engine, ws, clock, "later", priority=40, starts_at=clock.now() + day)
    make_offer(
        engine, ws, clock, "gone", priority=30, starts_at=clock.now() - 2 * day, ends_at=clock.now() - day
    )
    archived = make_offer(engine, ws, clock, "archived", priority=99)
    assert api.delete(f"/offers/{archived['id']}").status_code == 204

    assert best(engine, ws, [ann, bob], clock) == {ann: "shoes-10", bob: "tie"}
    assert best(engine, ws, [ann, bob], clock, offer_keys=["ship", "vip-20"]) == {ann: "ship", bob: "ship"}
    assert best(engine, ws, [ann], clock, offer_keys=["vip-20"]) == {ann: None}
    assert reasons(engine, ws, ann, clock) == [
        ("paused", "inactive"), ("empty", "no_codes_left"), ("later", "not_started"), ("gone", "expired"),
        ("vip-20", "not_eligible"), ("shoes-10", "chosen"), ("tie", "outranked"), ("ship", "outranked"),
    ]  # fmt: skip
    assert [r for r in reasons(engine, ws, bob, clock) if r[1] in ("chosen", "not_eligible")] == [
        ("vip-20", "not_eligible"), ("shoes-10", "not_eligible"), ("tie", "chosen"),
    ]  # fmt: skip

    r = api.post("/offers/match", {"contact_id": ann})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["chosen"]["key"], body["chosen"]["value"]) == ("shoes-10", 10.0)
    verdicts = {v["key"]: v for v in body["offers"]}
    assert verdicts["vip-20"]["eligibility"]["holds"] is False  # the condition tree, node by node
    assert verdicts["shoes-10"]["eligibility"]["holds"] is True
    assert verdicts["later"]["detail"].startswith("the offer starts at 2026-03-03")
    assert verdicts["tie"]["eligibility"] is None
    r = api.post("/offers/match", {"contact_id": 999_999})
    assert (r.status_code, r.json()["code"]) == (404, "contact_not_found")


def test_matching_costs_one_query_per_offer_not_per_contact(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ws = workspace.id
    many = list(
        track(engine, ws, clock, [f"u{i}" for i in range(400)], "Product Viewed", category="shoes").values()
    )
    for i in range(5):
        make_offer(engine, ws, clock, f"o{i}", priority=i, eligibility={"type": "tag", "tag": f"t{i}"})
    make_offer(engine, ws, clock, "shoes", priority=-1, eligibility=VIEWED_SHOES)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        few = best(engine, ws, many[:3], clock)
        n_few = len(statements)
        statements.clear()
        everyone = best(engine, ws, many, clock)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert set(few.values()) == set(everyone.values()) == {"shoes"}
    assert len(statements) == n_few <= 6 + 8  # one per offer, a few per batch (the compile context)


def test_validity_window_follows_the_clock(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ann = track(engine, workspace.id, clock, ["ann"], "Signed Up")["ann"]
    start = clock.now() + timedelta(days=1)
    spring = make_offer(
        engine, workspace.id, clock, "spring", starts_at=start, ends_at=start + timedelta(days=2)
    )
    assert best(engine, workspace.id, [ann], clock) == {ann: None}
    assert reasons(engine, workspace.id, ann, clock) == [("spring", "not_started")]
    assert give(engine, workspace.id, spring["id"], [ann], clock).refused == {ann: "not_started"}
    clock.set(start)
    assert best(engine, workspace.id, [ann], clock) == {ann: "spring"}
    clock.set(start + timedelta(days=2))  # ends_at is exclusive
    assert reasons(engine, workspace.id, ann, clock) == [("spring", "expired")]
    assert give(engine, workspace.id, spring["id"], [ann], clock).refused == {ann: "expired"}


# --- assignment --------------------------------------------------------------------------


def test_assignment_is_idempotent(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ann = track(engine, workspace.id, clock, ["ann"], "Signed Up")["ann"]
    pool = api.post("/offers", {"key": "shoes-10", "name": "10% off shoes", "kind": "discount_percent",
                                "value": 10, "coupon_mode": "pool"}).json()  # fmt: skip
    add_codes(engine, workspace.id, pool["id"], clock, 3)
    first = api.post(f"/offers/{pool['id']}/assign", {"contact_id": ann})
    again = api.post(f"/offers/{pool['id']}/assign", {"contact_id": ann})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["code"] == again.json()["code"] and first.json()["id"] == again.json()["id"]
    assert (first.json()["new"], again.json()["new"], again.json()["nth"]) == (True, False, 1)
    assert first.json()["offer"] == {"key": "shoes-10", "name": "10% off shoes", "description": None,
                                     "kind": "discount_percent", "value": 10.0, "currency": None,
                                     "ends_at": None, "code": first.json()["code"]}  # fmt: skip
    assert api.get(f"/offers/{pool['id']}").json()["codes"] == {
        "total": 3,
        "free": 2,
        "assigned": 1,
        "redeemed": 0,
    }
    assert reasons(engine, workspace.id, ann, clock) == [("shoes-10", "already_given")]
    r = api.post(f"/offers/{pool['id']}/assign", {"contact_id": 999_999})
    assert (r.status_code, r.json()["code"]) == (404, "contact_not_found")
    assert api.post("/offers/999/assign", {"contact_id": ann}).status_code == 404


def test_a_pool_of_600_serves_600_of_1000_contacts_exactly_once(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ws = workspace.id
    contacts = sorted(track(engine, ws, clock, [f"u{i}" for i in range(1000)], "Signed Up").values())
    pool = make_offer(engine, ws, clock, "pool", coupon_mode="pool")
    add_codes(engine, ws, pool["id"], clock, 600)

    result = give(engine, ws, pool["id"], contacts, clock)
    assert len(result.assigned) == 600 and len(result.refused) == 400
    assert set(result.refused.values()) == {"no_codes_left"}
    codes = {cid: a.code for cid, a in result.assigned.items()}
    assert len(set(codes.values())) == 600 and all(a.new for a in result.assigned.values())

    again = give(engine, ws, pool["id"], contacts, clock)
    assert {cid: a.code for cid, a in again.assigned.items()} == codes
    assert not any(a.new for a in again.assigned.values()) and again.refused == result.refused
    with engine.connect() as conn:
        rows = conn.execute(
            select(coupon.c.contact_id, coupon.c.code).where(coupon.c.assigned_at.is_not(None))
        )
        assert dict(rows.all()) == codes
        assert len(conn.execute(select(offer_assignment.c.id)).all()) == 600
    assert api.get(f"/offers/{pool['id']}").json()["codes"] == {
        "total": 600,
        "free": 0,
        "assigned": 600,
        "redeemed": 0,
    }
    unserved = next(iter(result.refused))
    assert reasons(engine, ws, unserved, clock) == [("pool", "no_codes_left")]
    r = api.post(f"/offers/{pool['id']}/assign", {"contact_id": unserved})
    assert (r.status_code, r.json()["code"]) == (409, "no_codes_left")


def test_total_limit_static_and_codeless_offers(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ws = workspace.id
    ids = track(engine, ws, clock, ["ann", "bob", "cy"], "Signed Up")
    ann, bob, cy = ids["ann"], ids["bob"], ids["cy"]
    welcome = make_offer(
        engine, ws, clock, "welcome", coupon_mode="static", static_code="welcome5", total_limit=2
    )
    result = give(engine, ws, welcome["id"], [cy, bob, ann], clock)
    assert {cid: a.code for cid, a in result.assigned.items()} == {ann: "WELCOME5", bob: "WELCOME5"}
    assert result.refused == {cy: "sold_out"}
    assert best(engine, ws, [cy], clock) == {cy: None}
    assert reasons(engine, ws, cy, clock) == [("welcome", "sold_out")]

    gift = make_offer(engine, ws, clock, "gift")
    result = give(engine, ws, gift["id"], [ann], clock)
    assert result.assigned[ann].code is None and result.assigned[ann].template()["code"] is None


def test_per_contact_limit_gives_a_next_code_only_after_redemption(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ws = workspace.id
    ann = track(engine, ws, clock, ["ann"], "Signed Up")["ann"]
    redeem(engine, clock)
    pool = make_offer(engine, ws, clock, "twice", coupon_mode="pool", per_contact_limit=2)
    add_codes(engine, ws, pool["id"], clock, 5)
    first = give(engine, ws, pool["id"], [ann], clock).assigned[ann]
    assert give(engine, ws, pool["id"], [ann], clock).assigned[ann].code == first.code  # held, unredeemed
    assert reasons(engine, ws, ann, clock) == [("twice", "already_given")]

    order(api, workspace, "ann", coupon=first.code)
    redeem(engine, clock)
    assert reasons(engine, ws, ann, clock) == [("twice", "chosen")]
    second = give(engine, ws, pool["id"], [ann], clock).assigned[ann]
    assert (second.nth, second.new) == (2, True) and second.code != first.code
    order(api, workspace, "ann", coupon=second.code)
    redeem(engine, clock)
    assert give(engine, ws, pool["id"], [ann], clock).refused == {ann: "already_given"}
    with engine.connect() as conn:
        verdict = explain(conn, ws, ann, clock.now()).offers[0]
    assert verdict.detail == "given 2 time(s), the most per contact"


def overlapping_assigns(
    engine: Engine, ws: int, offer_id: int, first: int, second: int, clock: FixedClock
) -> tuple[Any, Any]:
    """Assign ``first`` in a transaction that stays open while ``second`` is assigned in
    another; then commit both. Returns both assignments."""
    got: dict[str, Any] = {}
    holding, release = threading.Event(), threading.Event()

    def one() -> None:
        with engine.begin() as conn:
            got["first"] = assign(conn, ws, offer_id, [first], clock.now()).assigned[first]
            holding.set()
            release.wait(10)

    def two() -> None:
        holding.wait(10)
        with engine.begin() as conn:
            got["second"] = assign(conn, ws, offer_id, [second], clock.now()).assigned[second]

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for t in threads:
        t.start()
    holding.wait(10)
    time.sleep(0.3)  # lets the second transaction reach the row (or lock) the first holds
    release.set()
    for t in threads:
        t.join(10)
    return got["first"], got["second"]


def test_concurrent_assignments_are_exactly_once_and_never_share_a_code(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    """Two transactions at once: the same contact gets one assignment (the second waits for
    the first and takes its row); different contacts get different codes."""
    ws = workspace.id
    ids = track(engine, ws, clock, ["ann", "bob"], "Signed Up")
    pool = make_offer(engine, ws, clock, "pool", coupon_mode="pool")
    add_codes(engine, ws, pool["id"], clock, 10)
    first, second = overlapping_assigns(engine, ws, pool["id"], ids["ann"], ids["ann"], clock)
    assert (second.code, second.id) == (first.code, first.id)
    first, second = overlapping_assigns(engine, ws, pool["id"], ids["ann"], ids["bob"], clock)
    assert second.code != first.code
    with engine.connect() as conn:
        held = (
            conn.execute(select(coupon.c.contact_id).where(coupon.c.assigned_at.is_not(None))).scalars().all()
        )
    assert sorted(held) == sorted(ids.values())


# --- redemption --------------------------------------------------------------------------


def order(
    api: Api, workspace: CreatedWorkspace, user: str, event_name: str = "Order Completed", **props: Any
) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{workspace.write_key}:".encode()).decode()}
    r = api.http.post(
        "/v1/track", json={"userId": user, "event": event_name, "properties": props}, headers=auth
    )
    assert r.status_code == 200, r.text


def test_an_order_with_the_code_redeems_it_once(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ws = workspace.id
    ids = track(engine, ws, clock, ["ann", "bob", "cy"], "Signed Up")
    redeem(engine, clock)
    pool = make_offer(engine, ws, clock, "pool", coupon_mode="pool")
    add_codes(engine, ws, pool["id"], clock, 5)
    given = give(engine, ws, pool["id"], [ids["ann"], ids["bob"]], clock).assigned
    ann_code, bob_code = given[ids["ann"]].code, given[ids["bob"]].code
    assert ann_code and bob_code

    clock.advance(timedelta(hours=2))
    order(api, workspace, "ann", coupon=ann_code.lower(), revenue=80, order_id="A-1")  # any case
    order(api, workspace, "cy", "Checkout Completed", coupon_code=bob_code)  # bob's code, used by cy
    order(api, workspace, "bob", coupon="NOT-OURS")  # a code only the shop knows
    redeem(engine, clock)
    with engine.connect() as conn:
        rows = {r.code: r for r in conn.execute(select(coupon).where(coupon.c.redeemed_at.is_not(None)))}
        assigned = {r.contact_id: r for r in conn.execute(select(offer_assignment))}
    assert set(rows) == {ann_code, bob_code}
    first = rows[ann_code]
    assert (first.redeemed_by, first.redeemed_at) == (ids["ann"], clock.now())
    assert rows[bob_code].redeemed_by == ids["cy"]  # the shop accepted it; we record who used it
    assert assigned[ids["ann"]].redemption_event_id == first.redemption_event_id is not None
    assert assigned[ids["bob"]].redeemed_at == clock.now()

    clock.advance(timedelta(days=1))
    order(api, workspace, "ann", coupon=ann_code)  # the same code again: the first redemption stays
    order(api, workspace, "bob", "order_completed", coupon=ann_code)
    redeem(engine, clock)
    with engine.connect() as conn:
        again = conn.execute(select(coupon).where(coupon.c.code == ann_code)).one()
    assert (again.redeemed_at, again.redemption_event_id, again.redeemed_by) == (
        first.redeemed_at, first.redemption_event_id, ids["ann"],
    )  # fmt: skip
    assert api.get(f"/offers/{pool['id']}").json()["codes"] == {
        "total": 5,
        "free": 3,
        "assigned": 0,
        "redeemed": 2,
    }
    assert api.get(f"/offers/{pool['id']}").json()["redeemed"] == 2
    listed = api.get(f"/offers/{pool['id']}/codes", params={"status": "redeemed"}).json()["data"]
    assert {c["code"] for c in listed} == {ann_code, bob_code}
    # the order that used each code, for the console's redemptions list
    assert {c["code"]: c["order_id"] for c in listed} == {ann_code: "A-1", bob_code: None}


def test_a_static_code_redeems_the_orderers_own_assignment(
    api: Api, engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    ws = workspace.id
    ids = track(engine, ws, clock, ["ann", "bob"], "Signed Up")
    redeem(engine, clock)
    welcome = make_offer(engine, ws, clock, "welcome", coupon_mode="static", static_code="HELLO10")
    give(engine, ws, welcome["id"], [ids["ann"]], clock)
    other = make_offer(engine, ws, clock, "imported", coupon_mode="pool")
    with engine.begin() as conn:
        import_codes(conn, ws, other["id"], clock.now(), ["SHOP-1"])
    order(api, workspace, "ann", coupon="hello10")
    order(api, workspace, "bob", coupon="HELLO10")  # never given to bob: leaves no trace
    redeem(engine, clock)
    with engine.connect() as conn:
        rows = conn.execute(select(offer_assignment.c.contact_id, offer_assignment.c.redeemed_at)).all()
    assert rows == [(ids["ann"], clock.now())]
    assert api.get(f"/offers/{welcome['id']}").json()["redeemed"] == 1
