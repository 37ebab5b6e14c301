"""The console as a marketer uses it, in chromium: the first admin's setup, signing in,
finding a contact and seeing an event ingested a moment ago, what an analyst may not do,
CSRF, and the console in Chinese — with an axe-core scan of every page."""

from __future__ import annotations

import base64
import re

import httpx
from playwright.sync_api import expect
from sqlalchemy import Engine

from kairos.accounts import service as accounts
from kairos.clock import SystemClock
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer, settle
from tests.console.conftest import PASSWORD, Console, make_user


def _api(server: LiveServer, ws: CreatedWorkspace) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"})


def _track(
    server: LiveServer, ws: CreatedWorkspace, engine: Engine, user_id: str, event: str, **properties: object
) -> None:
    auth = "Basic " + base64.b64encode(f"{ws.write_key}:".encode()).decode()
    r = httpx.post(server.url + "/v1/track", json={"userId": user_id, "event": event, "properties": properties},
                   headers={"Authorization": auth})  # fmt: skip
    assert r.status_code == 200, r.text
    settle(engine)  # the server's processor makes the event within milliseconds; do not race it


def test_the_first_admin_sets_up_kairos_in_the_browser(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace
) -> None:
    with engine.begin() as conn:
        token = accounts.issue_setup_token(conn, SystemClock().now())
    page = console.open(f"/setup?token={token}")
    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("menuitem", name="中文").click()
    page.get_by_role("menuitem", name="English").wait_for(state="hidden")  # the menu has closed
    page.get_by_role("heading", level=1).filter(has_text=re.compile("[\u4e00-\u9fff]")).wait_for()
    assert console.axe() == []
    console.shot("setup.zh")
    page.get_by_role("button", name=re.compile("语言")).click()
    page.get_by_role("menuitem", name="English").click()
    page.get_by_role("menuitem", name="中文").wait_for(state="hidden")
    page.get_by_label("Your name").fill("Mei Chen")
    page.get_by_label("Email").fill("mei@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    assert "token=" not in page.url  # read into the form, then out of the address bar
    assert console.axe() == []
    console.shot("setup.en")
    page.get_by_role("button", name="Create administrator").click()
    page.wait_for_url("**/dashboard**")
    page.get_by_role("heading", name="Dashboard", level=1).wait_for()
    assert console.axe() == []

    page.get_by_role("button", name=re.compile("Mei Chen")).click()
    page.get_by_role("menuitem").filter(has_text=re.compile(r"^Sign out$")).click()
    page.wait_for_url("**/login**")
    assert console.axe() == []
    console.shot("login.en")
    console.sign_in("mei@example.com")
    page.get_by_role("heading", name="Dashboard", level=1).wait_for()


def test_a_marketer_finds_a_contact_and_sees_an_event_ingested_a_moment_ago(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    with _api(live_server, console_workspace) as api:
        for i in range(3):
            body = {"external_id": f"u{i}", "email": f"shopper{i}@example.com", "first_name": f"Shopper {i}"}
            assert api.post("/contacts", json=body).status_code == 201
        _track(live_server, console_workspace, engine, "u1", "Product Viewed", product="A")
    console.sign_in("mia@example.com")
    page = console.open("/contacts")
    page.get_by_role("cell", name="shopper2@example.com").wait_for()
    console.shot("contacts.en")
    page.get_by_label("Search contacts").fill("shopper1@example.com")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("cell", name="shopper0@example.com").wait_for(state="detached")
    page.get_by_role("cell", name="shopper1@example.com").click()
    page.wait_for_url(re.compile(r"/contacts/\d+"))
    page.get_by_role("heading", level=1).wait_for()
    page.get_by_text("Product Viewed").first.wait_for()

    _track(live_server, console_workspace, engine, "u1", "Order Completed", revenue=42)  # a moment ago
    page.reload()
    page.get_by_text("Order Completed").first.wait_for()
    assert page.get_by_role("button", name="Add tag").count() == 1  # a marketer edits
    assert console.axe() == []
    console.shot("contact-profile.en")


def test_an_analyst_sees_no_edit_controls_and_the_api_refuses_them(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "ana@example.com", "analyst", "Ana Silva")
    with _api(live_server, console_workspace) as api:
        contact = api.post("/contacts", json={"external_id": "u1", "email": "x@example.com"}).json()
    console.sign_in("ana@example.com")
    page = console.open(f"/contacts/{contact['id']}")
    page.get_by_role("heading", level=1).wait_for()
    page.get_by_text("x@example.com").first.wait_for()
    assert page.get_by_role("button", name="Add tag").count() == 0
    csrf = page.request.get(console.base + "/api/v1/session").json()["csrf_token"]
    forced = page.request.post(console.base + f"/api/v1/contacts/{contact['id']}/tags/vip",
                               headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert forced.status == 403 and forced.json()["code"] == "forbidden"


def test_a_change_without_the_csrf_token_is_refused(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace
) -> None:
    make_user(engine, console_workspace.id, "max@example.com", "marketer")
    console.sign_in("max@example.com")
    body = {"name": "buyers", "definition": {"root": {"type": "performed", "event": "Order Completed"}}}
    request = console.page.request
    refused = request.post(console.base + "/api/v1/segments", data=body)
    assert refused.status == 403 and refused.json()["code"] == "csrf_failed"
    csrf = request.get(console.base + "/api/v1/session").json()["csrf_token"]
    accepted = request.post(console.base + "/api/v1/segments", data=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status == 201, accepted.text()


def test_the_console_in_chinese(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "li@example.com", "admin", "李雷")
    with _api(live_server, console_workspace) as api:
        contact = api.post("/contacts", json={"external_id": "u1", "email": "wang@example.com",
                                              "first_name": "王", "last_name": "芳"}).json()  # fmt: skip
    _track(live_server, console_workspace, engine, "u1", "Product Viewed", product="A")
    page = console.open("/login")
    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("menuitem", name="中文").click()
    page.get_by_role("heading", name="登录 Kairos").wait_for()
    page.get_by_role("menuitem", name="English").wait_for(state="hidden")  # the menu has closed
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert console.axe() == []
    console.shot("login.zh")
    page.get_by_label("邮箱").fill("li@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name=re.compile(r"^登\s*录$")).click()  # antd spaces two-character labels
    page.get_by_role("heading", name="仪表盘", level=1).wait_for()
    page.get_by_role("navigation").get_by_text("联系人").wait_for()
    assert console.axe() == []
    console.open("/contacts")
    page.get_by_role("heading", name="联系人", level=1).wait_for()
    console.shot("contacts.zh")
    console.open(f"/contacts/{contact['id']}")
    page.get_by_text("Product Viewed").first.wait_for()
    assert console.axe() == []
    console.shot("contact-profile.zh")


def test_a_nested_behavioural_segment_built_in_the_builder_counts_as_the_api_does(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    with _api(live_server, console_workspace) as api:
        for user, views in (("u1", 3), ("u2", 1), ("u3", 3)):
            assert (
                api.post("/contacts", json={"external_id": user, "email": f"{user}@example.com"}).status_code
                == 201
            )
            for _ in range(views):
                _track(live_server, console_workspace, engine, user, "Product Viewed")
        vip = api.get("/contacts", params={"external_id": "u3"}).json()["data"][0]["id"]
        assert api.post(f"/contacts/{vip}/tags/vip").status_code == 200
        expected = {"root": {"type": "all", "conditions": [
            {"type": "performed", "event": "Product Viewed", "count": {"op": ">=", "value": 2},
             "window": {"last": {"amount": 7, "unit": "days"}}},
            {"type": "not", "condition": {"type": "tag", "tag": "vip"}},
        ]}}  # fmt: skip
        by_api = api.post("/segments/preview", json={"definition": expected}).json()["count"]
    assert by_api == 1  # u1: viewed 3 times, no tag

    console.sign_in("mia@example.com")
    page = console.open("/segments/new")
    page.get_by_label("Name", exact=True).fill("Engaged, not VIP")
    console.choose(page.get_by_role("button", name="Add condition", exact=True), "Performed an event")
    page.get_by_label("Condition 1: event").fill("Product Viewed")
    page.get_by_label("Condition 1: number of times").fill("2")
    console.choose(page.get_by_role("button", name="Add condition", exact=True), "Not (exclude)")
    page.get_by_label("Condition 2.1: type").click()  # a "not" holds one condition: make it a tag
    page.get_by_role("option", name="Tag", exact=True).click()
    page.get_by_label("Condition 2.1: tag").fill("vip")
    count = page.locator(".preview-number")
    count.wait_for()
    expect(count).to_have_text("1", timeout=15_000)  # after the debounce, the live count
    assert count.inner_text() == str(by_api)
    assert console.axe() == []
    console.shot("segment-builder.en")
    page.get_by_role("button", name="Create segment").click()
    page.wait_for_url(re.compile(r"/segments/\d+"))
    with _api(live_server, console_workspace) as api:
        [saved] = api.get("/segments").json()["data"]
    assert saved["name"] == "Engaged, not VIP"
    root = saved["definition"]["root"]
    assert [c["type"] for c in root["conditions"]] == ["performed", "not"]
    performed, excluded = root["conditions"]
    assert (performed["event"], performed["count"]["op"], performed["count"]["value"]) == (
        "Product Viewed",
        ">=",
        2,
    )
    assert excluded["condition"]["tag"] == "vip" and excluded["condition"].get("present", True) is True


def test_the_audit_log_shows_the_changes_made_in_the_console(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "ada@example.com", "admin", "Ada Admin")
    with _api(live_server, console_workspace) as api:
        contact = api.post("/contacts", json={"external_id": "u1", "email": "x@example.com"}).json()
    console.sign_in("ada@example.com")
    page = console.open(f"/contacts/{contact['id']}")
    page.get_by_label("New tag").fill("gold")
    page.get_by_role("button", name="Add tag").click()
    page.get_by_text("Tag “gold” added").wait_for()

    for path, title in (("/settings/users", "Users and roles"), ("/settings/keys", "API keys")):
        console.open(path).get_by_role("heading", name=title, level=1).wait_for()
        assert console.axe() == []
    page = console.open("/settings/audit-log")
    page.get_by_role("heading", name="Audit log", level=1).wait_for()
    row = page.get_by_role("row").filter(has_text="POST /contacts/{contact_id}/tags/{tag}")
    expect(row).to_contain_text("Ada Admin")
    expect(row).to_contain_text(str(contact["id"]))
    assert console.axe() == []
    console.shot("audit-log.en")


def test_sign_in_and_the_segment_builder_work_by_keyboard(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "kim@example.com", "marketer", "Kim Park")
    with _api(live_server, console_workspace) as api:
        for user in ("k1", "k2"):
            assert api.post("/contacts", json={"external_id": user, "email": f"{user}@example.com"}).status_code == 201
    _track(live_server, console_workspace, engine, "k1", "Signed Up")
    page = console.open("/login")
    keys = page.keyboard
    page.get_by_label("Email").focus()
    keys.type("kim@example.com")
    keys.press("Tab")
    keys.type(PASSWORD)
    keys.press("Enter")
    page.wait_for_url("**/dashboard**")

    page = console.open("/segments/new")
    page.get_by_label("Name", exact=True).focus()
    keys.type("Signed up")
    # from the name field, Tab reaches "Add condition" (the description field comes between)
    for _ in range(10):
        keys.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Add condition":
            break
    else:
        raise AssertionError("Tab never reached the Add condition button")
    keys.press("Enter")
    performed = page.get_by_role("menuitem", name="Performed an event")
    performed.wait_for()
    while page.evaluate("document.activeElement.textContent") != "Performed an event":
        keys.press("ArrowDown")
    keys.press("Enter")
    event = page.get_by_label("Condition 1: event")
    expect(event).to_be_visible()
    event.focus()
    keys.type("Signed Up")
    count = page.locator(".preview-number")
    expect(count).to_have_text("1", timeout=15_000)
    page.get_by_role("button", name="Create segment").focus()
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/segments/\d+"))
    with _api(live_server, console_workspace) as api:
        [saved] = api.get("/segments").json()["data"]
    assert saved["name"] == "Signed up"
    assert saved["definition"]["root"]["conditions"][0]["event"] == "Signed Up"
