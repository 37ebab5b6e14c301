"""The contact pages in chromium: the list filtered by tag and by segment (kept in the
address), a typed attribute edited on the profile, the lifecycle stage and its history, and
erasing a contact after confirming — in English and Chinese, with an axe-core scan of every
page."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer
from tests.console.conftest import PASSWORD, Console, make_user


def _api(server: LiveServer, ws: CreatedWorkspace) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"})


def _ok(r: httpx.Response) -> Any:
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def _shop(server: LiveServer, ws: CreatedWorkspace) -> dict[str, int]:
    """Three shoppers: Ana (tag vip, a lead who became an MQL), Bo (in the static list
    "Buyers"), Cy (neither); an attribute of each type."""
    with _api(server, ws) as api:
        for name, kind in (("plan", "string"), ("seats", "number"), ("newsletter", "boolean"),
                           ("birthday", "datetime"), ("interests", "list")):  # fmt: skip
            _ok(api.post("/attributes", json={"name": name, "type": kind, "label": name.title()}))
        ids = {}
        for key, first, email in (("ana", "Ana", "ana@shop.example"), ("bo", "Bo", "bo@shop.example"),
                                  ("cy", "Cy", "cy@shop.example")):  # fmt: skip
            body = {"external_id": key, "email": email, "first_name": first, "last_name": "Shopper"}
            ids[key] = _ok(api.post("/contacts", json=body))["id"]
        _ok(api.post(f"/contacts/{ids['ana']}/tags/vip"))
        traits = {"seats": 3, "newsletter": True, "birthday": "1990-05-17", "interests": ["tea", "books"]}
        _ok(api.patch(f"/contacts/{ids['ana']}", json={"lifecycle_stage": "lead", "traits": traits}))
        _ok(api.patch(f"/contacts/{ids['ana']}", json={"lifecycle_stage": "mql"}))
        buyers = _ok(api.post("/segments", json={"name": "Buyers", "kind": "static"}))["id"]
        _ok(api.post(f"/segments/{buyers}/members", json={"contact_ids": [ids["bo"]]}))
    return ids


def _choose(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.locator(".ant-select-dropdown:visible .ant-select-item-option").filter(has_text=option).first.click()
    page.locator(".ant-select-dropdown:visible").wait_for(state="hidden")  # closed before a scan


def _emails(page: Page) -> list[str]:
    page.locator(".ant-table-tbody").wait_for()
    return sorted(page.locator(".ant-table-tbody td").filter(has_text="@shop.example").all_inner_texts())


def test_a_marketer_filters_contacts_edits_an_attribute_and_moves_the_stage(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    ids = _shop(live_server, console_workspace)
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    console.sign_in("mia@example.com")

    page = console.open("/contacts")
    page.get_by_role("cell", name="cy@shop.example").wait_for()
    _choose(page, "Tag", "vip")
    expect(page).to_have_url(re.compile(r"/contacts\?tag=vip$"))
    page.get_by_role("cell", name="bo@shop.example").wait_for(state="detached")
    assert _emails(page) == ["ana@shop.example"]
    assert console.axe() == []
    console.shot("contacts-filtered.en")

    page.get_by_role("button", name="Clear filters").click()
    page.get_by_role("cell", name="cy@shop.example").wait_for()
    _choose(page, "Segment", "Buyers")
    page.get_by_role("cell", name="cy@shop.example").wait_for(state="detached")
    assert _emails(page) == ["bo@shop.example"]
    page.go_back()  # the address kept the filters: Back is the unfiltered list again
    page.get_by_role("cell", name="cy@shop.example").wait_for()

    # the profile: a typed attribute edited and saved
    page = console.open(f"/contacts/{ids['ana']}")
    page.get_by_role("heading", name="Ana Shopper", level=1).wait_for()
    page.get_by_role("button", name="Edit profile").click()
    drawer = page.get_by_role("dialog", name="Edit Ana Shopper")
    seats = drawer.get_by_label("Seats")
    expect(seats).to_have_value("3")
    seats.fill("12")
    drawer.get_by_label("Plan").fill("pro")
    assert console.axe() == []
    console.shot("contact-profile-edit.en")
    drawer.get_by_role("button", name="Save").click()
    page.get_by_text("Profile saved").wait_for()
    with _api(live_server, console_workspace) as api:
        traits = api.get(f"/contacts/{ids['ana']}").json()["traits"]
    assert traits == {"seats": 12, "plan": "pro", "newsletter": True, "birthday": "1990-05-17",
                      "interests": ["tea", "books"]}  # fmt: skip

    page.get_by_role("tab", name="Attributes").click()
    expect(page).to_have_url(re.compile(r"\?tab=traits$"))
    page.get_by_role("cell", name="12", exact=True).wait_for()
    assert console.axe() == []

    # the lifecycle stage: its history with what changed it, then a change made here
    page.get_by_role("tab", name="Lifecycle").click()
    history = page.get_by_role("region", name="Lifecycle")
    expect(history.get_by_role("row")).to_have_count(3)  # header, lead → mql, none → lead
    expect(history.get_by_role("row").nth(1)).to_contain_text("lead")
    expect(history.get_by_role("row").nth(1)).to_contain_text("mql")
    expect(history.get_by_role("row").nth(1)).to_contain_text("API")
    page.get_by_label("New stage").fill("customer")
    page.get_by_role("button", name="Change stage").click()
    page.get_by_text("Stage changed to “customer”").wait_for()
    expect(history.get_by_role("row")).to_have_count(4)
    expect(history.get_by_role("row").nth(1)).to_contain_text("A console user")
    assert console.axe() == []
    with _api(live_server, console_workspace) as api:
        assert api.get(f"/contacts/{ids['ana']}").json()["lifecycle_stage"] == "customer"
        [latest, *_] = api.get(f"/contacts/{ids['ana']}/lifecycle").json()["data"]
    assert (latest["from_stage"], latest["to_stage"], latest["source"]) == ("mql", "customer", "console")
    assert page.get_by_role("button", name=re.compile("Erase contact")).count() == 0  # admins only


def test_an_admin_in_chinese_filters_edits_and_erases_a_contact_after_confirming(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    ids = _shop(live_server, console_workspace)
    make_user(engine, console_workspace.id, "li@example.com", "admin", "李雷")
    page = console.open("/login")
    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("menuitem", name="中文").click()
    page.get_by_role("heading", name="登录 Kairos").wait_for()
    page.get_by_label("邮箱").fill("li@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name=re.compile(r"^登\s*录$")).click()
    page.wait_for_url("**/dashboard**")

    page = console.open("/contacts?tag=vip")  # a bookmarked filter
    page.get_by_role("heading", name="联系人", level=1).wait_for()
    page.get_by_role("cell", name="ana@shop.example").wait_for()
    assert _emails(page) == ["ana@shop.example"]
    expect(page.get_by_role("group", name="筛选")).to_contain_text("vip")
    assert console.axe() == []
    console.shot("contacts-filtered.zh")

    page = console.open(f"/contacts/{ids['bo']}")
    page.get_by_role("heading", name="Bo Shopper", level=1).wait_for()
    page.get_by_role("button", name="编辑资料").click()
    drawer = page.get_by_role("dialog", name="编辑 Bo Shopper")
    drawer.get_by_label("Seats").fill("2")
    assert console.axe() == []
    console.shot("contact-profile-edit.zh")
    drawer.get_by_role("button", name=re.compile(r"^取\s*消$")).click()
    drawer.wait_for(state="hidden")

    # erase: the button stays disabled until the email is typed
    page.get_by_role("button", name="彻底删除联系人").click()
    dialog = page.get_by_role("dialog", name=re.compile("^彻底删除 Bo Shopper"))
    erase = dialog.get_by_role("button", name="永久删除")
    expect(erase).to_be_disabled()
    confirm = dialog.get_by_label("输入 bo@shop.example 以确认")
    confirm.fill("ana@shop.example")
    expect(erase).to_be_disabled()
    # the dialog's opening animation ends first (half-faded text fails the contrast check)
    page.evaluate(
        "() => Promise.all(document.querySelector('.ant-modal').getAnimations({subtree: true})"
        ".map((a) => a.finished.catch(() => null)))"
    )
    assert console.axe() == []
    confirm.fill("bo@shop.example")
    erase.click()
    page.wait_for_url(re.compile(r"/contacts$"))
    page.get_by_text("已彻底删除 Bo Shopper 及其所有记录。").wait_for()
    page.get_by_role("cell", name="ana@shop.example").wait_for()
    assert "bo@shop.example" not in _emails(page)
    assert console.axe() == []
    with _api(live_server, console_workspace) as api:
        gone = api.get(f"/contacts/{ids['bo']}")
        assert gone.status_code == 404 and gone.json()["code"] == "contact_not_found"
        assert api.get(f"/contacts/{ids['ana']}").status_code == 200
