"""Story 6 inside journeys: a split node with an experiment tests its branches on known
simulated behaviour, picks the winner when the window has passed (or the sample is big
enough), sends every later enrollment but the holdout's share down the winning branch, and
the journey report shows it with the lift over the holdout."""

from __future__ import annotations

import base64
import random
import zlib
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from kairos.clock import FixedClock
from kairos.contacts.tables import contact
from kairos.journeys.engine import VERSIONS
from kairos.journeys.entry import Candidate, enroll
from kairos.journeys.tables import enrollment, journey_split, journey_step
from kairos.journeys.tables import journey as journey_table
from kairos.messaging.tables import message
from kairos.messaging.tracking import Outcome, record
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.journeys.conftest import journey
from tests.messaging.conftest import SmtpServer, email_template

BRANCHES = [{"name": "A", "weight": 45, "next": "a"}, {"name": "B", "weight": 45, "next": "b"},
            {"name": "holdout", "weight": 10, "next": None}]  # fmt: skip


def ingest(api: Api, ws: CreatedWorkspace, batch: list[dict[str, Any]]) -> None:
    """Segment messages through the ingest API (``/v1/batch``)."""
    auth = {"Authorization": "Basic " + base64.b64encode(f"{ws.write_key}:".encode()).decode()}
    for start in range(0, len(batch), 1000):
        r = api.http.post("/v1/batch", json={"batch": batch[start : start + 1000]}, headers=auth)
        assert r.status_code == 200, r.text


def people(api: Api, ws: CreatedWorkspace, engine: Engine, prefix: str, n: int) -> dict[int, str]:
    """``n`` contacts identified through the API: contact id → user id."""
    users = [f"{prefix}{i}" for i in range(n)]
    ingest(api, ws, [{"type": "identify", "userId": u, "traits": {"email": f"{u}@example.com"},
                      "messageId": f"id-{u}"} for u in users])  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(
            select(contact.c.id, contact.c.external_id).where(contact.c.external_id.in_(users))
        )
        found = {cid: user for cid, user in rows}
    assert len(found) == n
    return found


def enter(
    engine: Engine, ws: CreatedWorkspace, journey_id: int, contact_ids: list[int], clock: FixedClock
) -> list[int]:
    """Enroll these contacts (as the API trigger would), answering the enrollment ids."""
    with engine.begin() as conn:
        live = conn.execute(
            select(journey_table.c.version_id).where(journey_table.c.id == journey_id)
        ).scalar_one()
        definition = VERSIONS.get(conn, live)[2]
        stamp = clock.now().isoformat()
        enroll(conn, ws.id, journey_id, live, definition,
               [Candidate(cid, f"api:{cid}:{stamp}") for cid in contact_ids], clock.now())  # fmt: skip
        return list(conn.execute(
            select(enrollment.c.id).where(enrollment.c.journey_id == journey_id, enrollment.c.contact_id.in_(contact_ids))
        ).scalars())  # fmt: skip


def taken(engine: Engine, enrollment_ids: list[int]) -> dict[int, str]:
    """The branch each enrollment took at the split."""
    with engine.connect() as conn:
        rows = conn.execute(select(journey_step.c.enrollment_id, journey_step.c.outcome)
                            .where(journey_step.c.node == "split", journey_step.c.enrollment_id.in_(enrollment_ids)))  # fmt: skip
        return dict(rows.all())  # type: ignore[arg-type]


def bucketed(enrollment_id: int) -> str:
    """The branch the weights alone give (nodes.split's stable bucketing)."""
    point = zlib.crc32(f"{enrollment_id}:split".encode()) / 2**32 * 100
    for b in BRANCHES:
        point -= b["weight"]
        if point < 0:
            return str(b["name"])
    return str(BRANCHES[-1]["name"])


