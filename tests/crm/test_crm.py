"""CRM sync end to end through the API and the worker, against local servers speaking
HubSpot's and Salesforce's APIs and a Standard Webhooks receiver."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from kairos.clock import FixedClock
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.crm.fakes import HubSpotFake, SalesforceFake
from tests.messaging.conftest import make_contact
from tests.messaging.fake_providers import WebhookReceiver, json_reply

MAPPING = [
    {"source": "email", "target": "email"},
    {"source": "first_name", "target": "firstname"},
    {"source": "traits.company", "target": "company"},
]


def hubspot_connection(api: Api, fake: HubSpotFake, **extra: Any) -> dict[str, Any]:
    body = {"name": "HubSpot", "provider": "hubspot", "settings": {"base_url": fake.url},
            "secrets": {"access_token": fake.token}, "field_mapping": MAPPING, **extra}  # fmt: skip
    r = api.post("/crm-connections", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def salesforce_connection(api: Api, fake: SalesforceFake, **extra: Any) -> dict[str, Any]:
    body = {"name": "Salesforce", "provider": "salesforce", "settings": {"login_url": fake.url},
            "secrets": {"client_id": fake.client_id, "client_secret": fake.client_secret},
            "field_mapping": [{"source": "email", "target": "Email"}, {"source": "last_name", "target": "LastName"},
                              {"source": "traits.company", "target": "Company"}], **extra}  # fmt: skip
    r = api.post("/crm-connections", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def sync_state(api: Api, contact_id: int) -> dict[str, Any]:
    r = api.get(f"/contacts/{contact_id}/crm-sync")
    assert r.status_code == 200, r.text
    return dict(r.json())


def upserts(fake: HubSpotFake) -> list[dict[str, Any]]:
    return [r.json() for r in fake.requests if r.path.endswith("/batch/upsert")]


def test_hubspot_upsert_with_mapping_and_changes(api: Api, worker: Worker, hubspot: HubSpotFake) -> None:
    ada = make_contact(api, email="ada@firm.example", first_name="Ada", traits={"company": "Analytical"})
    conn = hubspot_connection(api, hubspot)
    assert conn["secrets_set"] == ["access_token"] and "secrets" not in conn
    worker.run_once()
    (batch,) = upserts(hubspot)
    assert batch == {"inputs": [{"idProperty": "email", "id": "ada@firm.example",
                                 "properties": {"email": "ada@firm.example", "firstname": "Ada",
                                                "company": "Analytical"}}]}  # fmt: skip
    assert all(r.headers["authorization"] == "Bearer pat-na1-secret" for r in hubspot.requests)
    state = sync_state(api, ada)
    (mine,) = state["connections"]
    assert mine["status"] == "synced" and mine["crm_id"] == "1001" and mine["provider"] == "hubspot"
    assert [e["outcome"] for e in state["log"]] == ["synced"]

    # a profile change is pushed again, to the same HubSpot contact; nothing else is re-sent
    assert api.patch(f"/contacts/{ada}", {"first_name": "Augusta"}).status_code == 200
    worker.run_once()
    assert len(upserts(hubspot)) == 2
    assert upserts(hubspot)[1]["inputs"][0]["properties"]["firstname"] == "Augusta"
    assert sync_state(api, ada)["connections"][0]["crm_id"] == "1001"
    worker.run_once()
    assert len(upserts(hubspot)) == 2
    r = api.get(f"/crm-connections/{conn['id']}")
    assert r.json()["counts"] == {"queued": 0, "sending": 0, "synced": 1, "failed": 0}
    assert r.json()["last_synced_at"] is not None
    # the list carries the same sync state (the console's connections table)
    (listed,) = api.get("/crm-connections").json()["data"]
    assert listed["counts"] == r.json()["counts"] and listed["last_synced_at"] == r.json()["last_synced_at"]


def test_a_changed_score_is_pushed_again(
    api: Api, worker: Worker, hubspot: HubSpotFake, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    """The default score model's score is the contact's `score` field: when an event moves
    it, the CRM record gets the new value in the same worker pass."""
    ada = make_contact(api, email="ada@firm.example", external_id="ada")
    model = api.post("/score-models", {"key": "engagement", "name": "Engagement"}).json()
    assert model["is_default"] is True
    rule = {"name": "Pricing", "points": 10, "rule": {"kind": "event", "event": "Pricing Viewed"}}
    assert api.post(f"/score-models/{model['id']}/rules", rule).status_code == 201
    hubspot_connection(api, hubspot, field_mapping=[*MAPPING, {"source": "score", "target": "kairos_score"}])
    worker.run_once()
    assert upserts(hubspot)[0]["inputs"][0]["properties"]["kairos_score"] == 0
    now = clock.now()
    msg = {"type": "track", "userId": "ada", "event": "Pricing Viewed", "timestamp": now.isoformat()}
    with engine.begin() as conn:
        ingest(conn, workspace.id, [parse_message(msg, None, now)], now)
    clock.advance(timedelta(seconds=1))
    worker.run_once()
    assert api.get(f"/contacts/{ada}").json()["score"] == 10
    assert len(upserts(hubspot)) == 2
    assert upserts(hubspot)[1]["inputs"][0]["properties"]["kairos_score"] == 10
    # an event that scores nothing pushes nothing
    clock.advance(timedelta(seconds=1))
    now = clock.now()
    other = {**msg, "event": "Other", "timestamp": now.isoformat()}
    with engine.begin() as conn:
        ingest(conn, workspace.id, [parse_message(other, None, now)], now)
    worker.run_once()
    assert len(upserts(hubspot)) == 2


def test_429_and_5xx_are_retried_with_retry_after(
    api: Api, worker: Worker, hubspot: HubSpotFake, clock: FixedClock
) -> None:
    cid = make_contact(api, email="bo@firm.example", first_name="Bo")
    hubspot.replies = [
        json_reply(429, {"status": "error", "message": "You have reached your secondly limit.",
                         "errorType": "RATE_LIMIT", "category": "RATE_LIMITS"}, {"Retry-After": "120"}),
        json_reply(502, {"status": "error", "message": "bad gateway"}),
    ]  # fmt: skip
    hubspot_connection(api, hubspot, pull_deals=False)
    worker.run_once()
    state = sync_state(api, cid)["connections"][0]
    assert state["status"] == "queued" and state["attempts"] == 1
    assert "HTTP 429 Too Many Requests" in state["last_error"]
    waited = state["next_attempt_at"]
    clock.advance(timedelta(seconds=60))
    worker.run_once()
    assert len(upserts(hubspot)) == 1  # Retry-After honoured: not before 120 s
    clock.advance(timedelta(seconds=61))
    worker.run_once()  # the 502
    assert sync_state(api, cid)["connections"][0]["attempts"] == 2
    clock.advance(timedelta(minutes=10))
    worker.run_once()
    state = sync_state(api, cid)
    assert state["connections"][0]["status"] == "synced" and waited
    assert [e["outcome"] for e in reversed(state["log"])] == ["retry", "retry", "synced"]


def test_one_invalid_contact_fails_alone_and_is_recorded(
    api: Api, worker: Worker, hubspot: HubSpotFake
) -> None:
    good = make_contact(api, email="ok@firm.example", first_name="Ok")
    bad = make_contact(api, external_id="bad", traits={"work_email": "not-an-email"})
    r = api.post("/crm-connections", {
        "name": "HubSpot", "provider": "hubspot", "settings": {"base_url": hubspot.url, "id_property": "email"},
        "secrets": {"access_token": hubspot.token},
        "field_mapping": [{"source": "traits.work_email", "target": "email"}, {"source": "email", "target": "work"}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    worker.run_once()
    assert sync_state(api, good)["connections"][0]["status"] == "synced"
    failed = sync_state(api, bad)
    assert failed["connections"][0]["status"] == "failed"
    assert failed["connections"][0]["last_error"] == "HTTP 400 Bad Request VALIDATION_ERROR"
    assert failed["log"][0]["outcome"] == "failed"
    worker.run_once()  # a permanent failure is not retried
    assert len(upserts(hubspot)) == 3  # the batch, then each alone


def test_credentials_refused_pause_the_connection(api: Api, worker: Worker, hubspot: HubSpotFake) -> None:
    cid = make_contact(api, email="cy@firm.example")
    conn = hubspot_connection(api, hubspot, secrets={"access_token": "wrong"})
    worker.run_once()
    row = api.get(f"/crm-connections/{conn['id']}").json()
    assert row["paused_until"] is not None and "credentials refused" in row["pause_reason"]
    state = sync_state(api, cid)["connections"][0]
    assert state["status"] == "queued" and state["attempts"] == 0  # an outage costs no attempt
    r = api.patch(
        f"/crm-connections/{conn['id']}", {"secrets": {"access_token": hubspot.token}, "resume": True}
    )
    assert r.status_code == 200 and r.json()["paused_until"] is None
    worker.run_once()
    assert sync_state(api, cid)["connections"][0]["status"] == "synced"


def test_hubspot_deal_won_becomes_one_event(
    api: Api, worker: Worker, hubspot: HubSpotFake, clock: FixedClock
) -> None:
    cid = make_contact(api, email="di@firm.example")
    conn = hubspot_connection(api, hubspot, poll_interval=60)
    worker.run_once()
    hubspot_id = sync_state(api, cid)["connections"][0]["crm_id"]
    hubspot.add_deal("9001", "closedwon", [hubspot_id], amount="4500.50", currency="EUR")
    hubspot.add_deal("9002", "appointmentscheduled", ["424242"])  # someone else's
    clock.advance(timedelta(seconds=61))
    worker.run_once()
    clock.advance(timedelta(seconds=61))
    worker.run_once()  # read again: the stage did not change
    events = api.get(f"/contacts/{cid}/events").json()["data"]
    deals = [e for e in events if e["name"].startswith("Deal ")]
    assert sorted(e["name"] for e in deals) == ["Deal Stage Changed", "Deal Won"]
    won = next(e for e in deals if e["name"] == "Deal Won")
    assert won["properties"].items() >= {"deal_id": "9001", "amount": 4500.5, "currency": "EUR", "stage": "closedwon",
                                      "crm": "hubspot", "crm_connection_id": conn["id"]}.items()  # fmt: skip
    log = sync_state(api, cid)["log"]
    assert log[0]["direction"] == "pull" and log[0]["detail"] == "Deal Won: closedwon"
    # a later move to lost is a new change
    hubspot.add_deal("9001", "closedlost", [hubspot_id])
    clock.advance(timedelta(seconds=61))
    worker.run_once()
    names = [
        e["name"] for e in api.get(f"/contacts/{cid}/events").json()["data"] if e["name"].startswith("Deal ")
    ]
    assert names.count("Deal Lost") == 1 and names.count("Deal Won") == 1


def test_salesforce_upsert_token_refresh_failure_and_opportunity(
    api: Api, worker: Worker, salesforce: SalesforceFake, clock: FixedClock
) -> None:
    ok = make_contact(api, email="ed@school.example", last_name="Lovelace", traits={"company": "Uni"})
    missing = make_contact(api, email="fay@school.example", traits={"company": "Uni"})
    salesforce_connection(api, salesforce, poll_interval=60)
    worker.run_once()
    patches = [r for r in salesforce.requests if r.method == "PATCH"]
    assert {r.path for r in patches} == {
        f"/services/data/v60.0/sobjects/Lead/External_Id__c/{c}" for c in (ok, missing)
    }
    assert salesforce.leads[str(ok)]["Email"] == "ed@school.example"
    assert sync_state(api, ok)["connections"][0]["crm_id"] == salesforce.leads[str(ok)]["Id"]
    bad = sync_state(api, missing)["connections"][0]
    assert bad["status"] == "failed" and bad["last_error"] == "HTTP 400 Bad Request REQUIRED_FIELD_MISSING"

    # an expired session: a new token, and the call again
    salesforce.expire_sessions()
    assert api.patch(f"/contacts/{ok}", {"first_name": "Ada"}).status_code == 200
    logins = sum(r.path == "/services/oauth2/token" for r in salesforce.requests)
    worker.run_once()
    assert sum(r.path == "/services/oauth2/token" for r in salesforce.requests) == logins + 1
    assert sync_state(api, ok)["connections"][0]["status"] == "synced"

    salesforce.opportunities.append({"lead": str(ok), "Id": "006000000000001", "Name": "Course", "StageName": "Closed Won",
                                     "Amount": 900.0, "IsWon": True, "IsClosed": True,
                                     "LastModifiedDate": "2026-03-02T12:30:00.000+0000"})  # fmt: skip
    clock.advance(timedelta(hours=1))
    worker.run_once()
    clock.advance(timedelta(hours=1))
    worker.run_once()
    names = [e["name"] for e in api.get(f"/contacts/{ok}/events").json()["data"]]
    assert names.count("Deal Won") == 1 and names.count("Deal Stage Changed") == 1


def test_webhook_connection_posts_signed_contacts(api: Api, worker: Worker) -> None:
    r = api.post("/crm-connections", {"name": "Middleware", "provider": "webhook", "settings": {}})
    assert r.status_code == 201, r.text
    assert r.json()["pull_deals"] is False  # push-only
    conn = r.json()
    secret = api.get(f"/crm-connections/{conn['id']}/signing-secret").json()["signing_secret"]
    receiver = WebhookReceiver(secret)
    try:
        r = api.patch(f"/crm-connections/{conn['id']}", {"settings": {"url": receiver.url + "/crm"}})
        assert r.status_code == 200, r.text
        cid = make_contact(api, email="gus@firm.example", first_name="Gus")
        worker.run_once()
        (request,) = receiver.requests
        assert request.notes["verified"] and request.notes["verified_independently"]
        body = request.json()
        assert body["type"] == "contact.upsert" and body["contact"]["id"] == cid
        assert body["properties"] == {"email": "gus@firm.example", "first_name": "Gus"}
        assert sync_state(api, cid)["connections"][0]["status"] == "synced"
    finally:
        receiver.stop()


def test_selection_by_segment_or_stage_and_push_now(api: Api, worker: Worker, hubspot: HubSpotFake) -> None:
    lead = make_contact(api, email="mql@firm.example", lifecycle_stage="mql")
    other = make_contact(api, email="sub@firm.example", lifecycle_stage="subscriber")
    hubspot_connection(api, hubspot, sync_scope="lifecycle", lifecycle_stages=["mql", "sql"])
    worker.run_once()
    assert [i["id"] for b in upserts(hubspot) for i in b["inputs"]] == ["mql@firm.example"]
    assert sync_state(api, other)["connections"] == []
    r = api.post(f"/contacts/{other}/crm-sync", {})
    assert r.status_code == 202 and r.json() == {"queued": 1}
    worker.run_once()
    assert sync_state(api, other)["connections"][0]["status"] == "synced"
    assert lead


def test_api_errors_and_ssrf(api: Api, strict_api: Api, hubspot: HubSpotFake) -> None:
    body = {"name": "H", "provider": "hubspot", "settings": {"base_url": hubspot.url},
            "secrets": {"access_token": "t"}}  # fmt: skip
    r = strict_api.post("/crm-connections", body)
    assert r.status_code == 422 and r.json()["code"] == "url_not_allowed"
    r = api.post("/crm-connections", {**body, "secrets": {}})
    assert r.status_code == 422 and r.json()["code"] == "invalid_crm_config"
    r = api.post("/crm-connections", {**body, "field_mapping": [{"source": "password", "target": "x"}]})
    assert r.status_code == 422 and r.json()["code"] == "invalid_field_mapping"
    r = api.post("/crm-connections", {**body, "sync_scope": "segment", "segment_id": 999})
    assert r.status_code == 404 and r.json()["code"] == "segment_not_found"
    assert api.post("/crm-connections", body).status_code == 201
    r = api.post("/crm-connections", body)
    assert r.status_code == 409 and r.json()["code"] == "crm_connection_exists"
    assert api.get("/crm-connections/999").json()["code"] == "crm_connection_not_found"
    r = api.get("/crm-connections/providers")
    assert {p["name"] for p in r.json()["data"]} == {"hubspot", "salesforce", "webhook"}
    assert api.get("/contacts/999/crm-sync").json()["code"] == "contact_not_found"


def test_verify_connection(api: Api, hubspot: HubSpotFake, salesforce: SalesforceFake) -> None:
    good = hubspot_connection(api, hubspot)
    assert api.post(f"/crm-connections/{good['id']}/verify").status_code == 204
    r = api.patch(f"/crm-connections/{good['id']}", {"secrets": {"access_token": "nope"}})
    r = api.post(f"/crm-connections/{good['id']}/verify")
    assert r.status_code == 422 and r.json() == {"code": "crm_unreachable",
                                                 "message": "HubSpot answered HTTP 401 Unauthorized INVALID_AUTHENTICATION"}  # fmt: skip
    sf = salesforce_connection(api, salesforce, secrets={"client_id": "x", "client_secret": "y"})
    r = api.post(f"/crm-connections/{sf['id']}/verify")
    assert r.status_code == 422 and "invalid_client" in r.json()["message"]
