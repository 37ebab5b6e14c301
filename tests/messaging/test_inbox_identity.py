"""The review's attack on the in-app inbox and on profiles, from public paths only.

With nothing but the public write key (or a hosted form, which needs no key) an attacker
sends an identify carrying the victim's email and an anonymous id of their choosing. The
two merge — that is identity resolution working — but the planted anonymous id must not
open the victim's inbox, and the forged traits must not overwrite the victim's profile.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kairos.clock import FixedClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.messaging.conftest import make_contact


def _basic(write_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


def _inbox(http: httpx.Client | TestClient, write_key: str, **params: str) -> httpx.Response:
    return http.get("/inbox/v1/messages", params=params, headers=_basic(write_key))


def test_a_planted_anonymous_id_does_not_open_an_identified_contacts_inbox(
    api: Api,
    client: TestClient,
    worker: Worker,
    workspace: CreatedWorkspace,
    engine: Engine,
    clock: FixedClock,
) -> None:
    assert api.post("/channels", {"name": "inbox", "provider": "inapp"}).status_code == 201
    victim = make_contact(api, external_id="user-7", email="ines@example.com", first_name="Ines")
    sent = api.post("/messages", {"contact_id": victim, "channel": "inapp",
                                  "content": {"title": "Your reset code", "body": "481516"}})  # fmt: skip
    assert sent.status_code == 202, sent.text
    worker.run_once()

    r = client.post(
        "/v1/identify",
        json={"anonymousId": "evil", "traits": {"email": "ines@example.com", "first_name": "Mallory"}},
        headers=_basic(workspace.write_key),
    )
    assert r.status_code == 200, r.text
    worker.run_once()
    contact = api.get(f"/contacts/{victim}").json()
    assert contact["first_name"] == "Ines"  # the forged identify did not rewrite the profile

    refused = _inbox(client, workspace.write_key, anonymous_id="evil")
    assert (refused.status_code, refused.json()["code"]) == (401, "identity_required")
    item = {"anonymous_id": "evil"}
    dismiss = client.post("/inbox/v1/messages/1/dismiss", params=item, headers=_basic(workspace.write_key))
    assert dismiss.status_code == 401

    # the victim, verified, still reads the message
    secret = api.get("/inbox/identity-secret").json()["identity_secret"]
    me = {"user_id": "user-7", "user_hash": hmac.new(secret.encode(), b"user-7", hashlib.sha256).hexdigest()}
    box = _inbox(client, workspace.write_key, **me).json()
    assert [m["body"] for m in box["data"]] == ["481516"]


def test_an_anonymous_visitor_still_reads_their_own_inbox(
    api: Api, client: TestClient, worker: Worker, workspace: CreatedWorkspace
) -> None:
    assert api.post("/channels", {"name": "inbox", "provider": "inapp"}).status_code == 201
    r = client.post(
        "/v1/track", json={"anonymousId": "anon-1", "event": "Viewed"}, headers=_basic(workspace.write_key)
    )
    assert r.status_code == 200
    worker.run_once()
    [visitor] = api.get("/contacts").json()["data"]
    assert api.post("/messages", {"contact_id": visitor["id"], "channel": "inapp",
                                  "content": {"title": "Hi", "body": "10% off"}}).status_code == 202  # fmt: skip
    worker.run_once()
    box = _inbox(client, workspace.write_key, anonymous_id="anon-1")
    assert box.status_code == 200 and [m["body"] for m in box.json()["data"]] == ["10% off"]


def test_public_writes_fill_empty_fields_but_never_overwrite_an_identified_profile(
    api: Api, client: TestClient, worker: Worker, workspace: CreatedWorkspace
) -> None:
    victim = make_contact(api, external_id="user-7", email="ines@example.com", first_name="Ines",
                          traits={"plan": "gold"})  # fmt: skip
    auth = _basic(workspace.write_key)
    forged = {"anonymousId": "evil", "traits": {"email": "ines@example.com", "first_name": "Mallory",
                                                "last_name": "Smith", "plan": "free", "city": "Lyon"}}  # fmt: skip
    assert client.post("/v1/identify", json=forged, headers=auth).status_code == 200
    worker.run_once()
    c = api.get(f"/contacts/{victim}").json()
    assert (c["first_name"], c["last_name"]) == ("Ines", "Smith")  # empty fields filled, none overwritten
    assert c["traits"]["plan"] == "gold" and c["traits"]["city"] == "Lyon"

    # the same person's signed-in app (a userId) changes the profile as before
    mine = {"userId": "user-7", "traits": {"first_name": "Inès", "plan": "platinum"}}
    assert client.post("/v1/identify", json=mine, headers=auth).status_code == 200
    worker.run_once()
    c = api.get(f"/contacts/{victim}").json()
    assert (c["first_name"], c["traits"]["plan"]) == ("Inès", "platinum")


def test_a_brand_new_lead_from_a_public_path_gets_its_whole_profile(
    api: Api, client: TestClient, worker: Worker, workspace: CreatedWorkspace
) -> None:
    body = {
        "anonymousId": "a-9",
        "traits": {"email": "new@example.com", "first_name": "Nora", "plan": "trial"},
    }
    assert client.post("/v1/identify", json=body, headers=_basic(workspace.write_key)).status_code == 200
    worker.run_once()
    [c] = api.get("/contacts").json()["data"]
    assert (c["email"], c["first_name"], c["traits"]["plan"]) == ("new@example.com", "Nora", "trial")
