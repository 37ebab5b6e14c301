"""Every route of the app, called the ways an attacker would: without a key, with the public
write key, and with another workspace's API key naming this workspace's objects.

The table is the app's own route list, so a new route is checked the day it is added: a
management route must refuse the first two (401) and find nothing of another workspace
(404, or 422 when the body is refused first), and afterwards the victim's objects are all
still there, unchanged. A public route (outside ``/api``) must be one of ``PUBLIC``, where
each is listed with what authenticates it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from kairos.clock import FixedClock
from kairos.workspaces.service import CreatedWorkspace
from tests.api.test_references import Objects, _objects
from tests.conftest import Api

#: public routes, and what authenticates each (reviewed by hand when one is added)
PUBLIC = {
    "/health": "nothing: liveness",
    "/docs": "nothing: the API reference (Swagger UI)",
    "/docs/oauth2-redirect": "nothing: Swagger UI's OAuth helper page",
    "/redoc": "nothing: the API reference (ReDoc)",
    "/health/ready": "nothing: readiness",
    "/ready": "nothing: readiness",
    "/metrics": "KAIROS_METRICS_KEY (Bearer, constant-time compare); 404 when unset",
    "/t/o/{token}": "signed token (open pixel)",
    "/t/c/{token}/{link}": "signed token (click)",
    "/u/{token}": "signed token (unsubscribe)",
    "/p/{token}": "signed token (preference centre)",
    "/p/confirm/{token}": "signed token (double opt-in)",
    "/hooks/reports/{token}": "signed token (one channel's delivery reports)",
    "/inbox/v1/messages": "write key + user_hash (or an anonymous contact's id)",
    "/inbox/v1/messages/{inbox_id}/{action}": "write key + user_hash (or an anonymous contact's id)",
    "/f/{workspace_id}/{key}": "none: a hosted form (spam guards, rate limit)",
    "/lp/{workspace_id}/{slug}": "none: a hosted landing page",
}

#: /api/v1 routes that are not a workspace's, and what authenticates each (reviewed by hand)
SESSION = {
    ("GET", "/api/v1/setup"): "nothing: says whether the first admin is still to be created",
    ("POST", "/api/v1/setup"): "the one-time setup token printed in the terminal; only while no user exists",
    ("POST", "/api/v1/session"): "email and password (throttled)",
    ("GET", "/api/v1/session"): "the session cookie",
    ("DELETE", "/api/v1/session"): "the session cookie + CSRF token",
    ("POST", "/api/v1/session/sign-out-everywhere"): "the session cookie + CSRF token",
    ("POST", "/api/v1/session/password"): "the session cookie + CSRF token + the current password",
}

#: (method, path) of another workspace's object that may answer 2xx, and why it is harmless
ALLOWED_2XX = {
    ("DELETE", "/api/v1/suppressions/{channel}/{address}"): "lifts the caller's own suppression, if any",
}


def routes(client: TestClient) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app serves (docs and the OpenAPI document aside)."""
    fastapi_app = client.app.api  # type: ignore[attr-defined]
    for route in fastapi_app.routes:
        context = getattr(route, "include_context", None)
        if context is not None:
            for sub in route.original_router.routes:
                for method in sorted(sub.methods - {"HEAD"}):
                    yield method, context.prefix + sub.path
        elif isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path


