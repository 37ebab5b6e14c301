"""Console users: first-run setup, sign-in and its throttling, sessions and their expiry,
CSRF, roles enforced on every route for users and keys alike, approvals by a second user, and
the audit log of every change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kairos.accounts import service as accounts
from kairos.clock import FixedClock
from kairos.workspaces.service import CreatedWorkspace, create_workspace
from tests.conftest import Api

PASSWORD = "correct horse battery"
SIGNING = "whsec_czNjcjN0LXZhbHVlLW9mLXRoaXJ0eS10d28tYnl0ZXM="


def user(engine: Engine, clock: FixedClock, ws: int, email: str, role: str, approver: bool = False) -> int:
    with engine.begin() as conn:
        uid = accounts.create_user(conn, email, email.split("@")[0].title(), PASSWORD, clock.now())
        accounts.add_member(conn, ws, uid, role, approver, clock.now())
    return uid


class Browser:
    """A browser's view of the API: its own cookie jar, the CSRF token, a chosen workspace."""

    def __init__(self, client: TestClient, workspace: int | None = None) -> None:
        self.http = TestClient(client.app)
        self.csrf = ""
        self.workspace = workspace

    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        r = self.http.post("/api/v1/session", json={"email": email, "password": password})
        if r.status_code == 200:
            self.csrf = r.json()["csrf_token"]
        return r

    def call(self, method: str, path: str, body: Any = None, *, csrf: bool = True, **headers: str) -> Any:
        h = dict(headers)
        if self.workspace is not None:
            h["X-Kairos-Workspace"] = str(self.workspace)
        if csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        return self.http.request(method, "/api/v1" + path, json=body, headers=h)


