"""Lead scoring end to end through the API and the worker, the clock driven (FixedClock):
event rules with filters, caps per period, negative points and bounds, condition rules
(tag, segment membership) awarded on entry and taken back on exit, half-life and points
decay, recompute on rule change (in batches, with progress), ledger reasons, the ``score``
segment condition, the ``score_crossed`` journey trigger up and down, the legacy ``score``
field, the contact's scores and the report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.scoring import engine as scoring_engine
from kairos.scoring.tables import contact_score, score_ledger
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api

_seq = iter(range(1_000_000))


def send(engine: Engine, ws: CreatedWorkspace, clock: FixedClock, user: str, name: str, **props: Any) -> None:
    """One track event, ingested at the clock's now (as the ingest processor would)."""
    now = clock.now()
    msg = {"type": "track", "userId": user, "event": name, "properties": props,
           "timestamp": now.isoformat(), "messageId": f"m-{next(_seq)}"}  # fmt: skip
    with engine.begin() as conn:
        ingest(conn, ws.id, [parse_message(msg, None, now)], now)


def run(engine: Engine, clock: FixedClock) -> None:
    Worker(engine, clock).run_once()


def cid(engine: Engine, user: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(contact.c.id).where(contact.c.external_id == user)).scalar_one())


def score(api: Api, engine: Engine, user: str, key: str = "engagement") -> float:
    r = api.get(f"/contacts/{cid(engine, user)}/scores")
    assert r.status_code == 200, r.text
    return float(next(s["score"] for s in r.json()["data"] if s["model"]["key"] == key))


def ledger(api: Api, engine: Engine, user: str, key: str = "engagement") -> list[dict[str, Any]]:
    r = api.get(f"/contacts/{cid(engine, user)}/scores", params={"latest": 50})
    return list(next(s["ledger"] for s in r.json()["data"] if s["model"]["key"] == key))


def model(api: Api, key: str = "engagement", **extra: Any) -> int:
    r = api.post("/score-models", {"key": key, "name": key.title(), **extra})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def rule(api: Api, model_id: int, name: str, points: float, body: dict[str, Any]) -> int:
    r = api.post(f"/score-models/{model_id}/rules", {"name": name, "points": points, "rule": body})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def pricing(**extra: Any) -> dict[str, Any]:
    return {"kind": "event", "event": "Page Viewed",
            "where": [{"property": "path", "operator": "eq", "value": "/pricing"}], **extra}  # fmt: skip


@pytest.fixture
def ws(workspace: CreatedWorkspace) -> CreatedWorkspace:
    return workspace


