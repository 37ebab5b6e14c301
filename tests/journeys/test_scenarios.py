"""Journeys as marketers run them: events and tags in, the worker with a driven clock, paths
and messages out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.journeys.engine import VERSIONS, run_due
from kairos.journeys.entry import Candidate, enroll
from kairos.journeys.service import create_journey, publish
from kairos.journeys.tables import journey_step
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.journeys.conftest import enrollments, journey, track
from tests.messaging.conftest import SmtpServer, email_template, make_contact
from tests.messaging.fake_providers import TwilioFake


def sms_template(api: Api, text: str, name: str = "sms") -> int:
    r = api.post("/templates", {"name": name, "channel": "sms", "fields": {"text": text}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_story_1_browse_without_buying(
    api: Api, workspace: CreatedWorkspace, sms_channel: dict[str, Any], twilio: TwilioFake, worker: Worker,
    clock: FixedClock,
) -> None:  # fmt: skip
    """Viewed product A, then three days without a view or an order → tagged → the journey
    picks the best matching offer and gives a unique coupon code, waits for 20:00 in the
    shopper's time zone, sends the code by SMS, and the order with the code converts."""
    segment = api.post("/segments", {"name": "browsed A, no order", "definition": {"root": {"type": "all", "conditions": [
        {"type": "performed", "event": "Product Viewed", "where": [{"property": "product_id", "operator": "eq", "value": "A"}]},
        {"type": "not_performed", "event": "Product Viewed", "window": {"last": {"amount": 3, "unit": "days"}}},
        {"type": "not_performed", "event": "Order Completed"},
    ]}}}).json()  # fmt: skip
    assert (
        api.post(
            "/tag-rules", {"name": "browsed A", "segment_id": segment["id"], "tag": "browsed-A-no-order"}
        ).status_code
        == 201
    )
    # the offer library: a 10 % coupon for A's category beats a generic 5 % for these shoppers
    browsed = {"type": "tag", "tag": "browsed-A-no-order"}
    shoes = api.post("/offers", {"key": "shoes-10", "name": "10% off shoes", "kind": "discount_percent", "value": 10,
                                 "priority": 10, "coupon_mode": "pool", "eligibility": browsed}).json()  # fmt: skip
    api.post(
        "/offers",
        {"key": "generic-5", "name": "5% off", "kind": "discount_percent", "value": 5, "priority": 1},
    )
    assert api.post(f"/offers/{shoes['id']}/codes/generate", {"count": 5}).status_code in (200, 201)
    text = "Hi {{ contact.first_name }}, {{ offer.name }} with code {{ offer.code }} today"
    campaign = api.post("/campaigns", {"name": "Browse abandonment", "costs": {"sms": 0.05},
                                       "goal": {"event": "Order Completed", "window_days": 7}}).json()  # fmt: skip
    jid = journey(api, {
        "trigger": {"type": "tag_added", "tag": "browsed-A-no-order"},
        "goal": {"event": "Order Completed"},
        "start": "offer",
        "nodes": {
            "offer": {"type": "assign_offer", "next": "evening", "none_next": None},
            "evening": {"type": "wait_until", "time": "20:00", "next": "sms"},
            "sms": {"type": "send", "channel": "sms", "template_id": sms_template(api, text), "next": "wait"},
            "wait": {"type": "wait", "duration": {"days": 7}, "next": None},
        },
    }, campaign_id=campaign["id"])  # fmt: skip
    cid = make_contact(
        api, external_id="shopper", first_name="Sam", phone="+12125550199", timezone="America/New_York"
    )
    track(api, workspace.write_key, "shopper", "Product Viewed", product_id="A")
    worker.run_once()
    assert enrollments(api, jid) == []

    clock.advance(timedelta(days=3, minutes=10))  # 3 days later; the periodic re-check runs
    worker.run_once()
    [e] = enrollments(api, jid)
    assert (e["contact_id"], e["node"], e["state"]) == (cid, "evening", "active")
    code = e["payload"]["offer"]["code"]
    assert e["payload"]["offer"]["key"] == "shoes-10" and len(code) >= 6
    # 2026-03-05 12:10 UTC is 07:10 in New York (EST): 20:00 there is 01:00 UTC the next day
    assert e["resume_at"].startswith("2026-03-06T01:00:00")
    assert twilio.requests == []

    clock.set(datetime(2026, 3, 6, 1, 0, tzinfo=UTC))
    worker.run_once()
    [sent] = twilio.requests
    assert sent.form()["To"] == "+12125550199"
    assert sent.form()["Body"] == f"Hi Sam, 10% off shoes with code {code} today"

    clock.advance(timedelta(hours=2))
    track(api, workspace.write_key, "shopper", "Order Completed", revenue=42.0, coupon=code.lower())
    worker.run_once()
    [e] = enrollments(api, jid)
    assert (e["state"], e["exit_reason"]) == ("converted", "goal")
    redeemed = api.get(f"/offers/{shoes['id']}/codes", params={"status": "redeemed"}).json()["data"]
    assert [c["code"] for c in redeemed] == [code]
    stats = api.get(f"/journeys/{jid}/stats").json()["nodes"]
    assert stats["evening"] == {"entered": 1, "current": 0, "passed": 1, "exited": 0, "converted": 0,
                                "outcomes": {"waiting": 1, "next": 1}}  # fmt: skip
    assert stats["offer"]["outcomes"] == {"next": 1}
    assert (stats["wait"]["entered"], stats["wait"]["converted"]) == (1, 1)
    # the journey's report: reached 1, converted 1, the order's revenue
    report = api.get(f"/reports/journeys/{jid}").json()
    assert (report["totals"]["sent"], report["totals"]["converted"], report["totals"]["revenue"]) == (
        1,
        1,
        42.0,
    )
    assert [row["node"] for row in report["by_node"]] == ["sms"]
    # … and the campaign's, with the SMS's cost
    totals = api.get(f"/reports/campaigns/{campaign['id']}").json()["totals"]
    assert (totals["targeted"], totals["sent"], totals["converted"], totals["revenue"]) == (1, 1, 1, 42.0)
    assert totals["cost"] == 0.05 and totals["roi"] == (42.0 - 0.05) / 0.05


