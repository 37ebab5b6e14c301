"""Campaign approvals with comments and notifications: asking notifies the approvers (not the
one who asked), a rejection needs a reason and sends the plan back to draft, approving and
commenting notify the requester and the thread's participants; each user reads, pages and
clears only their own notifications; the thread is plain text, oldest first."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from kairos.accounts import service as accounts
from kairos.accounts.tables import app_user, notification
from kairos.clock import FixedClock
from kairos.workspaces.service import CreatedWorkspace
from tests.api.test_console_auth import Browser, user
from tests.conftest import Api


def _browser(client: TestClient, email: str) -> Browser:
    b = Browser(client)
    assert b.sign_in(email).status_code == 200
    return b


def _kinds(b: Browser) -> list[str]:
    return [n["kind"] for n in b.call("GET", "/notifications").json()["data"]]


def test_approval_round_trip_with_comments_and_notifications(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    user(engine, clock, workspace.id, "maker@example.com", "marketer")
    user(engine, clock, workspace.id, "boss@example.com", "analyst", approver=True)
    user(engine, clock, workspace.id, "admin@example.com", "admin")  # admins may approve too
    user(engine, clock, workspace.id, "peer@example.com", "marketer")  # not an approver
    maker, boss, admin, peer = (
        _browser(client, f"{n}@example.com") for n in ("maker", "boss", "admin", "peer")
    )
    c = maker.call("POST", "/campaigns", {"name": "Spring sale", "budget": 500}).json()
    path = f"/campaigns/{c['id']}"

    r = maker.call("POST", path + "/request-approval", {"comment": "Budget as agreed"})
    assert r.status_code == 200 and r.json()["status"] == "pending_approval"
    # every approver hears of it, not the requester nor a marketer without the permission
    assert _kinds(boss) == _kinds(admin) == ["approval_requested"]
    assert _kinds(maker) == _kinds(peer) == []
    note = boss.call("GET", "/notifications").json()
    assert note["unread"] == 1
    assert note["data"][0]["params"] == {
        "campaign_id": c["id"], "campaign": "Spring sale", "actor": "Maker", "comment": "Budget as agreed",
    }  # fmt: skip
    assert note["data"][0]["link"] == path and note["data"][0]["read_at"] is None

    # a rejection: approvers only, someone else than who asked, and with a reason
    r = peer.call("POST", path + "/reject", {"comment": "no"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = boss.call("POST", path + "/reject", {"comment": "   "})
    assert (r.status_code, r.json()["code"]) == (422, "comment_required")
    r = boss.call("POST", path + "/reject", {"comment": "Halve the SMS budget <b>please</b>"})
    assert r.status_code == 200 and r.json()["status"] == "draft"
    assert _kinds(maker) == ["campaign_rejected"]
    rejected = maker.call("GET", "/notifications").json()["data"][0]
    assert rejected["params"]["actor"] == "Boss"
    assert rejected["params"]["comment"] == "Halve the SMS budget <b>please</b>"  # text, as written
    assert _kinds(admin) == ["approval_requested"]  # not a participant of the thread

    # the maker answers in the thread: the approver who wrote there hears of it
    r = maker.call("POST", path + "/comments", {"body": "Done: SMS at 100"})
    assert r.status_code == 201 and r.json()["kind"] == "comment" and r.json()["author_name"] == "Maker"
    assert _kinds(boss) == ["campaign_comment", "approval_requested"]  # newest first
    assert maker.call("POST", path + "/comments", {"body": ""}).json()["code"] == "comment_required"

    # fixed, asked again, approved by the admin (with no comment)
    assert maker.call("PATCH", path, {"budget": 400}).status_code == 200
    assert maker.call("POST", path + "/request-approval").status_code == 200
    r = maker.call("POST", path + "/approve")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")  # a marketer without the permission
    r = admin.call("POST", path + "/approve", {})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert _kinds(maker)[0] == "campaign_approved"
    assert _kinds(boss)[0] == "campaign_approved"  # a participant
    assert _kinds(admin) == ["approval_requested", "approval_requested"]  # its own approval: no notice

    thread = boss.call("GET", path + "/comments").json()
    assert thread["next"] is None
    assert [(e["kind"], e["author_name"], e["body"]) for e in thread["data"]] == [
        ("approval_requested", "Maker", "Budget as agreed"),
        ("rejected", "Boss", "Halve the SMS budget <b>please</b>"),
        ("comment", "Maker", "Done: SMS at 100"),
        ("approval_requested", "Maker", None),
        ("approved", "Admin", None),
    ]
    assert maker.call("POST", path + "/launch").json()["status"] == "active"


def test_an_analyst_reads_the_thread_but_cannot_write_in_it(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace, api: Api
) -> None:
    user(engine, clock, workspace.id, "ana@example.com", "analyst")
    ana = _browser(client, "ana@example.com")
    c = api.post("/campaigns", {"name": "Autumn"}).json()
    assert api.post(f"/campaigns/{c['id']}/comments", {"body": "from automation"}).status_code == 201
    r = ana.call("POST", f"/campaigns/{c['id']}/comments", {"body": "hi"})
    assert r.status_code == 403 and "comment on campaigns" in r.json()["message"]
    thread = ana.call("GET", f"/campaigns/{c['id']}/comments").json()["data"]
    assert [(e["author_type"], e["body"]) for e in thread] == [("key", "from automation")]
    assert ana.call("GET", "/campaigns/999/comments").json()["code"] == "campaign_not_found"


def test_a_request_by_an_api_key_notifies_every_approver_and_keys_have_none(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace, api: Api
) -> None:
    user(engine, clock, workspace.id, "admin@example.com", "admin")
    gone = user(engine, clock, workspace.id, "gone@example.com", "marketer", approver=True)
    with engine.begin() as conn:
        conn.execute(update(app_user).where(app_user.c.id == gone).values(disabled_at=clock.now()))
    c = api.post("/campaigns", {"name": "Launch"}).json()
    assert api.post(f"/campaigns/{c['id']}/request-approval").status_code == 200
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(notification)).scalar_one() == 1
        )  # not the disabled
    assert api.get("/notifications").json() == {"data": [], "next": None, "unread": 0}
    assert api.post("/notifications/1/read").json()["code"] == "notification_not_found"
    # the same key cannot approve what it asked for
    r = api.post(f"/campaigns/{c['id']}/approve")
    assert (r.status_code, r.json()["code"]) == (409, "second_approver_required")
    r = api.post(f"/campaigns/{c['id']}/reject", {"comment": "mine"})
    assert (r.status_code, r.json()["code"]) == (409, "second_approver_required")


def test_notifications_page_newest_first_and_are_marked_read_per_user(
    client: TestClient, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace, api: Api,
    other_workspace: CreatedWorkspace,
) -> None:  # fmt: skip
    uid = user(engine, clock, workspace.id, "boss@example.com", "admin")
    user(engine, clock, workspace.id, "vera@example.com", "marketer", approver=True)
    boss, vera = _browser(client, "boss@example.com"), _browser(client, "vera@example.com")
    ids: list[Any] = []
    for i in range(5):
        c = api.post("/campaigns", {"name": f"C{i}"}).json()
        ids.append(c["id"])
        assert api.post(f"/campaigns/{c['id']}/request-approval").status_code == 200
    first = boss.call("GET", "/notifications").json()
    assert first["unread"] == 5
    page = boss.call("GET", "/notifications?limit=2").json()
    assert [n["params"]["campaign"] for n in page["data"]] == ["C4", "C3"] and page["next"]
    page2 = boss.call("GET", f"/notifications?limit=2&after={page['next']}").json()
    assert [n["params"]["campaign"] for n in page2["data"]] == ["C2", "C1"]
    page3 = boss.call("GET", f"/notifications?limit=2&after={page2['next']}").json()
    assert [n["params"]["campaign"] for n in page3["data"]] == ["C0"] and page3["next"] is None
    assert boss.call("GET", "/notifications?after=@@").json()["code"] == "invalid_cursor"

    mine = page["data"][0]["id"]
    r = boss.call("POST", f"/notifications/{mine}/read")
    assert r.status_code == 200 and r.json()["read_at"] is not None
    assert boss.call("GET", "/notifications?limit=1").json()["unread"] == 4
    assert [n["params"]["campaign"] for n in boss.call("GET", "/notifications?unread=true").json()["data"]] == [
        "C3", "C2", "C1", "C0",
    ]  # fmt: skip
    # someone else's notification is not found
    theirs = vera.call("GET", "/notifications").json()["data"][0]["id"]
    assert boss.call("POST", f"/notifications/{theirs}/read").json()["code"] == "notification_not_found"
    assert boss.call("POST", "/notifications/read-all").json() == {"marked": 4, "unread": 0}
    assert boss.call("GET", "/notifications").json()["unread"] == 0
    assert vera.call("GET", "/notifications").json()["unread"] == 5
    # another workspace of the same user has its own (none here)
    with engine.begin() as conn:
        accounts.add_member(conn, other_workspace.id, uid, "admin", True, clock.now())
    boss.workspace = other_workspace.id
    assert boss.call("GET", "/notifications").json()["unread"] == 0