def test_the_branch_that_converts_wins_and_takes_every_share_but_the_holdouts(
    api: Api, worker: Worker, clock: FixedClock, engine: Engine, workspace: CreatedWorkspace
) -> None:
    jid = journey(api, {
        "trigger": {"type": "api"}, "goal": {"event": "Order Completed"}, "start": "split",
        "nodes": {
            "split": {"type": "split", "branches": BRANCHES,
                      "experiment": {"metric": "conversion", "window_hours": 24}},
            "a": {"type": "update_contact", "add_tags": ["offer-a"], "next": "wait"},
            "b": {"type": "update_contact", "add_tags": ["offer-b"], "next": "wait"},
            "wait": {"type": "wait", "duration": {"days": 3}, "next": None},
        },
    })  # fmt: skip
    first = people(api, workspace, engine, "w1-", 600)
    wave1 = enter(engine, workspace, jid, list(first), clock)
    worker.run_once()
    branch = taken(engine, wave1)
    assert len(branch) == 600 and branch == {eid: bucketed(eid) for eid in wave1}  # the test: by weight
    with engine.connect() as conn:
        owner = dict(conn.execute(select(enrollment.c.id, enrollment.c.contact_id)
                                  .where(enrollment.c.id.in_(wave1))).all())  # fmt: skip
        state = conn.execute(select(journey_split)).one()
    assert state.started_at == clock.now() and state.winner is None

    # the truth: B's contacts buy 40 % of the time, A's and the holdout's 5 %
    rng = random.Random(11)
    clock.advance(timedelta(hours=2))
    buyers: dict[str, list[int]] = {"A": [], "B": [], "holdout": []}
    for eid in wave1:
        if rng.random() < (0.40 if branch[eid] == "B" else 0.05):
            buyers[branch[eid]].append(owner[eid])
    ingest(api, workspace, [{"type": "track", "userId": first[cid], "event": "Order Completed",
                             "properties": {"revenue": 25}, "messageId": f"o-{cid}"}
                            for group in buyers.values() for cid in group])  # fmt: skip
    worker.run_once()
    clock.advance(timedelta(hours=23))  # 25 h after the first enrollment: the window is over
    worker.run_once()
    with engine.connect() as conn:
        assert conn.execute(select(journey_split.c.winner)).scalar() is None  # decided on the next entry

    # orders after the window (30 h after the split) count for nobody
    late = [owner[eid] for eid in wave1 if branch[eid] == "A" and owner[eid] not in buyers["A"]][:20]
    clock.advance(timedelta(hours=5))
    ingest(api, workspace, [{"type": "track", "userId": first[cid], "event": "Order Completed",
                             "properties": {"revenue": 25}, "messageId": f"late-{cid}"} for cid in late])  # fmt: skip

    second = people(api, workspace, engine, "w2-", 300)
    wave2 = enter(engine, workspace, jid, list(second), clock)
    worker.run_once()
    later = taken(engine, wave2)
    assert later == {eid: "holdout" if bucketed(eid) == "holdout" else "B" for eid in wave2}
    assert 10 < list(later.values()).count("holdout") < 60  # the holdout keeps its 10 % (sd 5)
    with engine.connect() as conn:
        state = conn.execute(select(journey_split)).one()
    assert (state.winner, state.decided_at) == ("B", clock.now())
    assert state.confidence > 0.999
    n = {k: list(branch.values()).count(k) for k in ("A", "B", "holdout")}
    decided_on = state.results["branches"]
    assert {k: (decided_on[k]["entered"], decided_on[k]["successes"]) for k in n} == {
        k: (n[k], len(buyers[k])) for k in n}  # fmt: skip
    assert state.results["decided_by"] == "window"

    report = api.get(f"/reports/journeys/{jid}").json()
    [exp] = report["experiments"]
    assert (exp["node"], exp["metric"], exp["goal_event"], exp["decided"], exp["winner"]) == (
        "split", "conversion", "Order Completed", True, "B")  # fmt: skip
    assert exp["confidence"] == state.confidence and exp["decided_on"] == decided_on
    n2 = {k: list(later.values()).count(k) for k in ("A", "B", "holdout")}
    live = exp["branches"]
    assert {k: (live[k]["entered"], live[k]["converted"]) for k in n} == {
        k: (n[k] + n2[k], len(buyers[k])) for k in n}  # fmt: skip
    assert live["holdout"]["holdout"] is True and live["B"]["holdout"] is False
    lift = exp["lift"]
    expected = len(buyers["B"]) / (n["B"] + n2["B"]) - len(buyers["holdout"]) / (n["holdout"] + n2["holdout"])
    assert lift["branch"] == "B" and lift["on"] == "conversion_rate" and abs(lift["lift"] - expected) < 1e-9
    assert lift["ci95"][0] < lift["lift"] < lift["ci95"][1] and lift["ci95"][0] > 0


