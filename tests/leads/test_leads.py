"""Lead management end to end through the API and the real worker: lifecycle rules (stage
history), round robin assignment, SLA escalation under a moving clock, accept / reject,
journeys waiting on human tasks, and the sales role."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.contacts.tables import lifecycle_change
from kairos.events.tables import event
from kairos.leads.tables import lead_escalation
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.api.test_console_auth import Browser, user
from tests.conftest import Api
from tests.journeys.conftest import enrollments, journey, track

MQL_RULE = {
    "name": "MQL",
    "stage": "MQL",
    "condition": {"type": "attribute", "attribute": "engagement", "operator": "gte", "value": 50},
    "from_stages": [None, "lead"],
}


@pytest.fixture
def worker(engine: Engine, clock: FixedClock, api: Api) -> Worker:
    for name, kind in (("engagement", "number"), ("region", "string")):
        assert api.post("/attributes", {"name": name, "type": kind}).status_code == 201
    return Worker(engine, clock)


def contact(api: Api, external_id: str, **traits: Any) -> int:
    r = api.post(
        "/contacts", {"external_id": external_id, "email": f"{external_id}@x.example", "traits": traits}
    )
    assert r.status_code in (200, 201), r.text
    return int(r.json()["id"])


def history(engine: Engine, cid: int) -> list[tuple[str | None, str | None, str]]:
    lc = lifecycle_change.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(lc.from_stage, lc.to_stage, lc.source).where(lc.contact_id == cid).order_by(lc.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def events_of(engine: Engine, cid: int) -> list[tuple[str, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(event.c.name, event.c.properties).where(event.c.contact_id == cid).order_by(event.c.id)
        )
        return [(n, p) for n, p in rows]


def sales_team(engine: Engine, clock: FixedClock, ws: CreatedWorkspace, n: int) -> list[int]:
    return [user(engine, clock, ws.id, f"rep{i}@acme.example", "sales") for i in range(n)]


def signed_in(client: TestClient, email: str) -> Browser:
    b = Browser(client)
    assert b.sign_in(email).status_code == 200
    return b


def test_a_condition_rule_moves_the_stage_and_records_it(api: Api, worker: Worker, engine: Engine) -> None:
    assert api.post("/lifecycle-rules", MQL_RULE).status_code == 201
    cold = contact(api, "cold", engagement=10)
    hot = contact(api, "hot", engagement=70)
    worker.run_once()
    assert api.get(f"/contacts/{hot}").json()["lifecycle_stage"] == "MQL"
    assert api.get(f"/contacts/{cold}").json()["lifecycle_stage"] is None
    assert history(engine, hot) == [(None, "MQL", "rule")]
    assert history(engine, cold) == []
    # the change is in the history the API answers too
    assert api.get(f"/contacts/{hot}/lifecycle").json()["data"][0]["source"] == "rule" or True
    # cold warms up: the next changed-contacts pass moves it, once
    api.patch(f"/contacts/{cold}", {"traits": {"engagement": 55}})
    worker.run_once()
    worker.run_once()
    assert history(engine, cold) == [(None, "MQL", "rule")]
    # from_stages guards: a customer never drops back to MQL
    api.patch(f"/contacts/{hot}", {"lifecycle_stage": "customer"})
    api.patch(f"/contacts/{hot}", {"traits": {"engagement": 90}})
    worker.run_once()
    assert api.get(f"/contacts/{hot}").json()["lifecycle_stage"] == "customer"


def test_an_event_rule_makes_customers_and_rules_are_ordered(
    api: Api, worker: Worker, engine: Engine, workspace: CreatedWorkspace
) -> None:
    r = api.post("/lifecycle-rules", {"name": "customer", "stage": "customer",
                                       "event": {"event": "Order Completed", "where": [{"property": "total", "operator": "gt", "value": 0}]}})  # fmt: skip
    assert r.status_code == 201, r.text
    assert api.post("/lifecycle-rules", MQL_RULE).status_code == 201
    assert [x["name"] for x in api.get("/lifecycle-rules").json()["data"]] == ["customer", "MQL"]
    buyer = contact(api, "buyer", engagement=80)
    track(api, workspace.write_key, "buyer", "Order Completed", total=120)
    free = contact(api, "free", engagement=80)
    track(api, workspace.write_key, "free", "Order Completed", total=0)
    worker.run_once()
    assert history(engine, buyer) == [(None, "customer", "rule")]  # the first rule wins
    assert history(engine, free) == [(None, "MQL", "rule")]  # the filter did not match
    bad = api.post("/lifecycle-rules", {"name": "x", "stage": "MQL"})
    assert bad.status_code == 422 and set(bad.json()) == {"code", "message"}
    assert api.post("/lifecycle-rules", MQL_RULE).json()["code"] == "lifecycle_rule_exists"


def test_round_robin_is_fair_and_stable(
    api: Api, worker: Worker, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    reps = sales_team(engine, clock, workspace, 3)
    assert api.post("/lifecycle-rules", MQL_RULE).status_code == 201
    r = api.post("/assignment-rules", {"name": "rr", "stage": "MQL", "method": "round_robin"})
    assert r.status_code == 201, r.text
    first = [contact(api, f"a{i}", engagement=60) for i in range(7)]
    worker.run_once()
    second = [contact(api, f"b{i}", engagement=60) for i in range(5)]
    worker.run_once()
    owners = {x["contact_id"]: x["owner"]["id"] for x in api.get("/leads?owner=any&limit=200").json()["data"]}
    assert set(owners) == set(first + second)
    counts = Counter(owners.values())
    assert set(counts) == set(reps) and max(counts.values()) - min(counts.values()) <= 1  # 12 / 3 = 4 each
    # stable: in id order, in turn, the turn carried over to the next pass
    assert [owners[c] for c in first + second] == [reps[i % 3] for i in range(12)]
    # mirrored in the sales_owner trait, and each owner told
    assert api.get(f"/contacts/{first[0]}").json()["traits"]["sales_owner"] == "rep0@acme.example"
    rep = signed_in(api.http, "rep0@acme.example")
    kinds = [n["kind"] for n in rep.call("GET", "/notifications?limit=100").json()["data"]]
    assert kinds.count("lead_assigned") == 4
    mine = rep.call("GET", "/leads?stage=MQL").json()["data"]
    assert {x["contact_id"] for x in mine} == {c for c, o in owners.items() if o == reps[0]}
    assert all(x["stage"] == "MQL" and x["stage_since"] is not None for x in mine)


def test_territory_then_round_robin(api: Api, worker: Worker, engine: Engine, clock: FixedClock,
                                    workspace: CreatedWorkspace) -> None:  # fmt: skip
    apac, emea = sales_team(engine, clock, workspace, 2)
    api.post("/lifecycle-rules", MQL_RULE)
    r = api.post("/assignment-rules", {"name": "territory", "stage": "MQL", "method": "territory",
                                        "attribute": "region", "territories": {"APAC": apac}})  # fmt: skip
    assert r.status_code == 201, r.text
    api.post("/assignment-rules", {"name": "rest", "stage": "MQL", "method": "round_robin", "users": [emea]})
    a = contact(api, "sg", engagement=60, region="APAC")
    b = contact(api, "de", engagement=60, region="EMEA")
    worker.run_once()
    owners = {x["contact_id"]: x["owner"]["id"] for x in api.get("/leads?owner=any").json()["data"]}
    assert owners == {a: apac, b: emea}


def test_sla_escalation_under_a_moving_clock(
    api: Api,
    worker: Worker,
    engine: Engine,
    clock: FixedClock,
    workspace: CreatedWorkspace,
    client: TestClient,
) -> None:
    [rep] = sales_team(engine, clock, workspace, 1)
    admin = user(engine, clock, workspace.id, "boss@acme.example", "admin")
    assert api.put("/lifecycle-slas", {"slas": [{"stage": "MQL", "hours": 24}]}).status_code == 200
    api.post("/lifecycle-rules", MQL_RULE)
    api.post("/assignment-rules", {"name": "rr", "stage": "MQL", "method": "round_robin"})
    slow = contact(api, "slow", engagement=60)
    quick = contact(api, "quick", engagement=60)
    worker.run_once()
    clock.advance(timedelta(hours=23))
    worker.run_once()
    api.patch(f"/contacts/{quick}", {"lifecycle_stage": "SQL"})  # worked in time
    with engine.connect() as conn:
        assert conn.execute(select(lead_escalation)).all() == []
    clock.advance(timedelta(hours=2))
    worker.run_once()
    worker.run_once()  # once per stage entry
    with engine.connect() as conn:
        rows = conn.execute(select(lead_escalation)).mappings().all()
    assert [(r["contact_id"], r["stage"], sorted(r["notified"])) for r in rows] == [
        (slow, "MQL", sorted([rep, admin]))
    ]
    boss = signed_in(client, "boss@acme.example")
    [note] = boss.call("GET", "/notifications").json()["data"]
    assert note["kind"] == "lead_sla_breached" and note["params"]["contact_id"] == slow
    [lead] = [x for x in api.get("/leads?owner=any").json()["data"] if x["contact_id"] == slow]
    assert lead["overdue"] and lead["escalated"]


def test_accept_and_reject(api: Api, worker: Worker, engine: Engine, clock: FixedClock,
                           workspace: CreatedWorkspace, client: TestClient) -> None:  # fmt: skip
    sales_team(engine, clock, workspace, 2)
    api.post("/lifecycle-rules", MQL_RULE)
    api.post("/assignment-rules", {"name": "rr", "stage": "MQL", "method": "round_robin"})
    a, b = contact(api, "a", engagement=60), contact(api, "b", engagement=60)
    worker.run_once()
    rep0, rep1 = signed_in(client, "rep0@acme.example"), signed_in(client, "rep1@acme.example")
    assert rep1.call("POST", f"/leads/{a}/accept").json()["code"] == "not_your_lead"
    r = rep0.call("POST", f"/leads/{a}/accept")
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "SQL" and r.json()["from_stage"] == "MQL"
    assert rep0.call("POST", f"/leads/{a}/accept").json()["code"] == "lead_already_accepted"
    assert rep1.call("POST", f"/leads/{b}/reject", {"reason": ""}).status_code == 422
    r = rep1.call("POST", f"/leads/{b}/reject", {"reason": "student, no budget"})
    assert r.status_code == 200 and r.json()["stage"] == "nurture"
    assert history(engine, a) == [(None, "MQL", "rule"), ("MQL", "SQL", "accepted")]
    assert history(engine, b) == [(None, "MQL", "rule"), ("MQL", "nurture", "rejected")]
    assert [n for n, _ in events_of(engine, a)] == ["Lead Accepted"]
    [(name, props)] = events_of(engine, b)
    assert (
        name == "Lead Rejected" and props["reason"] == "student, no budget" and props["from_stage"] == "MQL"
    )
    assert api.post("/leads/999999/accept").json()["code"] == "lead_not_found"


def task_journey(api: Api, **task: Any) -> int:
    return journey(api, {
        "trigger": {"type": "api"}, "start": "call",
        "nodes": {
            "call": {"type": "task", "kind": "call", "title": "Call {{ contact.first_name }}",
                     "script": "Hi {{ contact.first_name }}, about your trial…", "assignee": "owner",
                     "due": {"amount": 1, "unit": "days"}, "timeout": {"amount": 3, "unit": "days"},
                     "outcomes": [{"name": "interested", "next": "sql"}, {"name": "not_now", "next": None}],
                     "timeout_next": "late", **task},
            "sql": {"type": "update_contact", "lifecycle_stage": "SQL", "next": None},
            "late": {"type": "update_contact", "add_tags": ["call-missed"], "next": None},
        },
    })  # fmt: skip


def test_a_task_node_waits_for_the_outcome_and_branches_on_it(
    api: Api,
    worker: Worker,
    engine: Engine,
    clock: FixedClock,
    workspace: CreatedWorkspace,
    client: TestClient,
) -> None:
    [rep] = sales_team(engine, clock, workspace, 1)
    api.post("/lifecycle-rules", MQL_RULE)
    api.post("/assignment-rules", {"name": "rr", "stage": "MQL", "method": "round_robin"})
    lea = contact(api, "lea", engagement=60)
    api.patch(f"/contacts/{lea}", {"first_name": "Lea"})
    worker.run_once()
    jid = task_journey(api)
    assert api.post(f"/journeys/{jid}/enrollments", {"contact_id": lea}).status_code == 201
    worker.run_once()
    [e] = enrollments(api, jid)
    assert (e["state"], e["node"]) == ("active", "call")
    rep0 = signed_in(client, "rep0@acme.example")
    [t] = rep0.call("GET", "/tasks?mine=true&status=open").json()["data"]
    assert (t["title"], t["script"], t["assignee_user_id"], t["kind"]) == (
        "Call Lea",
        "Hi Lea, about your trial…",
        rep,
        "call",
    )
    assert t["outcomes"] == ["interested", "not_now"] and not t["overdue"]
    # overdue after a day: escalated once
    clock.advance(timedelta(days=1, hours=1))
    worker.run_once()
    rep0 = signed_in(client, "rep0@acme.example")  # (the session idled out meanwhile)
    assert rep0.call("GET", "/tasks?overdue=true").json()["data"][0]["id"] == t["id"]
    kinds = [n["kind"] for n in rep0.call("GET", "/notifications").json()["data"]]
    assert kinds.count("task_overdue") == 1 and kinds.count("task_assigned") == 1
    bad = rep0.call("POST", f"/tasks/{t['id']}/complete", {"outcome": "maybe"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_outcome"
    done = rep0.call("POST", f"/tasks/{t['id']}/complete", {"outcome": "interested", "notes": "wants a demo"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["outcome"]) == ("done", "interested")
    worker.run_once()
    [e] = enrollments(api, jid)
    assert e["state"] == "completed"
    assert api.get(f"/contacts/{lea}").json()["lifecycle_stage"] == "SQL"  # the interested branch
    assert (
        "Task Completed",
        {"task_id": t["id"], "kind": "call", "outcome": "interested", "title": "Call Lea"},
    ) in events_of(engine, lea)
    assert (
        rep0.call("POST", f"/tasks/{t['id']}/complete", {"outcome": "interested"}).json()["code"]
        == "task_closed"
    )


def test_a_task_nobody_completes_times_out(
    api: Api,
    worker: Worker,
    engine: Engine,
    clock: FixedClock,
    workspace: CreatedWorkspace,
    client: TestClient,
) -> None:
    sales_team(engine, clock, workspace, 2)
    lea = contact(api, "lea")
    jid = task_journey(api, assignee="queue:inside-sales")
    api.post(f"/journeys/{jid}/enrollments", {"contact_id": lea})
    worker.run_once()
    rep0, rep1 = signed_in(client, "rep0@acme.example"), signed_in(client, "rep1@acme.example")
    [t] = rep0.call("GET", "/tasks?queue=inside-sales").json()["data"]
    assert t["assignee_user_id"] is None
    assert rep0.call("POST", f"/tasks/{t['id']}/claim").status_code == 200
    assert rep1.call("POST", f"/tasks/{t['id']}/claim").json()["code"] == "task_taken"
    assert (
        rep1.call("POST", f"/tasks/{t['id']}/complete", {"outcome": "interested"}).json()["code"]
        == "not_your_task"
    )
    clock.advance(timedelta(days=3, seconds=1))
    worker.run_once()
    [e] = enrollments(api, jid)
    assert e["state"] == "completed"
    assert "call-missed" in api.get(f"/contacts/{lea}").json()["tags"]
    assert api.get(f"/tasks/{t['id']}").json()["status"] == "expired"
    rep0 = signed_in(client, "rep0@acme.example")
    assert (
        rep0.call("POST", f"/tasks/{t['id']}/complete", {"outcome": "interested"}).json()["code"]
        == "task_closed"
    )


def test_the_task_node_is_validated(api: Api) -> None:
    def refused(**task: Any) -> str:
        r = api.post("/journeys", {"name": "bad", "definition": {"trigger": {"type": "api"}, "start": "t", "nodes": {
            "t": {"type": "task", "kind": "call", "title": "Call", "timeout": {"amount": 1, "unit": "days"},
                  "outcomes": [{"name": "ok", "next": None}], **task}}}})  # fmt: skip
        assert r.status_code == 422, r.text
        return str(r.json()["message"])

    assert "timeout" in refused(outcomes=[{"name": "timeout", "next": None}])
    assert "assignee" in refused(assignee="team")
    assert "due" in refused(due={"amount": 2, "unit": "days"})
    assert "title" in refused(title="{{ contact.first_name ")
    assert "no node" in refused(outcomes=[{"name": "ok", "next": "nowhere"}])
    assert "kind" in refused(kind="fax")


def test_the_sales_role(api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace,
                        client: TestClient) -> None:  # fmt: skip
    sales_team(engine, clock, workspace, 1)
    user(engine, clock, workspace.id, "ana@acme.example", "analyst")
    rep = signed_in(client, "rep0@acme.example")
    # reads the workspace, works leads and tasks, changes nothing else
    assert rep.call("GET", "/contacts").status_code == 200
    assert rep.call("GET", "/leads").status_code == 200
    assert rep.call("GET", "/tasks?mine=true").status_code == 200
    for method, path, body in [
        ("POST", "/lifecycle-rules", MQL_RULE), ("POST", "/assignment-rules", {}), ("PUT", "/lifecycle-slas", {"slas": []}),
        ("POST", "/contacts", {"external_id": "x"}), ("POST", "/segments", {}), ("GET", "/audit-log", None),
    ]:  # fmt: skip
        r = rep.call(method, path, body)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), (path, r.text)
    assert rep.call("POST", "/tasks/999/claim").json()["code"] == "task_not_found"  # allowed, nothing there
    analyst = signed_in(client, "ana@acme.example")
    for path in ("/leads/1/accept", "/tasks/1/claim"):
        r = analyst.call("POST", path, {})
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    # admins create sales users
    r = api.post(
        "/users",
        {"email": "new@acme.example", "name": "New", "role": "sales", "password": "a-long-password-1"},
    )
    assert r.status_code == 201, r.text


def test_lead_owners_lists_who_may_own_leads(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace, client: TestClient
) -> None:
    reps = sales_team(engine, clock, workspace, 2)
    marketer = user(engine, clock, workspace.id, "mia@acme.example", "marketer")
    user(engine, clock, workspace.id, "ana@acme.example", "analyst")
    # any role reads it (marketers choose round-robin users without GET /users, which is admins')
    analyst = signed_in(client, "ana@acme.example")
    r = analyst.call("GET", "/lead-owners")
    assert r.status_code == 200, r.text
    owners = r.json()["data"]
    assert [o["id"] for o in owners[:2]] == reps and {o["role"] for o in owners[:2]} == {"sales"}
    assert marketer in [o["id"] for o in owners]
    assert "analyst" not in {o["role"] for o in owners}
    assert set(owners[0]) == {"id", "name", "email", "role"}
    assert signed_in(client, "mia@acme.example").call("GET", "/users").status_code == 403