def test_event_rules_award_points_with_filters_and_reasons(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    m = model(api)
    rule(api, m, "Viewed pricing", 10, pricing())
    rule(api, m, "Unsubscribed", -25, {"kind": "event", "event": "Unsubscribed"})
    run(engine, clock)  # the recompute the rules queued (nobody yet)
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    send(engine, ws, clock, "alice", "Page Viewed", path="/blog")
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    send(engine, ws, clock, "bob", "Page Viewed", path="/blog")
    send(engine, ws, clock, "carol", "Unsubscribed")
    run(engine, clock)
    assert score(api, engine, "alice") == 20
    assert score(api, engine, "bob") == 0
    assert score(api, engine, "carol") == -25  # negative points, no bounds
    entries = ledger(api, engine, "alice")
    assert [(e["kind"], e["delta"], e["score"]) for e in entries] == [("event", 10, 20), ("event", 10, 10)]
    assert entries[0]["reason"] == "Viewed pricing: Page Viewed +10"
    assert entries[0]["params"]["rule"] == "Viewed pricing" and entries[0]["event_id"]
    # the first model is the default: the legacy score field mirrors it
    assert api.get(f"/contacts/{cid(engine, 'alice')}").json()["score"] == 20
    # running again awards nothing twice
    run(engine, clock)
    assert score(api, engine, "alice") == 20


def test_caps_per_period_and_bounds(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    m = model(api, min_score=0, max_score=100)
    rule(api, m, "Pricing", 10, pricing(cap={"points": 25, "per": "day"}))
    rule(api, m, "Complaint", -15, {"kind": "event", "event": "Complained"})
    run(engine, clock)
    for _ in range(4):
        send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    run(engine, clock)
    assert score(api, engine, "alice") == 25  # 10 + 10 + 5, then capped
    assert ledger(api, engine, "alice")[0]["params"]["capped"] is True
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")  # same day: nothing
    run(engine, clock)
    assert score(api, engine, "alice") == 25
    clock.advance(timedelta(days=1))
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")  # a new day
    run(engine, clock)
    assert score(api, engine, "alice") == 35
    # negative points stop at the lower bound, and say so
    send(engine, ws, clock, "bob", "Complained")
    run(engine, clock)
    assert score(api, engine, "bob") == 0
    assert ledger(api, engine, "bob") == []  # nothing moved: no ledger row
    send(engine, ws, clock, "alice", "Complained")
    send(engine, ws, clock, "alice", "Complained")
    send(engine, ws, clock, "alice", "Complained")
    run(engine, clock)
    assert score(api, engine, "alice") == 0
    last = ledger(api, engine, "alice")[0]
    assert last["delta"] == -5 and last["params"]["bounded"] is True


def test_condition_rules_award_on_entry_and_take_back_on_exit(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    send(engine, ws, clock, "alice", "Signed Up")
    send(engine, ws, clock, "bob", "Signed Up")
    run(engine, clock)
    seg = api.post("/segments", {"name": "Pricing viewers", "definition": {"root": {
        "type": "performed", "event": "Page Viewed",
        "where": [{"property": "path", "operator": "eq", "value": "/pricing"}]}}}).json()["id"]  # fmt: skip
    m = model(api, key="fit")
    rule(api, m, "VIP", 30, {"kind": "condition", "condition": {"type": "tag", "tag": "vip"}})
    rule(api, m, "In pricing segment", 15,
         {"kind": "condition", "condition": {"type": "segment", "segment_id": seg}})  # fmt: skip
    run(engine, clock)
    alice = cid(engine, "alice")
    assert api.post(f"/contacts/{alice}/tags/vip").status_code == 200
    run(engine, clock)
    assert score(api, engine, "alice", "fit") == 30
    assert ledger(api, engine, "alice", "fit")[0]["reason"] == "VIP: now holds +30"
    # the segment is entered in this pass: the segment rule sees it in the same pass
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    run(engine, clock)
    assert score(api, engine, "alice", "fit") == 45
    assert api.delete(f"/contacts/{alice}/tags/vip").status_code == 200
    run(engine, clock)
    assert score(api, engine, "alice", "fit") == 15
    top = ledger(api, engine, "alice", "fit")[0]
    assert (top["kind"], top["delta"], top["reason"]) == ("exited", -30, "VIP: no longer holds -30")
    assert score(api, engine, "bob", "fit") == 0


def test_half_life_decay_under_a_moving_clock(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    m = model(api, decay={"type": "half_life", "days": 7})
    rule(api, m, "Demo", 40, {"kind": "event", "event": "Demo Requested"})
    run(engine, clock)
    send(engine, ws, clock, "alice", "Demo Requested")
    run(engine, clock)
    assert score(api, engine, "alice") == 40
    clock.advance(timedelta(hours=23))
    run(engine, clock)
    assert score(api, engine, "alice") == 40  # whole days only
    clock.advance(timedelta(days=6, hours=1))
    run(engine, clock)
    assert score(api, engine, "alice") == pytest.approx(20)
    top = ledger(api, engine, "alice")[0]
    assert top["kind"] == "decay" and top["delta"] == pytest.approx(-20)
    assert top["params"] == {"type": "half_life", "half_life_days": 7, "days": 7}
    clock.advance(timedelta(days=70))  # far below 0.5: zero, no endless tail
    run(engine, clock)
    assert score(api, engine, "alice") == 0
    assert api.get(f"/contacts/{cid(engine, 'alice')}").json()["score"] == 0


def test_points_decay_counts_inactivity(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    m = model(api, decay={"type": "points", "points": 5, "every_days": 7})
    rule(api, m, "Visit", 6, {"kind": "event", "event": "Visited"})
    run(engine, clock)
    send(engine, ws, clock, "alice", "Visited")
    send(engine, ws, clock, "alice", "Visited")
    run(engine, clock)
    assert score(api, engine, "alice") == 12
    clock.advance(timedelta(days=6))
    run(engine, clock)
    assert score(api, engine, "alice") == 12
    clock.advance(timedelta(days=1))
    run(engine, clock)
    assert score(api, engine, "alice") == 7
    send(engine, ws, clock, "alice", "Visited")  # activity restarts the count
    run(engine, clock)
    assert score(api, engine, "alice") == 13
    clock.advance(timedelta(days=30))  # four periods: 13 → 8 → 3 → 0, and it stays there
    run(engine, clock)
    assert score(api, engine, "alice") == 0
    kinds = [e["kind"] for e in ledger(api, engine, "alice")]
    assert kinds[:3] == ["decay", "decay", "decay"]


def test_rule_change_recomputes_in_batches_with_progress(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for user in ("a", "b", "c", "d", "e"):
        send(engine, ws, clock, user, "Page Viewed", path="/pricing")
    send(engine, ws, clock, "a", "Page Viewed", path="/pricing")
    run(engine, clock)
    clock.advance(scoring_engine.SETTLE)  # a recompute counts the events received until a minute ago
    m = model(api)
    r = rule(api, m, "Pricing", 10, pricing())
    body = api.get(f"/score-models/{m}").json()
    assert body["recompute"]["status"] == "pending"
    monkeypatch.setattr(scoring_engine, "RECOMPUTE_BATCH", 2)
    with engine.begin() as conn:
        assert scoring_engine.recompute_due(conn, clock.now()) == 1
    progress = api.get(f"/score-models/{m}").json()["recompute"]
    assert (progress["status"], progress["done"], progress["total"]) == ("running", 2, 5)
    run(engine, clock)
    progress = api.get(f"/score-models/{m}").json()["recompute"]
    assert (progress["status"], progress["done"], progress["total"]) == ("idle", 5, 5)
    assert score(api, engine, "a") == 20 and score(api, engine, "e") == 10
    top = ledger(api, engine, "a")[0]
    assert top["kind"] == "recompute" and top["params"] == {"rules": {"Pricing": 20}}
    # events after the recompute are scored incrementally, once
    send(engine, ws, clock, "a", "Page Viewed", path="/pricing")
    run(engine, clock)
    assert score(api, engine, "a") == 30
    # new points: everyone restated
    assert api.patch(f"/score-models/{m}/rules/{r}", {"points": 5}).status_code == 200
    run(engine, clock)
    assert score(api, engine, "a") == 15 and score(api, engine, "b") == 5
    # an event received moments before a recompute is left to the incremental pass: counted once
    send(engine, ws, clock, "b", "Page Viewed", path="/pricing")
    assert api.patch(f"/score-models/{m}/rules/{r}", {"points": 6}).status_code == 200
    run(engine, clock)
    assert score(api, engine, "a") == 18 and score(api, engine, "b") == 12
    run(engine, clock)
    assert score(api, engine, "b") == 12
    # renaming does not recompute
    assert (
        api.patch(f"/score-models/{m}/rules/{r}", {"name": "Pricing page"}).json()["name"] == "Pricing page"
    )
    assert api.get(f"/score-models/{m}").json()["recompute"]["status"] == "idle"
    a = cid(engine, "a")
    with engine.connect() as conn:  # the score is the sum of the ledger
        total = sum(
            conn.execute(select(score_ledger.c.delta).where(score_ledger.c.contact_id == a)).scalars()
        )
        stored = conn.execute(select(contact_score.c.score).where(contact_score.c.contact_id == a)).scalar()
    assert total == stored == 18


def test_score_segment_condition(api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace) -> None:
    m = model(api)
    rule(api, m, "Pricing", 10, pricing())
    run(engine, clock)
    bad = api.post(
        "/segments",
        {
            "name": "x",
            "definition": {"root": {"type": "score", "model": "nope", "operator": "gte", "value": 1}},
        },
    )
    assert bad.status_code in (400, 422) and bad.json()["code"] == "unknown_score_model"
    seg = api.post("/segments", {"name": "Hot", "definition": {"root": {
        "type": "score", "model": "engagement", "operator": "gte", "value": 20}}})  # fmt: skip
    assert seg.status_code == 201, seg.text
    sid = seg.json()["id"]
    run(engine, clock)
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    run(engine, clock)
    members = lambda: {m["external_id"] for m in api.get(f"/segments/{sid}/members").json()["data"]}  # noqa: E731
    assert members() == set()
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    run(engine, clock)
    assert members() == {"alice"}
    # a model a segment tests cannot be deleted
    r = api.delete(f"/score-models/{m}")
    assert r.status_code == 409 and r.json()["code"] == "score_model_in_use"


def test_journey_trigger_when_the_score_crosses_up_and_down(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    m = model(api, decay={"type": "half_life", "days": 1})
    rule(api, m, "Pricing", 30, pricing())
    run(engine, clock)
    exit_node = {"start": "a", "nodes": {"a": {"type": "exit"}}}
    ids = {}
    for direction in ("up", "down"):
        definition = {"trigger": {"type": "score_crossed", "model": "engagement", "threshold": 50,
                                  "direction": direction},
                      "entry": {"reentry": "always"}, **exit_node}  # fmt: skip
        r = api.post("/journeys", {"name": direction, "definition": definition})
        assert r.status_code == 201, r.text
        ids[direction] = r.json()["id"]
        assert api.post(f"/journeys/{ids[direction]}/publish").status_code == 200
    bad = {"trigger": {"type": "score_crossed", "model": "nope", "threshold": 1}, **exit_node}
    r = api.post("/journeys", {"name": "bad", "definition": bad})
    assert r.status_code == 422 and r.json()["code"] == "unknown_score_model"

    def entered(direction: str) -> list[str]:
        rows = api.get(f"/journeys/{ids[direction]}/enrollments").json()["data"]
        return sorted(str(e["contact_id"]) for e in rows)

    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    run(engine, clock)
    assert entered("up") == []  # 30
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    run(engine, clock)
    alice = str(cid(engine, "alice"))
    assert entered("up") == [alice]  # 60: crossed up
    assert entered("down") == []
    clock.advance(timedelta(days=1))  # decay halves it to 30: crossed down
    run(engine, clock)
    assert entered("down") == [alice]
    assert entered("up") == [alice]


def test_models_api_errors_report_and_default(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    m = model(api)
    assert (
        api.post("/score-models", {"key": "engagement", "name": "Again"}).json()["code"]
        == "score_model_exists"
    )
    r = api.post("/score-models", {"key": "Bad Key", "name": "x"})
    assert r.status_code in (400, 422) and r.json()["code"] == "invalid_score_model_key"
    r = api.post("/score-models", {"key": "x", "name": "x", "decay": {"type": "half_life", "days": 0}})
    assert r.status_code in (400, 422) and r.json()["code"] == "invalid_decay"
    r = api.post(f"/score-models/{m}/rules", {"name": "x", "points": 1, "rule": {"kind": "event"}})
    assert (
        r.status_code in (400, 422)
        and r.json()["code"] == "invalid_score_rule"
        and "event" in r.json()["message"]
    )
    r = api.post(f"/score-models/{m}/rules", {"name": "x", "points": 1, "rule": {
        "kind": "condition", "condition": {"type": "score", "model": "engagement", "operator": "gte", "value": 1}}})  # fmt: skip
    assert r.status_code in (400, 422) and r.json()["code"] == "invalid_score_rule"
    assert api.get("/score-models/999").json()["code"] == "score_model_not_found"
    rule(api, m, "Pricing", 10, pricing())
    run(engine, clock)
    for user, views in (("a", 1), ("b", 3), ("c", 6)):
        for _ in range(views):
            send(engine, ws, clock, user, "Page Viewed", path="/pricing")
    send(engine, ws, clock, "d", "Signed Up")
    run(engine, clock)
    report = api.get("/reports/scores/engagement", params={"buckets": 5})
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["scored"], body["unscored"]) == (3, 1)
    assert sum(b["contacts"] for b in body["buckets"]) == 3
    assert body["buckets"][0]["low"] <= 10 and body["buckets"][-1]["high"] >= 60
    assert body["movement"][0]["gained"] == 100 and body["movement"][0]["contacts"] == 3
    assert body["by_reason"][0]["name"] == "Pricing" and body["by_reason"][0]["points"] == 100
    csv = api.get("/reports/scores/engagement", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "day,gained,lost,contacts"
    assert lines[1].split(",")[1:] == [str(body["movement"][0][k]) for k in ("gained", "lost", "contacts")]
    assert api.get("/reports/scores/nope").status_code == 404
    # a second model made default: the legacy field follows it
    fit = model(api, key="fit", is_default=True)
    assert api.get(f"/contacts/{cid(engine, 'c')}").json()["score"] == 0
    assert api.patch(f"/score-models/{m}", {"is_default": True}).json()["is_default"] is True
    assert api.get(f"/contacts/{cid(engine, 'c')}").json()["score"] == 60
    assert api.get(f"/score-models/{fit}").json()["is_default"] is False
    assert api.delete(f"/score-models/{fit}").status_code == 204


def test_time_window_conditions_are_rechecked_as_the_clock_moves(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    m = model(api)
    recent = {"type": "performed", "event": "Page Viewed", "window": {"last": {"amount": 7, "unit": "days"}}}
    rule(api, m, "Active this week", 10, {"kind": "condition", "condition": recent})
    run(engine, clock)
    send(engine, ws, clock, "alice", "Page Viewed", path="/blog")
    run(engine, clock)
    assert score(api, engine, "alice") == 10
    clock.advance(timedelta(days=8))  # nothing happens: the window moves on
    run(engine, clock)
    assert score(api, engine, "alice") == 0
    assert ledger(api, engine, "alice")[0]["kind"] == "exited"


def test_merged_contacts_scores_are_recomputed_on_the_survivor(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    m = model(api)
    rule(api, m, "Pricing", 10, pricing())
    run(engine, clock)
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    now = clock.now()
    anon = {"type": "track", "anonymousId": "device-1", "event": "Page Viewed", "properties": {"path": "/pricing"},
            "timestamp": now.isoformat(), "messageId": "anon-1"}  # fmt: skip
    with engine.begin() as conn:
        ingest(conn, ws.id, [parse_message(anon, None, now)], now)
    run(engine, clock)
    assert score(api, engine, "alice") == 10
    link = {"type": "identify", "userId": "alice", "anonymousId": "device-1", "traits": {},
            "timestamp": now.isoformat(), "messageId": "link-1"}  # fmt: skip
    with engine.begin() as conn:
        ingest(conn, ws.id, [parse_message(link, None, now)], now)
    run(engine, clock)
    assert score(api, engine, "alice") == 20  # both contacts' pricing views, once each
    alice = cid(engine, "alice")
    with engine.connect() as conn:
        merged = conn.execute(select(contact.c.id).where(contact.c.merged_into == alice)).scalars().all()
        rows = conn.execute(select(contact_score.c.contact_id, contact_score.c.score)).all()
    assert len(merged) == 1  # the device's contact merged into alice
    assert [tuple(r) for r in rows] == [(alice, 20)]  # the merged contact's score row is gone


def test_roles_analysts_read_and_do_not_write(
    api: Api, client: Any, engine: Engine, clock: FixedClock
) -> None:
    m = model(api)
    key = api.post("/keys", {"name": "reader", "role": "analyst"}).json()["key"]
    analyst = Api(client, key)
    assert analyst.get("/score-models").status_code == 200
    assert analyst.get(f"/score-models/{m}").status_code == 200
    r = analyst.post("/score-models", {"key": "fit", "name": "Fit"})
    assert r.status_code == 403 and set(r.json()) == {"code", "message"}
    assert (
        analyst.post(f"/score-models/{m}/rules", {"name": "x", "points": 1, "rule": pricing()}).status_code
        == 403
    )
    assert analyst.delete(f"/score-models/{m}").status_code == 403


def test_lifecycle_rules_see_scores_of_the_same_pass(
    api: Api, engine: Engine, clock: FixedClock, ws: CreatedWorkspace
) -> None:
    """Story 3's hand-off: MQL when engagement ≥ 50 and fit ≥ 30 — set in the pass whose
    event moved the score (lifecycle rules run after scores, before segments)."""
    engagement = model(api)
    rule(api, engagement, "Pricing", 25, pricing())
    fit = model(api, key="fit")
    rule(api, fit, "Has an email", 30,
         {"kind": "condition", "condition": {"type": "attribute", "attribute": "email", "operator": "is_set"}})  # fmt: skip
    mql = {"type": "all", "conditions": [
        {"type": "score", "model": "engagement", "operator": "gte", "value": 50},
        {"type": "score", "model": "fit", "operator": "gte", "value": 30}]}  # fmt: skip
    r = api.post("/lifecycle-rules", {"name": "MQL", "stage": "mql", "condition": mql})
    assert r.status_code == 201, r.text
    run(engine, clock)
    assert api.post("/contacts", {"external_id": "alice", "email": "alice@example.com"}).status_code in (
        200,
        201,
    )
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    run(engine, clock)
    assert (score(api, engine, "alice", "engagement"), score(api, engine, "alice", "fit")) == (25, 30)
    stage = lambda: api.get(f"/contacts/{cid(engine, 'alice')}").json()["lifecycle_stage"]  # noqa: E731
    assert stage() != "mql"
    send(engine, ws, clock, "alice", "Page Viewed", path="/pricing")
    run(engine, clock)
    assert stage() == "mql"