def test_a_click_test_decides_early_on_its_sample_size(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, clock: FixedClock,
    engine: Engine, workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    a = email_template(api, "a", subject="Ten percent off")
    b = email_template(api, "b", subject="A gift for you")
    jid = journey(api, {
        "trigger": {"type": "api"}, "start": "split",
        "nodes": {
            "split": {"type": "split", "branches": [{"name": "A", "weight": 1, "next": "a"},
                                                    {"name": "B", "weight": 1, "next": "b"}],
                      "experiment": {"metric": "click", "window_hours": 240, "min_per_branch": 20}},
            "a": {"type": "send", "channel": "email", "template_id": a, "next": None},
            "b": {"type": "send", "channel": "email", "template_id": b, "next": None},
        },
    })  # fmt: skip
    first = people(api, workspace, engine, "c1-", 80)
    wave1 = enter(engine, workspace, jid, list(first), clock)
    worker.run_once()
    branch = taken(engine, wave1)
    assert min(list(branch.values()).count(k) for k in "AB") >= 20
    with engine.connect() as conn:
        sent = dict(conn.execute(select(message.c.contact_id, message.c.id)
                                 .where(message.c.source_id.like(f"{jid}:%"))).all())  # fmt: skip
        owner = dict(conn.execute(select(enrollment.c.id, enrollment.c.contact_id)
                                  .where(enrollment.c.id.in_(wave1))).all())  # fmt: skip
    assert len(sent) == 80
    clock.advance(timedelta(hours=1))
    rng = random.Random(3)
    human = [sent[owner[e]] for e in wave1 if rng.random() < (0.6 if branch[e] == "B" else 0.1)]
    machine = [sent[owner[e]] for e in wave1 if branch[e] == "A"]  # link scanners: not people
    with engine.begin() as conn:
        record(conn, [Outcome(mid, "clicked") for mid in human], clock.now())
        record(conn, [Outcome(mid, "clicked", machine=True) for mid in machine], clock.now())

    second = people(api, workspace, engine, "c2-", 10)
    wave2 = enter(engine, workspace, jid, list(second), clock)
    worker.run_once()
    assert set(taken(engine, wave2).values()) == {"B"}  # no holdout here: everyone
    with engine.connect() as conn:
        state = conn.execute(select(journey_split)).one()
    assert (state.winner, state.results["decided_by"]) == ("B", "sample_size")
    clicks = {k: sum(1 for e in wave1 if branch[e] == k and sent[owner[e]] in human) for k in "AB"}
    assert {k: state.results["branches"][k]["successes"] for k in "AB"} == clicks
    report = api.get(f"/reports/journeys/{jid}").json()["experiments"][0]
    assert report["winner"] == "B" and report["lift"] is None  # no holdout: no lift


def test_an_undecided_experiment_shows_its_leader(
    api: Api, worker: Worker, clock: FixedClock, engine: Engine, workspace: CreatedWorkspace
) -> None:
    jid = journey(api, {
        "trigger": {"type": "api"}, "start": "split",
        "nodes": {"split": {"type": "split", "branches": BRANCHES,
                            "experiment": {"metric": "revenue", "window_hours": 48, "goal_event": "Booked"}},
                  "a": {"type": "wait", "duration": {"days": 1}, "next": None},
                  "b": {"type": "wait", "duration": {"days": 1}, "next": None}},
    })  # fmt: skip
    [exp] = api.get(f"/reports/journeys/{jid}").json()["experiments"]
    assert (exp["started_at"], exp["decided"], exp["branches"]["A"]["entered"]) == (None, False, 0)
    users = people(api, workspace, engine, "u", 40)
    wave = enter(engine, workspace, jid, list(users), clock)
    worker.run_once()
    branch = taken(engine, wave)
    with engine.connect() as conn:
        owner = dict(conn.execute(select(enrollment.c.id, enrollment.c.contact_id)).all())
    spend = {"A": 10.0, "B": 90.0}
    buyers = [e for e in wave if branch[e] in spend]
    clock.advance(timedelta(hours=1))
    ingest(api, workspace, [{"type": "track", "userId": users[owner[e]], "event": "Booked",
                             "properties": {"value": spend[branch[e]]}, "messageId": f"b-{e}"} for e in buyers]
           + [{"type": "track", "userId": users[owner[e]], "event": "Order Completed",
               "properties": {"revenue": 500}, "messageId": f"o-{e}"} for e in buyers])  # fmt: skip
    [exp] = api.get(f"/reports/journeys/{jid}").json()["experiments"]
    assert exp["started_at"] is not None and exp["decided"] is False and exp["winner"] is None
    assert exp["leader"] == "B" and exp["leader_confidence"] is not None
    assert {k: exp["branches"][k]["revenue"] for k in spend} == {
        k: spend[k] * sum(1 for e in buyers if branch[e] == k) for k in spend}  # fmt: skip
    assert exp["lift"]["on"] == "revenue_per_enrollment"


def test_experiments_on_splits_are_validated(api: Api) -> None:
    def definition(split: dict[str, Any]) -> dict[str, Any]:
        return {"trigger": {"type": "api"}, "start": "split",
                "nodes": {"split": {"type": "split", **split},
                          "a": {"type": "wait", "duration": {"hours": 1}, "next": None},
                          "b": {"type": "wait", "duration": {"hours": 1}, "next": None}}}  # fmt: skip

    good = {"branches": BRANCHES, "experiment": {"metric": "click", "window_hours": 4}}
    assert api.post("/journeys", {"name": "ok", "definition": definition(good)}).status_code == 201
    cases = [
        ({**good, "experiment": {"metric": "likes", "window_hours": 4}}, "experiment.metric"),
        ({**good, "experiment": {"metric": "open", "window_hours": 0}}, "experiment.window_hours"),
        ({**good, "experiment": {"metric": "open", "window_hours": -2}}, "experiment.window_hours"),
        ({**good, "experiment": {"metric": "open", "window_hours": 4, "min_per_branch": 0}}, "min_per_branch"),
        ({"branches": [{"name": "A", "weight": 9, "next": "a"}, {"name": "hold", "weight": 1, "next": None}],
          "experiment": {"metric": "open", "window_hours": 4}}, "at least 2 branches"),
        ({"branches": [{"name": "A", "percent": 50, "next": "a"}, {"name": "B", "percent": 45, "next": "b"},
                       {"name": "hold", "percent": 10, "next": None}]}, "add up to 105, not 100"),
        ({"branches": [{"name": "A", "percent": 50, "next": "a"}, {"name": "B", "weight": 1, "next": "b"}]},
         "every branch a percent"),
        ({"branches": [{"name": "A", "next": "a"}, {"name": "B", "weight": 1, "next": "b"}]}, "one of them"),
    ]  # fmt: skip
    for i, (split, expected) in enumerate(cases):
        body = definition(split)
        if "branches" in split and len(split["branches"]) == 2:
            del body["nodes"]["b"]
        r = api.post("/journeys", {"name": f"bad{i}", "definition": body})
        assert r.status_code == 422 and r.json()["code"] == "invalid_journey", r.json()
        assert expected in r.json()["message"], (expected, r.json())


def test_a_simulation_passes_an_experiment_split_and_leaves_no_state(api: Api, engine: Engine) -> None:
    jid = journey(api, {
        "trigger": {"type": "api"}, "start": "split",
        "nodes": {"split": {"type": "split", "branches": BRANCHES,
                            "experiment": {"metric": "conversion", "window_hours": 24}},
                  "a": {"type": "wait", "duration": {"hours": 1}, "next": None},
                  "b": {"type": "wait", "duration": {"hours": 1}, "next": None}},
    }, publish=False)  # fmt: skip
    r = api.post(f"/journeys/{jid}/simulate", {"contact": {"first_name": "Ann"}})
    assert r.status_code == 200, r.text
    first = r.json()["path"][0]
    assert first["node"] == "split" and first["outcome"] in ("A", "B", "holdout")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(journey_split)).scalar_one() == 0