def test_the_first_admin_is_created_with_the_setup_token_once(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    assert client.get("/api/v1/setup").json() == {"needed": True}
    with engine.begin() as conn:
        token = accounts.issue_setup_token(conn, clock.now())
    body = {"token": "wrong", "email": "ann@example.com", "name": "Ann", "password": PASSWORD}
    r = client.post("/api/v1/setup", json=body)
    assert r.status_code == 422 and r.json()["code"] == "invalid_setup_token"
    r = client.post("/api/v1/setup", json={**body, "token": token, "password": "short"})
    assert r.status_code == 422 and r.json()["code"] == "weak_password"

    r = client.post("/api/v1/setup", json={**body, "token": token})
    assert r.status_code == 201, r.text
    assert r.json()["workspaces"] == [
        {"id": workspace.id, "name": "Acme", "role": "admin", "approver": True, "sandbox": False,
         "time_zone": "UTC", "now": None}
    ]  # fmt: skip
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=lax" in r.headers["set-cookie"]
    assert client.get("/api/v1/session").json()["user"]["email"] == "ann@example.com"
    assert client.get("/api/v1/setup").json() == {"needed": False}
    again = TestClient(client.app).post(
        "/api/v1/setup", json={**body, "token": token, "email": "eve@example.com"}
    )
    assert again.status_code == 409 and again.json()["code"] == "setup_done"


def test_sign_in_sign_out_and_the_session_expires_when_idle(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    user(engine, clock, workspace.id, "ann@example.com", "marketer")
    browser = Browser(client)
    r = browser.sign_in("ann@example.com", "wrong password!")
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    assert browser.sign_in("nobody@example.com").status_code == 401  # the same answer
    assert browser.sign_in("ANN@example.com").status_code == 200
    assert browser.call("GET", "/segments").status_code == 200

    clock.advance(timedelta(hours=7, minutes=59))  # used within the idle time: still signed in
    assert browser.call("GET", "/segments").status_code == 200
    clock.advance(timedelta(hours=8))
    r = browser.call("GET", "/segments")
    assert r.status_code == 401 and "session has ended" in r.json()["message"]

    assert browser.sign_in("ann@example.com").status_code == 200
    r = browser.http.delete("/api/v1/session")  # no CSRF token
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert browser.call("DELETE", "/session").status_code == 204
    assert browser.call("GET", "/session").status_code == 401


def test_sign_out_everywhere_ends_every_session_of_the_user(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    user(engine, clock, workspace.id, "ann@example.com", "admin")
    laptop, phone = Browser(client), Browser(client)
    assert laptop.sign_in("ann@example.com").status_code == 200
    assert phone.sign_in("ann@example.com").status_code == 200
    assert phone.call("POST", "/session/sign-out-everywhere").status_code == 204
    assert laptop.call("GET", "/segments").status_code == 401


def test_failed_sign_ins_are_throttled_per_account(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    user(engine, clock, workspace.id, "ann@example.com", "admin")
    browser = Browser(client)
    for _ in range(10):
        assert browser.sign_in("ann@example.com", "guess-guess-guess").status_code == 401
    r = browser.sign_in("ann@example.com")  # even the right password, for now
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert 1 <= int(r.headers["retry-after"]) <= 15 * 60 + 1
    clock.advance(timedelta(minutes=16))
    assert browser.sign_in("ann@example.com").status_code == 200


def test_a_change_by_cookie_needs_the_csrf_token_and_our_origin(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    user(engine, clock, workspace.id, "ann@example.com", "marketer")
    browser = Browser(client)
    browser.sign_in("ann@example.com")
    body = {"name": "buyers", "definition": {"root": {"type": "performed", "event": "Order Completed"}}}
    r = browser.call("POST", "/segments", body, csrf=False)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = browser.call("POST", "/segments", body, Origin="https://evil.example")
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert browser.call("POST", "/segments", body, Origin="http://testserver").status_code == 201


@pytest.mark.parametrize(
    ("role", "read", "write", "admin", "audit"),
    [("admin", 200, 201, 200, 200), ("marketer", 200, 201, 403, 403), ("analyst", 200, 403, 403, 200)],
)
def test_roles_are_enforced_for_users(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace,
    role: str, read: int, write: int, admin: int, audit: int,
) -> None:  # fmt: skip
    user(engine, clock, workspace.id, f"{role}@example.com", role)
    browser = Browser(client)
    browser.sign_in(f"{role}@example.com")
    assert browser.call("GET", "/segments").status_code == read
    body = {"name": f"by {role}", "definition": {"root": {"type": "performed", "event": "Order Completed"}}}
    r = browser.call("POST", "/segments", body)
    assert r.status_code == write, r.text
    if write == 403:
        assert r.json()["code"] == "forbidden" and role in r.json()["message"]
    preview = browser.call("POST", "/segments/preview", {"definition": body["definition"]})
    assert preview.status_code == 200  # a POST that only reads
    assert browser.call("GET", "/keys").status_code == admin
    assert browser.call("GET", "/audit-log").status_code == audit


def test_an_api_key_with_a_role_is_held_to_it(api: Api, client: TestClient) -> None:
    r = api.post("/keys", {"name": "dashboards", "role": "analyst"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert (
        created["key"].startswith("ak_") and created["role"] == "analyst" and created["last_used_at"] is None
    )
    analyst = Api(client, created["key"])
    assert analyst.get("/segments").status_code == 200
    r = analyst.post("/segments", {"name": "x", "definition": {"root": {"type": "performed", "event": "E"}}})
    assert r.status_code == 403
    listed = {k["id"]: k for k in api.get("/keys").json()["data"]}
    assert listed[created["id"]]["last_used_at"] is not None and "key" not in listed[created["id"]]
    [issued] = api.get("/audit-log", params={"object_type": "keys"}).json()["data"]
    assert issued["changes"]["role"] == [None, "analyst"]
    assert created["key"] not in str(issued) and created["key"][10:] not in str(issued)  # shown once only


def test_a_user_in_several_workspaces_names_one(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    uid = user(engine, clock, workspace.id, "ann@example.com", "admin")
    with engine.begin() as conn:
        second = create_workspace(conn, clock, "Second")
        third = create_workspace(conn, clock, "Not hers")
        accounts.add_member(conn, second.id, uid, "analyst", False, clock.now())
    browser = Browser(client)
    assert [w["id"] for w in browser.sign_in("ann@example.com").json()["workspaces"]] == [
        workspace.id,
        second.id,
    ]
    r = browser.call("GET", "/segments")
    assert r.status_code == 422 and r.json()["code"] == "workspace_required"
    browser.workspace = third.id
    assert browser.call("GET", "/segments").status_code == 403
    browser.workspace = second.id  # an analyst there
    assert browser.call("GET", "/segments").status_code == 200
    assert browser.call("POST", "/tag-rules", {"segment_id": 1, "tag": "x"}).status_code == 403


def test_a_sandbox_workspace_in_the_session_carries_its_virtual_now(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    """The console's reports count their days up to it (a sandbox's clock is not the real one)."""
    uid = user(engine, clock, workspace.id, "ann@example.com", "admin")
    rehearsal_start = clock.now() + timedelta(days=90)
    with engine.begin() as conn:
        rehearsal = create_workspace(conn, clock, "Rehearsal", sandbox=True, clock_start=rehearsal_start)
        accounts.add_member(conn, rehearsal.id, uid, "marketer", False, clock.now())
    browser = Browser(client, rehearsal.id)
    nows = {w["id"]: w["now"] for w in browser.sign_in("ann@example.com").json()["workspaces"]}
    assert nows[workspace.id] is None
    assert nows[rehearsal.id] == rehearsal_start.isoformat().replace("+00:00", "Z")
    browser.call("POST", "/clock/advance", {"by": {"amount": 2, "unit": "days"}})
    later = {w["id"]: w["now"] for w in browser.call("GET", "/session").json()["workspaces"]}
    assert later[rehearsal.id] == (rehearsal_start + timedelta(days=2)).isoformat().replace("+00:00", "Z")


def test_campaigns_are_approved_by_a_second_user_with_the_approver_permission(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    for email, role, approver in (("maker@example.com", "marketer", False), ("peer@example.com", "marketer", False),
                                  ("boss@example.com", "analyst", True)):  # fmt: skip
        user(engine, clock, workspace.id, email, role, approver)
    maker, peer, boss = Browser(client), Browser(client), Browser(client)
    maker.sign_in("maker@example.com")
    peer.sign_in("peer@example.com")
    boss.sign_in("boss@example.com")
    campaign = maker.call("POST", "/campaigns", {"name": "Back to school"}).json()
    path = f"/campaigns/{campaign['id']}"
    assert maker.call("POST", path + "/request-approval").status_code == 200
    r = peer.call("POST", path + "/approve")
    assert r.status_code == 403 and "approve campaigns" in r.json()["message"]
    assert maker.call("POST", path + "/approve").status_code == 403
    r = boss.call("POST", path + "/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved"


def test_the_user_who_asked_cannot_approve_even_as_an_approver(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    user(engine, clock, workspace.id, "boss@example.com", "admin")
    boss = Browser(client)
    boss.sign_in("boss@example.com")
    campaign = boss.call("POST", "/campaigns", {"name": "Sale"}).json()
    assert boss.call("POST", f"/campaigns/{campaign['id']}/request-approval").status_code == 200
    r = boss.call("POST", f"/campaigns/{campaign['id']}/approve")
    assert r.status_code == 409 and r.json()["code"] == "second_approver_required"


def test_the_audit_log_records_who_changed_what(
    api: Api, client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    uid = user(engine, clock, workspace.id, "ann@example.com", "admin")
    browser = Browser(client)
    browser.sign_in("ann@example.com")
    definition = {"root": {"type": "performed", "event": "Order Completed"}}
    seg = api.post("/segments", {"name": "buyers", "definition": definition}).json()
    r = browser.call(
        "PATCH", f"/segments/{seg['id']}", {"name": "customers"}, **{"User-Agent": "Firefox/140"}
    )
    assert r.status_code == 200
    channel = browser.call("POST", "/channels", {"name": "hooks", "provider": "webhook",
                                                 "settings": {},
                                                 "secrets": {"signing_secret": SIGNING}})  # fmt: skip
    assert channel.status_code == 201, channel.text
    contact = api.post("/contacts", {"external_id": "u1", "email": "private@example.com"}).json()
    assert api.patch(f"/contacts/{contact['id']}", {"first_name": "Priv"}).status_code == 200
    assert api.delete(f"/contacts/{contact['id']}").status_code == 204
    browser.call("POST", "/segments/preview", {"definition": definition})  # reads: not logged

    log = browser.call("GET", "/audit-log").json()["data"]
    assert [e["action"] for e in log] == [
        "DELETE /contacts/{contact_id}", "PATCH /contacts/{contact_id}", "POST /contacts", "POST /channels",
        "PATCH /segments/{segment_id}", "POST /segments",
    ]  # fmt: skip
    erased, edited, created_contact, created_channel, renamed, created = log
    assert (renamed["actor_type"], renamed["actor_id"], renamed["actor_label"]) == (
        "user", uid, "Ann <ann@example.com>",
    )  # fmt: skip
    assert renamed["object_type"] == "segments" and renamed["object_id"] == str(seg["id"])
    assert renamed["changes"]["name"] == ["buyers", "customers"] and renamed["user_agent"] == "Firefox/140"
    assert created["actor_type"] == "key" and created["actor_label"].startswith("API key ak_")
    assert created["changes"]["name"] == [None, "buyers"]
    assert (
        SIGNING not in str(created_channel)
        and SIGNING[6:] not in str(created_channel)
        and created_channel["object_id"]
    )
    assert erased["changes"] is None and erased["object_id"] == str(contact["id"])
    # the person's erasure leaves who did what to them, without the values
    assert "private@example.com" not in str(log) and "Priv" not in str(log)
    assert edited["changes"] is None and created_contact["object_id"] == str(contact["id"])
    older = browser.call("GET", f"/audit-log?before={renamed['id']}").json()["data"]
    assert [e["id"] for e in older] == [created["id"]]
    only_user = browser.call("GET", f"/audit-log?actor_type=user&actor_id={uid}").json()["data"]
    assert {e["action"] for e in only_user} == {"POST /channels", "PATCH /segments/{segment_id}"}