def test_wait_for_an_event_with_a_timeout(
    api: Api, workspace: CreatedWorkspace, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker,
    clock: FixedClock,
) -> None:  # fmt: skip
    jid = journey(api, {
        "trigger": {"type": "api"},
        "start": "welcome",
        "nodes": {
            "welcome": {"type": "send", "channel": "email", "template_id": email_template(api), "transactional": True, "next": "opened"},
            "opened": {"type": "wait_for_event", "event": "Email Opened", "timeout": {"days": 1}, "next": "engaged", "timeout_next": "cold"},
            "engaged": {"type": "update_contact", "add_tags": ["engaged"], "next": None},
            "cold": {"type": "update_contact", "add_tags": ["cold"], "next": None},
        },
    })  # fmt: skip
    ann = make_contact(api, external_id="ann", email="ann@example.com", first_name="Ann")
    bob = make_contact(api, external_id="bob", email="bob@example.com", first_name="Bob")
    for cid in (ann, bob):
        r = api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid, "payload": {"plan": "pro"}})
        assert r.status_code == 201, r.text
    track(api, workspace.write_key, "ann", "Email Opened")  # before her wait starts: must not count
    worker.run_once()
    assert len(smtp.recorder.received) == 2
    assert {e["node"] for e in enrollments(api, jid)} == {"opened"}

    clock.advance(timedelta(hours=3))
    track(api, workspace.write_key, "ann", "Email Opened")
    worker.run_once()
    states = {e["contact_id"]: (e["state"], e["node"]) for e in enrollments(api, jid)}
    assert states == {ann: ("completed", None), bob: ("active", "opened")}

    clock.advance(timedelta(days=1))
    worker.run_once()
    tags = {
        cid: {t["name"] if isinstance(t, dict) else t for t in api.get(f"/contacts/{cid}").json()["tags"]}
        for cid in (ann, bob)
    }
    assert tags == {ann: {"engaged"}, bob: {"cold"}}
    stats = api.get(f"/journeys/{jid}/stats").json()["nodes"]["opened"]["outcomes"]
    assert (stats["event"], stats["timeout"]) == (1, 1)