@pytest.fixture
def victim(api: Api, clock: FixedClock) -> dict[str, Any]:
    """One of everything in the victim's workspace, named so that a leak is recognisable."""
    o: Objects = _objects(api, "victim")

    def created(path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        r = api.post(path, body)
        assert r.status_code == status, (path, r.text)
        return dict(r.json())

    assert api.post(f"/contacts/{o.contact}/tags/vip").status_code in (200, 201, 204)
    broadcast = created("/broadcasts", {"name": "victim-broadcast", "channel": "inapp", "segment_id": o.segment,
                                        "template_id": o.template,
                                        "send_at": (clock.now() + timedelta(days=30)).isoformat()})  # fmt: skip
    message = created(
        "/messages", {"contact_id": o.contact, "channel": "inapp", "template_id": o.template}, 202
    )
    trait = created(
        "/computed-traits", {"name": "victim_orders", "definition": {"function": "count", "event": "Order"}}
    )
    rule = created("/tag-rules", {"segment_id": o.segment, "tag": "victim-tag"})
    enrollment = created(f"/journeys/{o.journey}/enrollments", {"contact_id": o.contact}, 201)
    page = created(
        "/landing-pages", {"slug": "victim-page", "title": "Victim", "template_id": o.email_template}
    )
    created("/suppressions", {"channel": "email", "address": "victim@example.com"})
    rates = api.put("/exchange-rates", {"base": "JPY", "rates": [{"currency": "USD", "rate": 0.0067,
                                                                   "valid_from": "2026-01-01"}]})  # fmt: skip
    assert rates.status_code == 200, rates.text
    attribute = created("/attributes", {"name": "victim_attribute", "type": "string"})
    crm = created("/crm-connections", {"name": "victim-crm", "provider": "webhook"})
    model = created("/score-models", {"key": "vscore", "name": "Victim score"})  # a key echoed in 404s: not "victim"
    predictive = created("/predictive-models", {"key": "vbuyers", "name": "Victim buyers",
                                                "goal": {"event": "Order", "within_days": 14}})  # fmt: skip
    score_rule = created(f"/score-models/{model['id']}/rules", {"name": "victim-points", "points": 5,
                                                               "rule": {"kind": "event", "event": "Order"}})  # fmt: skip
    stage_rule = created("/lifecycle-rules", {"name": "victim-mql", "stage": "MQL",
                                              "event": {"event": "Order", "where": []}})  # fmt: skip
    owner_rule = created("/assignment-rules", {"name": "victim-owners", "stage": "MQL", "method": "round_robin"})
    b2b_account = created("/accounts", {"external_id": "victim-account", "name": "Victim Inc"})
    assert api.post(f"/accounts/{b2b_account['id']}/contacts", {"contacts": [{"contact_id": o.contact}]}).is_success
    key = api.get("/keys").json()["data"][0]["id"]
    user = created("/users", {"email": "victim-user@example.com", "name": "Victim User", "role": "marketer",
                              "password": "victim-password-1"})  # fmt: skip
    return {
        "contact_id": o.contact, "template_id": o.template, "channel_id": o.channel, "topic_id": o.topic,
        "segment_id": o.segment, "offer_id": o.offer, "campaign_id": o.campaign, "form_id": o.form,
        "journey_id": o.journey, "broadcast_id": broadcast["id"], "message_id": message["id"],
        "trait_id": trait["id"], "rule_id": rule["id"], "enrollment_id": enrollment["id"],
        "page_id": page["id"], "key_id": key, "tag": "vip", "channel": "email",
        "address": "victim@example.com", "name": attribute["name"], "user_id": user["id"],
        "notification_id": 1,  # notifications are a user's: any key finds none (404)
        "connection_id": crm["id"],
        "task_id": 1,  # tasks come from journeys' task nodes: the attacker finds none (404)
        "model_id": model["id"], "key": model["key"],
        "account_id": b2b_account["id"],
        # a name several routes use, each for its own kind of object
        "by_path": {"/score-models/": {"rule_id": score_rule["id"]},
                    "/predictive-models/": {"model_id": predictive["id"]}, "/lifecycle-rules/": {"rule_id": stage_rule["id"]},
                    "/assignment-rules/": {"rule_id": owner_rule["id"]}},
    }  # fmt: skip


def _fill(path: str, ids: dict[str, Any]) -> str:
    specific = {k: v for prefix, by in ids.get("by_path", {}).items() if prefix in path for k, v in by.items()}

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in specific:
            return str(specific[name])
        assert name in ids, f"{path}: no victim object for {{{name}}}; add one to the fixture"
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", one, path)


def test_the_public_routes_are_the_reviewed_ones(client: TestClient) -> None:
    public = {path for _, path in routes(client) if not path.startswith("/api/")}
    assert public == set(PUBLIC), "a public route was added or removed: review how it authenticates"


def test_every_management_route_needs_an_api_key(client: TestClient, workspace: CreatedWorkspace) -> None:
    checked = 0
    for method, path in routes(client):
        if not path.startswith("/api/") or (method, path) in SESSION:
            continue
        url = re.sub(r"\{\w+\}", "1", path)
        for headers in (
            {},
            {"Authorization": f"Bearer {workspace.write_key}"},
            {"Authorization": "Basic eA=="},
        ):
            r = client.request(method, url, headers=headers, json={})
            assert r.status_code == 401, (method, path, headers, r.status_code, r.text)
            assert r.json()["code"] == "unauthorized"
        checked += 1
    assert checked > 80


def test_another_workspace_finds_nothing_of_ours(
    client: TestClient, api: Api, other_workspace: CreatedWorkspace, victim: dict[str, Any]
) -> None:
    before = {p: api.get(p).json() for p in _snapshot_paths(victim)}
    attacker = {"Authorization": f"Bearer {other_workspace.api_key}"}
    for method, path in routes(client):
        if not path.startswith("/api/") or (method, path) in SESSION:
            continue
        url = _fill(path, victim)
        r = client.request(method, url, headers=attacker, json={})
        if "{" not in path:
            # no id: the attacker's own data (or a refused body); never the victim's
            assert "victim" not in r.text.lower(), (method, path, r.text[:300])
            continue
        if (method, path) in ALLOWED_2XX and r.status_code < 300:
            continue
        expected = (404,) if method in ("GET", "DELETE") else (404, 422)
        assert r.status_code in expected, (method, path, r.status_code, r.text[:300])
        assert set(r.json()) == {"code", "message"}
        if "{address}" not in path:  # (that message repeats the address the caller gave)
            assert "victim" not in r.text.lower(), (method, path, r.text[:300])
    after = {p: api.get(p).json() for p in _snapshot_paths(victim)}
    assert after == before
    # settings without a name to recognise: the attacker sees its own, empty, rate table
    assert client.get("/api/v1/exchange-rates", headers=attacker).json() == {"base": None, "rates": []}


def _snapshot_paths(ids: dict[str, Any]) -> list[str]:
    return [
        f"/contacts/{ids['contact_id']}", f"/templates/{ids['template_id']}", f"/channels/{ids['channel_id']}",
        f"/topics/{ids['topic_id']}", f"/segments/{ids['segment_id']}", f"/offers/{ids['offer_id']}",
        f"/campaigns/{ids['campaign_id']}", f"/forms/{ids['form_id']}", f"/journeys/{ids['journey_id']}",
        f"/broadcasts/{ids['broadcast_id']}", f"/messages/{ids['message_id']}", f"/computed-traits/{ids['trait_id']}",
        f"/tag-rules/{ids['rule_id']}", f"/landing-pages/{ids['page_id']}", f"/journeys/{ids['journey_id']}/enrollments",
        "/suppressions", "/keys", "/exchange-rates", f"/users/{ids['user_id']}",
        f"/accounts/{ids['account_id']}", f"/accounts/{ids['account_id']}/contacts",
    ]  # fmt: skip


@pytest.mark.parametrize("path", sorted(p for p in PUBLIC if "{token}" in p))
def test_a_forged_token_opens_nothing(client: TestClient, path: str) -> None:
    url = path.replace("{token}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").replace(
        "{link}", "AAAAAAAAAAAAAAAAAAAAAA"
    )
    for method in ("GET", "POST"):
        r = client.request(method, url, follow_redirects=False)
        if path == "/t/o/{token}" and method == "GET":
            # the open pixel always answers with its image, recording nothing for a bad token
            assert r.headers["content-type"] == "image/gif"
            continue
        assert r.status_code in (401, 404, 405, 410), (method, path, r.status_code)


@pytest.mark.parametrize("role", ["analyst", "marketer", "sales"])
def test_every_route_holds_a_key_to_its_role(client: TestClient, api: Api, role: str) -> None:
    """Walking the route table: a route whose permission the role lacks answers 403
    `forbidden` (before any body is read), and one it has never does."""
    from kairos.accounts.roles import allows
    from kairos.api.auth import permission_for

    key = api.post("/keys", {"name": f"{role} key", "role": role}).json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    refused = 0
    for method, path in routes(client):
        if not path.startswith("/api/v1/") or (method, path) in SESSION:
            continue
        r = client.request(method, re.sub(r"\{\w+\}", "1", path), headers=headers, json={})
        # keys may approve (automation): approvals are refused to users without the permission
        if allows(role, True, permission_for(method, path.removeprefix("/api/v1"))):
            assert r.status_code != 403, (role, method, path, r.text)
        else:
            assert (r.status_code, r.json()["code"]) == (403, "forbidden"), (role, method, path, r.text)
            refused += 1
    assert refused > (10 if role == "marketer" else 40)
