"""The lead story of issue 16, end to end through the public form, the API, the real worker, a
real SMTP server and a local server speaking HubSpot's API: a whitepaper form → double
opt-in → a nurture drip → the engagement score crosses 50 while fit is ≥ 30 → MQL → assigned
round robin → the owner's call task, completed "interested" → SQL → the contact upserted in
HubSpot → the deal won there is read back as ``Deal Won`` → customer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kairos.clock import FixedClock
from kairos.contacts.tables import lifecycle_change
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.api.test_console_auth import Browser, user
from tests.conftest import Api
from tests.crm.fakes import HubSpotFake
from tests.journeys.conftest import enrollments, journey, track
from tests.messaging.conftest import SmtpServer, email_template

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def hubspot() -> Iterator[HubSpotFake]:
    fake = HubSpotFake("pat-na1-secret")
    yield fake
    fake.stop()


def created(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    return dict(r.json())


def stages(engine: Engine, cid: int) -> list[tuple[str | None, str | None, str]]:
    lc = lifecycle_change.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(lc.from_stage, lc.to_stage, lc.source).where(lc.contact_id == cid).order_by(lc.id)
        )
        return [(a, b, c) for a, b, c in rows]


def visit(client: TestClient, write_key: str, anonymous_id: str) -> None:
    """A page view of /pricing from the browser, as the Segment snippet sends it."""
    r = client.post("/v1/page", json={"anonymousId": anonymous_id, "name": "Pricing",
                                      "properties": {"path": "/pricing", "url": "https://acme.example/pricing"}},
                    auth=(write_key, ""))  # fmt: skip
    assert r.status_code == 200, r.text


def scores(api: Api, cid: int) -> dict[str, float]:
    return {s["model"]["key"]: s["score"] for s in api.get(f"/contacts/{cid}/scores").json()["data"]}


def set_up(api: Api, hubspot: HubSpotFake) -> dict[str, Any]:
    """What a marketing ops person configures once: attributes, consent, the form, two score
    models, the lifecycle and assignment rules, the nurture and hand-off journeys, HubSpot."""
    for name, kind in (("employees", "number"), ("job_title", "string")):
        created(api.post("/attributes", {"name": name, "type": kind}))
    topic = created(
        api.post("/topics", {"key": "nurture", "name": "Product news", "opt_in": True, "double_opt_in": True})
    )
    form = created(api.post("/forms", {
        "key": "whitepaper", "name": "The state of EdTech 2027",
        "fields": [{"name": "email", "label": "Work email", "type": "email", "required": True},
                   {"name": "first_name", "label": "First name"},
                   {"name": "job_title", "label": "Job title"},
                   {"name": "employees", "label": "Employees", "type": "number"}],
        "consent": [{"topic_id": topic["id"], "label": "Send me product news", "wording_version": "v1"}],
    }))  # fmt: skip
    engagement = created(api.post("/score-models", {"key": "engagement", "name": "Engagement"}))
    fit = created(api.post("/score-models", {"key": "fit", "name": "Fit"}))
    for model, name, points, rule in (
        (engagement, "Whitepaper", 20, {"kind": "event", "event": "form_submitted"}),
        (engagement, "Pricing page", 10, {"kind": "event", "event": "Pricing",
                                          "where": [{"property": "path", "operator": "eq", "value": "/pricing"}],
                                          "cap": {"points": 40, "per": "week"}}),
        (fit, "Decision maker", 20, {"kind": "condition", "condition": {
            "type": "attribute", "attribute": "job_title", "operator": "contains", "value": "Director"}}),
        (fit, "Mid-size or larger", 15, {"kind": "condition", "condition": {
            "type": "attribute", "attribute": "employees", "operator": "gte", "value": 100}}),
    ):  # fmt: skip
        created(api.post(f"/score-models/{model['id']}/rules", {"name": name, "points": points, "rule": rule}))
    created(api.post("/lifecycle-rules", {"name": "Customer", "stage": "customer",
                                          "event": {"event": "Deal Won"}}))  # fmt: skip
    created(api.post("/lifecycle-rules", {
        "name": "MQL", "stage": "MQL", "from_stages": [None, "lead"],
        "condition": {"type": "all", "conditions": [
            {"type": "score", "model": "engagement", "operator": "gte", "value": 50},
            {"type": "score", "model": "fit", "operator": "gte", "value": 30}]},
    }))  # fmt: skip
    created(api.post("/assignment-rules", {"name": "Sales team", "stage": "MQL", "method": "round_robin"}))
    drip = [email_template(api, f"nurture-{i}", subject=f"EdTech lesson {i}") for i in (1, 2, 3)]
    nurture = journey(api, {
        "trigger": {"type": "event", "event": "form_submitted"}, "start": "settle",
        "nodes": {
            "settle": {"type": "wait", "duration": {"amount": 1, "unit": "hours"}, "next": "lesson1"},
            "lesson1": {"type": "send", "channel": "email", "template_id": drip[0], "topic_id": topic["id"],
                        "next": "wait1"},
            "wait1": {"type": "wait", "duration": {"amount": 2, "unit": "days"}, "next": "lesson2"},
            "lesson2": {"type": "send", "channel": "email", "template_id": drip[1], "topic_id": topic["id"],
                        "next": "wait2"},
            "wait2": {"type": "wait", "duration": {"amount": 2, "unit": "days"}, "next": "lesson3"},
            "lesson3": {"type": "send", "channel": "email", "template_id": drip[2], "topic_id": topic["id"],
                        "next": None},
        },
    }, name="Whitepaper nurture")  # fmt: skip
    handoff = journey(api, {
        "trigger": {"type": "attribute_changed", "attribute": "lifecycle_stage", "to": "MQL"}, "start": "call",
        "nodes": {
            "call": {"type": "task", "kind": "call", "title": "Call {{ contact.first_name }}",
                     "script": "Hi {{ contact.first_name }}, you read our EdTech report…", "assignee": "owner",
                     "due": {"amount": 1, "unit": "days"}, "timeout": {"amount": 5, "unit": "days"},
                     "outcomes": [{"name": "interested", "next": "sql"}, {"name": "not_now", "next": None}],
                     "timeout_next": None},
            "sql": {"type": "update_contact", "lifecycle_stage": "SQL", "next": None},
        },
    }, name="Sales hand-off")  # fmt: skip
    hubspot_conn = created(api.post("/crm-connections", {
        "name": "HubSpot", "provider": "hubspot", "settings": {"base_url": hubspot.url},
        "secrets": {"access_token": hubspot.token}, "sync_scope": "lifecycle",
        "lifecycle_stages": ["SQL", "customer"], "poll_interval": 60,
        "field_mapping": [{"source": "email", "target": "email"}, {"source": "first_name", "target": "firstname"},
                          {"source": "lifecycle_stage", "target": "lifecyclestage"},
                          {"source": "score", "target": "kairos_engagement"}],
    }))  # fmt: skip
    return {"form": form, "topic": topic, "nurture": nurture, "handoff": handoff, "hubspot": hubspot_conn}


def test_the_lead_story(
    api: Api,
    client: TestClient,
    engine: Engine,
    clock: FixedClock,
    workspace: CreatedWorkspace,
    smtp: SmtpServer,
    email_channel: dict[str, Any],
    worker: Worker,
    hubspot: HubSpotFake,
) -> None:
    reps = [user(engine, clock, workspace.id, f"rep{i}@acme.example", "sales") for i in range(2)]
    setup = set_up(api, hubspot)
    # an earlier lead takes the first turn of the round robin
    other = created(api.post("/contacts", {"external_id": "early", "email": "early@school.example",
                                           "traits": {"job_title": "IT Director", "employees": 500}}))  # fmt: skip
    for _ in range(3):
        track(api, workspace.write_key, "early", "form_submitted")
    worker.run_once()
    assert api.get(f"/contacts/{other['id']}").json()["lifecycle_stage"] == "MQL"

    # 0. an anonymous visitor looks at the pricing page (the Segment snippet's page call)
    device = "ajs-anon-mei-laptop"
    visit(client, workspace.write_key, device)
    worker.run_once()

    # 1. the whitepaper form, with consent: the lead (the earlier visit merged in), a pending
    # subscription, the confirmation email
    page = client.get(setup["form"]["url"])
    hidden = dict(re.findall(r"type='hidden' name='([^']+)' value='([^']*)'", page.text))
    clock.advance(timedelta(seconds=5))  # (a human takes a moment to fill a form)
    body = {**hidden, "anonymous_id": device, "email": "mei@school.example", "first_name": "Mei",
            "job_title": "Director of Studies", "employees": "240", "consent": str(setup["topic"]["id"])}  # fmt: skip
    r = client.post(setup["form"]["url"], content=str(httpx.QueryParams(body)), headers=FORM)
    assert r.status_code == 200, r.text
    [mei] = [c["id"] for c in api.get("/contacts").json()["data"] if c["email"] == "mei@school.example"]
    worker.run_once()
    [confirmation] = smtp.recorder.to("mei@school.example")
    html = confirmation.message.get_body(("html",)).get_content()
    link = re.search(r'href="https?://[^/"]+(/p/confirm/[^"]+)"', html)
    assert link, html
    assert client.post(link.group(1)).status_code == 200
    assert api.get(f"/contacts/{mei}/subscriptions").json()["topics"][0]["status"] == "subscribed"
    # the visit before the form and the form; a director at a 240-person school
    assert scores(api, mei) == {"engagement": 30, "fit": 35}

    # 2. the drip: a lesson an hour later, then every two days
    for wait in (timedelta(hours=1), timedelta(days=2), timedelta(days=2)):
        clock.advance(wait)
        worker.run_once()
    lessons = [m.message["Subject"] for m in smtp.recorder.to("mei@school.example")][1:]
    assert lessons == ["EdTech lesson 1", "EdTech lesson 2", "EdTech lesson 3"]
    assert api.get(f"/contacts/{mei}").json()["lifecycle_stage"] != "MQL"

    # 3. back on the pricing page twice: engagement reaches 50 with fit 35 → MQL, assigned to
    # the next sales rep in turn
    visit(client, workspace.write_key, device)
    visit(client, workspace.write_key, device)
    worker.run_once()
    assert scores(api, mei) == {"engagement": 50, "fit": 35}
    assert api.get(f"/contacts/{mei}").json()["lifecycle_stage"] == "MQL"
    assert stages(engine, mei)[-1][1:] == ("MQL", "rule")
    rep = Browser(client)
    assert rep.sign_in("rep1@acme.example").status_code == 200  # rep0 had the earlier lead
    leads = rep.call("GET", "/leads").json()["data"]
    assert [lead["contact_id"] for lead in leads] == [mei]
    assert "lead_assigned" in [n["kind"] for n in rep.call("GET", "/notifications").json()["data"]]

    # 4. the hand-off journey gives the owner a call task; "interested" makes Mei an SQL
    worker.run_once()
    [t] = rep.call("GET", "/tasks?mine=true&status=open").json()["data"]
    assert (t["title"], t["assignee_user_id"]) == ("Call Mei", reps[1])
    done = rep.call("POST", f"/tasks/{t['id']}/complete", {"outcome": "interested", "notes": "demo on Monday"})
    assert done.status_code == 200, done.text
    worker.run_once()
    assert api.get(f"/contacts/{mei}").json()["lifecycle_stage"] == "SQL"
    [e] = [e for e in enrollments(api, setup["handoff"]) if e["contact_id"] == mei]
    assert e["state"] == "completed"

    # 5. an SQL is in HubSpot's selection: upserted there
    worker.run_once()
    pushed = [r.json() for r in hubspot.requests if r.path.endswith("/batch/upsert")]
    mine = [i for batch in pushed for i in batch["inputs"] if i["id"] == "mei@school.example"]
    assert mine and mine[-1]["properties"]["lifecyclestage"] == "SQL"
    assert mine[-1]["properties"]["kairos_engagement"] == 50  # the default model: engagement
    assert all(i["id"] != "early@school.example" for batch in pushed for i in batch["inputs"])  # still an MQL
    sync = api.get(f"/contacts/{mei}/crm-sync").json()
    hubspot_id = sync["connections"][0]["crm_id"]

    # 6. sales wins the deal in HubSpot: read back as Deal Won, and Mei becomes a customer
    hubspot.add_deal("7001", "closedwon", [hubspot_id], amount="12000", currency="USD")
    clock.advance(timedelta(seconds=61))
    worker.run_once()
    worker.run_once()
    names = [ev["name"] for ev in api.get(f"/contacts/{mei}/events").json()["data"]]
    assert "Deal Won" in names
    assert api.get(f"/contacts/{mei}").json()["lifecycle_stage"] == "customer"
    assert [(to, source) for _, to, source in stages(engine, mei)][-3:] == [
        ("MQL", "rule"), ("SQL", "journey"), ("customer", "rule"),
    ]