def test_a_random_split_with_a_holdout_keeps_its_proportions(
    engine: Engine, workspace: CreatedWorkspace, clock: FixedClock
) -> None:
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(insert(contact), [{"workspace_id": workspace.id, "external_id": f"c{i}", "traits": {}, "score": 0,
                                        "created_at": now, "updated_at": now} for i in range(10_000)])  # fmt: skip
        ids = list(conn.execute(select(contact.c.id).where(contact.c.workspace_id == workspace.id)).scalars())
        j = create_journey(conn, workspace.id, now, name="split", description=None, layout=None, definition={
            "trigger": {"type": "api"}, "start": "split",
            "nodes": {"split": {"type": "split", "branches": [
                {"name": "A", "weight": 45, "next": "tag"}, {"name": "B", "weight": 45, "next": "tag"},
                {"name": "holdout", "weight": 10, "next": None}]},
                "tag": {"type": "update_contact", "lifecycle_stage": "lead", "next": None}}})  # fmt: skip
        live = publish(conn, workspace.id, j["id"], now)
        definition = VERSIONS.get(conn, live["version_id"])[2]
        entered = enroll(conn, workspace.id, j["id"], live["version_id"], definition,
                         [Candidate(cid, f"api:{cid}") for cid in ids], now)  # fmt: skip
        assert len(entered) == 10_000
    while True:
        with engine.begin() as conn:
            if run_due(conn, now) == 0:
                break
    with engine.connect() as conn:
        counts = dict(conn.execute(
            select(journey_step.c.outcome, func.count()).where(journey_step.c.node == "split").group_by(journey_step.c.outcome)
        ).all())  # fmt: skip
        leads = conn.execute(select(func.count()).where(contact.c.lifecycle_stage == "lead")).scalar_one()
    # binomial standard deviations: ~50 for the 45 % branches, 30 for the holdout; allow 4
    assert abs(counts["A"] - 4500) < 200 and abs(counts["B"] - 4500) < 200
    assert abs(counts["holdout"] - 1000) < 120
    assert leads == counts["A"] + counts["B"]  # the holdout received nothing


def test_entry_rules_idempotent_api_entry_pause_and_removal(
    api: Api, worker: Worker, clock: FixedClock
) -> None:
    jid = journey(api, {"trigger": {"type": "api"}, "entry": {"reentry": "never"}, "start": "wait",
                        "nodes": {"wait": {"type": "wait", "duration": {"hours": 1}, "next": None}}})  # fmt: skip
    cid = make_contact(api, external_id="e1")
    first = api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid}, headers={"Idempotency-Key": "k1"})
    again = api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    refused = api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid}, headers={"Idempotency-Key": "k2"})
    assert (refused.status_code, refused.json()["code"]) == (409, "entry_refused")

    worker.run_once()
    assert api.post(f"/journeys/{jid}/pause").json()["status"] == "paused"
    clock.advance(timedelta(hours=2))
    worker.run_once()
    assert enrollments(api, jid)[0]["state"] == "active"  # paused: nobody moves
    assert api.post(f"/journeys/{jid}/resume").json()["status"] == "active"
    worker.run_once()
    assert enrollments(api, jid)[0]["state"] == "completed"

    other = make_contact(api, external_id="e2")
    e = api.post(f"/journeys/{jid}/enrollments", {"contact_id": other}).json()
    assert api.delete(f"/journeys/{jid}/enrollments/{e['id']}").status_code == 204
    removed = next(x for x in enrollments(api, jid) if x["id"] == e["id"])
    assert (removed["state"], removed["exit_reason"]) == ("exited", "removed")
    assert [x["journey_id"] for x in api.get(f"/contacts/{other}/enrollments").json()["data"]] == [jid]


