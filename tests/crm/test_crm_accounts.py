"""Accounts (B2B) in the CRM sync, end to end through the API and the worker, against the
local servers speaking HubSpot's (companies, contact→company associations) and
Salesforce's (Account upserts on an external id) APIs and a Standard Webhooks receiver."""

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
from tests.crm.test_crm import hubspot_connection, salesforce_connection, sync_state
from tests.messaging.conftest import make_contact
from tests.messaging.fake_providers import WebhookReceiver, json_reply

CONTACTS = "/crm/v3/objects/contacts/batch/upsert"
COMPANIES = "/crm/v3/objects/companies/batch/upsert"
ASSOCIATE = "/crm/v4/associations/contacts/companies/batch/associate/default"


def make_account(api: Api, members: list[int], **fields: Any) -> int:
    r = api.post("/accounts", fields)
    assert r.status_code in (200, 201), r.text
    account_id = int(r.json()["id"])
    r = api.post(f"/accounts/{account_id}/contacts", {"contacts": [{"contact_id": c} for c in members]})
    assert r.status_code == 200, r.text
    return account_id


def bodies(fake: HubSpotFake, path: str) -> list[dict[str, Any]]:
    return [r.json() for r in fake.requests if r.path == path]


def account_state(api: Api, account_id: int) -> dict[str, Any]:
    r = api.get(f"/accounts/{account_id}/crm-sync")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_hubspot_company_upserted_associated_and_repushed_on_change(
    api: Api, worker: Worker, hubspot: HubSpotFake, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    ada = make_contact(api, email="ada@firm.example", external_id="ada", first_name="Ada")
    acme = make_account(api, [ada], external_id="g-1", name="Acme", domain="acme.example",
                        traits={"industry": "Software", "plan": "pro"})  # fmt: skip
    model = api.post("/score-models", {"key": "engagement", "name": "Engagement"}).json()
    rule = {"name": "Pricing", "points": 10, "rule": {"kind": "event", "event": "Pricing Viewed"}}
    assert api.post(f"/score-models/{model['id']}/rules", rule).status_code == 201
    mapping = [{"source": "name", "target": "name"}, {"source": "domain", "target": "domain"},
               {"source": "score.sum", "target": "kairos_score"}]  # fmt: skip
    conn = hubspot_connection(api, hubspot, account_mapping=mapping, pull_deals=False)
    assert conn["push_accounts"] is True and conn["account_mapping"] == mapping
    worker.run_once()

    (company,) = bodies(hubspot, COMPANIES)
    assert company == {"inputs": [{"idProperty": "kairos_account_id", "id": str(acme),
                                   "properties": {"name": "Acme", "domain": "acme.example", "kairos_score": 0,
                                                  "kairos_account_id": str(acme)}}]}  # fmt: skip
    # the company first, then the contact once, associated with it
    paths = [r.path for r in hubspot.requests]
    assert paths.index(COMPANIES) < paths.index("/crm/v3/objects/contacts/batch/upsert")
    assert len(bodies(hubspot, CONTACTS)) == 1
    state = account_state(api, acme)
    (mine,) = state["connections"]
    company_id = hubspot.companies[str(acme)]["id"]
    assert mine["status"] == "synced" and mine["crm_id"] == company_id and mine["provider"] == "hubspot"
    assert [e["outcome"] for e in state["log"]] == ["synced"]
    contact_id = sync_state(api, ada)["connections"][0]["crm_id"]
    assert bodies(hubspot, ASSOCIATE) == [{"inputs": [{"from": {"id": contact_id}, "to": {"id": company_id}}]}]
    assert hubspot.associations == {(contact_id, company_id)}

    # an attribute change re-pushes the company (not the contact)
    assert api.patch(f"/accounts/{acme}", {"name": "Acme Corp"}).status_code == 200
    worker.run_once()
    assert [b["inputs"][0]["properties"]["name"] for b in bodies(hubspot, COMPANIES)] == ["Acme", "Acme Corp"]
    assert len(bodies(hubspot, CONTACTS)) == 1
    # a change of something not mapped sends nothing (the same values were accepted)
    assert api.patch(f"/accounts/{acme}", {"traits": {"plan": "enterprise"}}).status_code == 200
    worker.run_once()
    assert len(bodies(hubspot, COMPANIES)) == 2
    assert account_state(api, acme)["connections"][0]["status"] == "synced"

    # the rolled-up score moves with a member's score: the company gets it
    now = clock.now()
    msg = {"type": "track", "userId": "ada", "event": "Pricing Viewed", "timestamp": now.isoformat()}
    with engine.begin() as c:
        ingest(c, workspace.id, [parse_message(msg, None, now)], now)
    clock.advance(timedelta(seconds=1))
    worker.run_once()
    assert bodies(hubspot, COMPANIES)[-1]["inputs"][0]["properties"]["kairos_score"] == 10
    assert len(bodies(hubspot, COMPANIES)) == 3
    assert hubspot.associations == {(contact_id, company_id)}


def test_a_company_error_is_retried_and_logged_without_losing_the_contact(
    api: Api, worker: Worker, hubspot: HubSpotFake, clock: FixedClock
) -> None:
    bo = make_contact(api, email="bo@firm.example", first_name="Bo")
    acme = make_account(api, [bo], name="Acme")
    hubspot.path_replies[COMPANIES] = [
        json_reply(503, {"status": "error", "message": "Service unavailable", "category": "SERVICE_UNAVAILABLE"})
    ]
    hubspot_connection(api, hubspot, pull_deals=False)
    worker.run_once()
    # the contact went through on its own; the company waits for its retry
    assert sync_state(api, bo)["connections"][0]["status"] == "synced"
    state = account_state(api, acme)
    assert state["connections"][0]["status"] == "queued" and state["connections"][0]["attempts"] == 1
    assert state["connections"][0]["last_error"] == "HTTP 503 Service Unavailable SERVICE_UNAVAILABLE"
    assert bodies(hubspot, ASSOCIATE) == []

    clock.advance(timedelta(minutes=10))
    worker.run_once()
    state = account_state(api, acme)
    assert state["connections"][0]["status"] == "synced"
    assert [e["outcome"] for e in reversed(state["log"])] == ["retry", "synced"]
    # once the company exists the member is pushed again, now associated with it
    contact_id = sync_state(api, bo)["connections"][0]["crm_id"]
    assert hubspot.associations == {(contact_id, hubspot.companies[str(acme)]["id"])}
    assert [e["outcome"] for e in sync_state(api, bo)["log"]] == ["synced", "synced"]


def test_a_refused_company_fails_alone(api: Api, worker: Worker, hubspot: HubSpotFake) -> None:
    """Matching companies on a property that is not unique is refused (400): the account is
    failed and logged, the contact is synced."""
    cy = make_contact(api, email="cy@firm.example")
    acme = make_account(api, [cy], name="Acme", domain="acme.example")
    r = api.post("/crm-connections", {
        "name": "HubSpot", "provider": "hubspot",
        "settings": {"base_url": hubspot.url, "company_id_property": "domain"},
        "secrets": {"access_token": hubspot.token}, "pull_deals": False,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    worker.run_once()
    state = account_state(api, acme)
    assert state["connections"][0]["status"] == "failed"
    assert state["log"][0]["detail"] == "HTTP 400 Bad Request VALIDATION_ERROR"
    assert sync_state(api, cy)["connections"][0]["status"] == "synced"
    worker.run_once()  # a permanent failure is not retried
    assert len(bodies(hubspot, COMPANIES)) == 1


def test_salesforce_account_upsert_and_lead_company(
    api: Api, worker: Worker, salesforce: SalesforceFake
) -> None:
    ed = make_contact(api, email="ed@school.example", last_name="Lovelace")
    school = make_account(api, [ed], name="North School", domain="north.example", traits={"industry": "Education"})
    unnamed = make_account(api, [ed], domain="south.example")
    salesforce_connection(
        api, salesforce, pull_deals=False,
        field_mapping=[{"source": "email", "target": "Email"}, {"source": "last_name", "target": "LastName"}],
    )  # fmt: skip
    worker.run_once()
    patches = [r.path for r in salesforce.requests if r.method == "PATCH"]
    base = "/services/data/v60.0/sobjects"
    assert patches[:2] == [f"{base}/Account/External_Id__c/{school}", f"{base}/Account/External_Id__c/{unnamed}"]
    assert salesforce.accounts[str(school)] | {"Id": ""} == {
        "Name": "North School", "Website": "north.example", "Industry": "Education", "Id": ""
    }
    assert salesforce.accounts[str(unnamed)]["Name"] == "south.example"  # Name is required: the domain
    # the lead's Company is its first account's name
    assert salesforce.leads[str(ed)]["Company"] == "North School"
    assert account_state(api, school)["connections"][0]["crm_id"] == salesforce.accounts[str(school)]["Id"]
    assert sync_state(api, ed)["connections"][0]["status"] == "synced"


def test_salesforce_contacts_get_their_account_id(api: Api, worker: Worker, salesforce: SalesforceFake) -> None:
    fay = make_contact(api, email="fay@school.example", last_name="Fairfax")
    school = make_account(api, [fay], name="North School")
    salesforce_connection(
        api, salesforce, pull_deals=False, settings={"login_url": salesforce.url, "sobject": "Contact"},
        field_mapping=[{"source": "email", "target": "Email"}, {"source": "last_name", "target": "LastName"}],
    )  # fmt: skip
    worker.run_once()
    assert salesforce.contacts[str(fay)]["AccountId"] == salesforce.accounts[str(school)]["Id"]
    # an account change: only the Account is sent again
    contact_patches = sum(r.method == "PATCH" and "/Contact/" in r.path for r in salesforce.requests)
    assert api.patch(f"/accounts/{school}", {"domain": "https://www.north.example/"}).status_code == 200
    worker.run_once()
    assert salesforce.accounts[str(school)]["Website"] == "north.example"
    assert sum(r.method == "PATCH" and "/Contact/" in r.path for r in salesforce.requests) == contact_patches


def test_webhook_posts_accounts_and_carries_them_with_contacts(api: Api, worker: Worker) -> None:
    r = api.post("/crm-connections", {"name": "Middleware", "provider": "webhook", "settings": {}})
    assert r.status_code == 201, r.text
    conn = r.json()
    assert conn["account_mapping"] == [{"source": "name", "target": "name"}, {"source": "domain", "target": "domain"},
                                       {"source": "score.sum", "target": "score"}]  # fmt: skip
    secret = api.get(f"/crm-connections/{conn['id']}/signing-secret").json()["signing_secret"]
    receiver = WebhookReceiver(secret)
    try:
        r = api.patch(f"/crm-connections/{conn['id']}", {"settings": {"url": receiver.url + "/crm"}})
        assert r.status_code == 200, r.text
        gus = make_contact(api, email="gus@firm.example", first_name="Gus")
        acme = make_account(api, [gus], external_id="g-7", name="Acme", domain="acme.example")
        worker.run_once()
        kinds = [req.json()["type"] for req in receiver.requests]
        assert kinds[0] == "account.upsert" and "contact.upsert" in kinds
        account_body = receiver.requests[0].json()
        assert receiver.requests[0].notes["verified"]
        assert account_body["account"] | {"crm_id": None} == {
            "id": acme, "external_id": "g-7", "name": "Acme", "domain": "acme.example", "member_count": 1,
            "crm_id": None,
        }
        # no score model in the workspace: no roll-up, and empty values are not sent
        assert account_body["properties"] == {"name": "Acme", "domain": "acme.example"}
        contact_body = [req.json() for req in receiver.requests if req.json()["type"] == "contact.upsert"][-1]
        assert [a["id"] for a in contact_body["accounts"]] == [acme]
        assert contact_body["accounts"][0]["name"] == "Acme"
        assert account_state(api, acme)["connections"][0]["status"] == "synced"
    finally:
        receiver.stop()


def test_account_settings_and_errors(api: Api, worker: Worker, hubspot: HubSpotFake) -> None:
    providers = {p["name"]: p for p in api.get("/crm-connections/providers").json()["data"]}
    assert providers["hubspot"]["default_account_mapping"] == [{"source": "name", "target": "name"},
                                                               {"source": "domain", "target": "domain"}]  # fmt: skip
    assert {"source": "name", "target": "Name"} in providers["salesforce"]["default_account_mapping"]
    body = {"name": "H", "provider": "hubspot", "settings": {"base_url": hubspot.url},
            "secrets": {"access_token": hubspot.token}, "pull_deals": False}  # fmt: skip
    for bad in ({"source": "password", "target": "x"}, {"source": "scores.x.median", "target": "x"},
                {"source": "name", "target": "9lives"}):  # fmt: skip
        r = api.post("/crm-connections", {**body, "account_mapping": [bad]})
        assert r.status_code == 422 and r.json()["code"] == "invalid_account_mapping", r.text
    assert api.get("/accounts/999/crm-sync").json() == {"code": "account_not_found", "message": "account 999 not found"}

    # accounts off: contacts only
    dee = make_contact(api, email="dee@firm.example")
    acme = make_account(api, [dee], name="Acme")
    conn = api.post("/crm-connections", {**body, "push_accounts": False}).json()
    worker.run_once()
    assert bodies(hubspot, COMPANIES) == [] and len(bodies(hubspot, CONTACTS)) == 1
    assert account_state(api, acme)["connections"] == []
    # turned on: the accounts of the selected contacts are pushed, the contacts associated
    r = api.patch(f"/crm-connections/{conn['id']}", {"push_accounts": True})
    assert r.status_code == 200 and r.json()["push_accounts"] is True
    worker.run_once()
    assert len(bodies(hubspot, COMPANIES)) == 1 and len(hubspot.associations) == 1
    # a new account mapping pushes every account again
    r = api.patch(f"/crm-connections/{conn['id']}", {"account_mapping": [{"source": "name", "target": "name"},
                                                                          {"source": "id", "target": "kairos_id"}]})  # fmt: skip
    assert r.status_code == 200, r.text
    worker.run_once()
    assert bodies(hubspot, COMPANIES)[-1]["inputs"][0]["properties"]["kairos_id"] == acme