def test_a_new_version_takes_new_entries_while_running_ones_finish_on_theirs(
    api: Api, worker: Worker, clock: FixedClock
) -> None:
    one = {"trigger": {"type": "api"}, "entry": {"reentry": "always"}, "start": "w",
           "nodes": {"w": {"type": "wait", "duration": {"days": 1}, "next": "t"},
                     "t": {"type": "update_contact", "add_tags": ["v1"], "next": None}}}  # fmt: skip
    jid = journey(api, one)
    early = make_contact(api, external_id="early")
    api.post(f"/journeys/{jid}/enrollments", {"contact_id": early})
    worker.run_once()
    two = {**one, "nodes": {"w": {"type": "wait", "duration": {"days": 1}, "next": "t2"},
                            "t2": {"type": "update_contact", "add_tags": ["v2"], "next": None}}}  # fmt: skip
    assert api.patch(f"/journeys/{jid}", {"definition": two}).status_code == 200
    assert api.post(f"/journeys/{jid}/publish").json()["version"] == 2
    late = make_contact(api, external_id="late")
    api.post(f"/journeys/{jid}/enrollments", {"contact_id": late})
    worker.run_once()
    clock.advance(timedelta(days=1, minutes=1))
    worker.run_once()
    tags = {
        cid: [t["name"] if isinstance(t, dict) else t for t in api.get(f"/contacts/{cid}").json()["tags"]]
        for cid in (early, late)
    }
    assert tags == {early: ["v1"], late: ["v2"]}
    assert [v["number"] for v in api.get(f"/journeys/{jid}/versions").json()["data"]] == [1, 2]


def test_bad_definitions_name_the_node(api: Api, email_channel: dict[str, Any]) -> None:
    tid = email_template(api)
    base: dict[str, Any] = {"trigger": {"type": "api"}, "start": "a"}
    cases = [
        (
            {**base, "nodes": {"a": {"type": "wait", "duration": {"days": 1}, "next": "b"}}},
            "nodes.a.next: no node 'b'",
        ),
        ({**base, "nodes": {"a": {"type": "exit"}, "b": {"type": "exit"}}}, "nodes.b: not reachable"),
        ({**base, "nodes": {"a": {"type": "update_contact", "add_tags": ["x"], "next": "a"}}}, "never waits"),
        (
            {**base, "nodes": {"a": {"type": "send", "channel": "sms", "template_id": tid}}},
            "is for email, not sms",
        ),
        (
            {**base, "nodes": {"a": {"type": "split", "branches": [{"name": "x", "weight": 1}]}}},
            "nodes.a.split.branches",
        ),
        (
            {
                "trigger": {"type": "segment_entered", "segment_id": 999},
                "start": "a",
                "nodes": {"a": {"type": "exit"}},
            },
            "no segment 999",
        ),
    ]
    for definition, expected in cases:
        r = api.post("/journeys", {"name": "bad", "definition": definition})
        assert r.status_code == 422 and expected in r.json()["message"], (expected, r.json())


def test_a_branch_takes_the_first_case_that_holds(api: Api, worker: Worker) -> None:
    assert api.post("/attributes", {"name": "points", "type": "number"}).status_code == 201

    def at_least(n: int) -> dict[str, Any]:
        return {"type": "attribute", "attribute": "points", "operator": "gte", "value": n}

    jid = journey(api, {"trigger": {"type": "api"}, "start": "tier", "nodes": {
        "tier": {"type": "branch", "otherwise": "b", "cases": [
            {"name": "gold", "condition": at_least(80), "next": "g"},
            {"name": "silver", "condition": at_least(50), "next": "s"}]},
        "g": {"type": "update_contact", "add_tags": ["gold"], "next": None},
        "s": {"type": "update_contact", "add_tags": ["silver"], "next": None},
        "b": {"type": "update_contact", "add_tags": ["bronze"], "next": None}}})  # fmt: skip
    people = {name: make_contact(api, external_id=name, traits={"points": points})
              for name, points in (("a", 90), ("b", 60), ("c", 10))}  # fmt: skip
    for cid in people.values():
        api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid})
    worker.run_once()
    assert api.get(f"/journeys/{jid}/stats").json()["nodes"]["tier"]["outcomes"] == {
        "gold": 1,
        "silver": 1,
        "otherwise": 1,
    }
    tags = {name: api.get(f"/contacts/{cid}").json()["tags"] for name, cid in people.items()}
    assert tags == {"a": ["gold"], "b": ["silver"], "c": ["bronze"]}
