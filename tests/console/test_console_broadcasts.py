"""Broadcasts in chromium: a marketer builds an A/B broadcast with a holdout in the editor
(the refusals shown on their fields), saves it as a draft, edits it, schedules, pauses and
cancels it with confirmations; the list filters by status and campaign; an analyst sees no
edit control — in English and in Chinese, axe on every page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kairos.clock import SystemClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer
from tests.console.conftest import Console, make_user
from tests.console.test_console import _api


def pick(page: Page, label: str | re.Pattern[str], option: str) -> None:
    """Choose `option` in the antd select labelled `label`, and wait for its list to close."""
    page.get_by_label(label, exact=True).click() if isinstance(label, str) else page.get_by_label(
        label
    ).click()
    page.locator(
        f'.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option[title="{option}"]'
    ).click()
    expect(page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")).to_have_count(0)


def confirm(page: Page, button: str | re.Pattern[str]) -> None:
    """Press `button` in the open confirmation dialog (by keyboard: the dialog's opening
    animation can keep a busy machine from seeing the button "stable"), and wait for it to close."""
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).focus()
    page.keyboard.press("Enter")
    expect(page.locator(".ant-modal-confirm")).to_have_count(0)
    expect(page.locator(".ant-modal-mask:visible, .ant-modal-wrap:visible")).to_have_count(0)


def setup(server: LiveServer, ws: CreatedWorkspace, engine: Engine) -> dict[str, Any]:
    with _api(server, ws) as api:
        for i in range(3):
            r = api.post(
                "/contacts", json={"external_id": f"s{i}", "email": f"s{i}@example.com", "tags": ["spring"]}
            )
            assert r.status_code == 201, r.text
        segment = api.post("/segments", json={"name": "Spring shoppers",
                                              "definition": {"root": {"type": "tag", "tag": "spring"}}}).json()  # fmt: skip
        templates = {}
        for name, subject in (("Spring A", "Spring is here"), ("Spring B", "20% off this spring")):
            r = api.post("/templates", json={"name": name, "channel": "email", "fields": {
                "subject": subject, "format": "html", "body": "<p>Hello {{ contact.first_name }}</p>"}})  # fmt: skip
            assert r.status_code == 201, r.text
            templates[name] = r.json()["id"]
        campaign = api.post("/campaigns", json={"name": "Spring 2026"}).json()
        assert api.post(f"/campaigns/{campaign['id']}/launch").status_code == 200
        other = api.post("/broadcasts", json={"name": "Old news", "channel": "email", "segment_id": segment["id"],
                                              "template_id": templates["Spring A"]}).json()  # fmt: skip
    Worker(engine, SystemClock()).run_once()  # the segment's members
    return {"segment": segment, "templates": templates, "campaign": campaign, "other": other}


def test_a_marketer_builds_schedules_pauses_and_cancels_an_ab_broadcast(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    data = setup(live_server, console_workspace, engine)
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    console.sign_in("mia@example.com")
    page = console.open("/broadcasts")
    page.get_by_role("heading", name="Broadcasts", level=1).wait_for()
    expect(
        page.get_by_role("navigation").get_by_role("menuitem", name=re.compile("Broadcasts"))
    ).to_be_visible()
    page.get_by_role("link", name="Old news").wait_for()
    page.get_by_role("button", name="New broadcast").click()
    page.get_by_role("heading", name="New broadcast", level=1).wait_for()

    # nothing filled in: each missing field says so
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Give the broadcast a name.")).to_be_visible()
    expect(page.get_by_text("Choose a segment.")).to_be_visible()
    expect(page.get_by_text("Choose a template.")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("Spring launch")
    pick(page, "Campaign", "Spring 2026")
    pick(page, "Segment", "Spring shoppers (3)")
    expect(page.get_by_test_id("segment-count")).to_have_text("3 contacts in this segment now")
    page.get_by_label("A/B/n test with a holdout").click()
    pick(page, "Template of variant A", "Spring A")
    pick(page, "Template of variant B", "Spring B")
    page.get_by_role("button", name="Add variant").click()
    page.get_by_role("button", name="Remove variant C").click()
    page.get_by_label("Holdout", exact=True).fill("10")
    page.get_by_label("Test group", exact=True).fill("50")
    pick(page, "Winner metric", "Clicks")
    page.get_by_label("Test window (hours)", exact=True).fill("6")
    expect(
        page.get_by_text(re.compile(r"10 % are held out; of the rest, 50 % are split between the 2 variants"))
    ).to_be_visible()
    page.get_by_label("At a local time in each contact's time zone").check()
    page.get_by_label("Date", exact=True).fill("2026-09-01")
    page.get_by_label("Local time", exact=True).fill("10:00")
    assert console.axe() == []
    console.shot("broadcast-editor.en")
    # a variant's preview: the email as the first contact would get it, in a sandboxed frame
    # (after the scan: a sandboxed frame can keep the page from ever being "network idle")
    page.locator(".variant-card").first.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Spring is here")
    expect(page.get_by_test_id("email-frame")).to_have_attribute("sandbox", "")

    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/broadcasts/\d+$"))
    bid = int(page.url.rsplit("/", 1)[1])
    with _api(live_server, console_workspace) as api:
        saved = api.get(f"/broadcasts/{bid}").json()
    assert (saved["status"], saved["campaign_id"], saved["segment_id"], saved["template_id"]) == (
        "draft", data["campaign"]["id"], data["segment"]["id"], None)  # fmt: skip
    assert (saved["local_date"], saved["local_time"], saved["send_at"]) == ("2026-09-01", "10:00", None)
    exp = saved["experiment"]
    assert [(v["name"], v["template_id"], v["weight"]) for v in exp["variants"]] == [
        ("A", data["templates"]["Spring A"], 1), ("B", data["templates"]["Spring B"], 1)]  # fmt: skip
    assert (exp["holdout_percent"], exp["test_percent"], exp["metric"], exp["window_hours"]) == (
        10,
        50,
        "click",
        6,
    )

    # the draft is still editable: a refusal of the server lands on its field, then a change is saved
    page.get_by_role("heading", name="Spring launch", level=1).wait_for()
    page.get_by_label("Name of variant 2").fill("holdout")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Another variant has this name (and “holdout” is taken).")).to_be_visible()
    page.get_by_label("Name of variant 2").fill("B")
    page.get_by_label("Name", exact=True).fill("Spring launch (EU)")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("“Spring launch (EU)” saved as a draft")).to_be_visible()
    with _api(live_server, console_workspace) as api:
        assert api.get(f"/broadcasts/{bid}").json()["name"] == "Spring launch (EU)"
        log = api.get("/audit-log", params={"object_type": "broadcasts"}).json()["data"]
    assert any(
        e["action"] == "PATCH /broadcasts/{broadcast_id}" and e["actor_label"].startswith("Mia Wong")
        for e in log
    )

    # schedule, with a confirmation; then pause and cancel, each asked first
    page.get_by_role("button", name="Schedule…").click()
    expect(page.get_by_role("dialog")).to_contain_text("Schedule “Spring launch (EU)”?")
    confirm(page, "Schedule")
    expect(page.locator(".broadcast-head")).to_contain_text("Scheduled")
    expect(page.get_by_text("10:00 local time on Sep 1, 2026")).to_be_visible()
    page.get_by_role("button", name="Pause").click()
    confirm(page, "Go back")  # changed their mind: nothing happens
    expect(page.locator(".broadcast-head")).to_contain_text("Scheduled")
    page.get_by_role("button", name="Pause").click()
    confirm(page, "Pause")
    expect(page.locator(".broadcast-head")).to_contain_text("Paused")
    page.get_by_role("button", name="Resume").wait_for()
    assert console.axe() == []
    console.shot("broadcast.en")
    page.get_by_role("button", name="Cancel broadcast").click()
    expect(page.get_by_role("dialog")).to_contain_text("This cannot be undone.")
    confirm(page, "Cancel broadcast")
    expect(page.locator(".broadcast-head")).to_contain_text("Cancelled")
    expect(page.locator(".broadcast-head").get_by_role("button")).to_have_count(0)
    with _api(live_server, console_workspace) as api:
        assert api.get(f"/broadcasts/{bid}").json()["status"] == "cancelled"

    # the list: filtered by status and by campaign, in the address
    page = console.open("/broadcasts")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="Spring launch (EU)")).to_be_visible()
    pick(page, "Status", "Cancelled")
    page.wait_for_url(re.compile(r"status=cancelled"))
    expect(table.get_by_role("link", name="Old news")).to_have_count(0)
    row = table.get_by_role("row").filter(has_text="Spring launch (EU)")
    expect(row).to_contain_text("Spring 2026")
    expect(row).to_contain_text("10:00 local time on Sep 1, 2026")
    page = console.open("/broadcasts?campaign=" + str(data["campaign"]["id"]))
    expect(page.get_by_role("table").get_by_role("link", name="Old news")).to_have_count(0)
    expect(page.get_by_role("table").get_by_role("link", name="Spring launch (EU)")).to_be_visible()
    page = console.open("/broadcasts")
    page.get_by_role("link", name="Old news").wait_for()
    assert console.axe() == []
    console.shot("broadcasts.en")

    # a campaign's "new broadcast" link pre-selects it
    page = console.open(f"/broadcasts/new?campaign_id={data['campaign']['id']}")
    expect(
        page.locator("#bc-campaign").locator("xpath=ancestor::div[contains(@class,'ant-select')][1]")
    ).to_contain_text("Spring 2026")

    # in Chinese
    page = console.open(f"/broadcasts/{data['other']['id']}")
    page.get_by_role("heading", name="Old news", level=1).wait_for()
    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("menuitem", name="中文").click()
    page.get_by_role("button", name=re.compile(r"^排期…$")).wait_for()
    page.get_by_role("menuitem", name="English").wait_for(state="hidden")
    expect(page.get_by_role("heading", name="内容", level=2)).to_be_visible()
    assert console.axe() == []
    console.shot("broadcast-editor.zh")
    page = console.open(f"/broadcasts/{bid}")
    page.get_by_text("已取消").first.wait_for()
    expect(page.get_by_text("2026年9月1日 当地时间 10:00")).to_be_visible()
    assert console.axe() == []
    console.shot("broadcast.zh")
    page = console.open("/broadcasts")
    page.get_by_role("heading", name="群发", level=1).wait_for()
    page.get_by_role("link", name="Old news").wait_for()
    assert console.axe() == []
    console.shot("broadcasts.zh")


def test_an_analyst_reads_broadcasts_without_edit_controls(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    data = setup(live_server, console_workspace, engine)
    make_user(engine, console_workspace.id, "mo@example.com", "analyst", "Mo Analyst")
    console.sign_in("mo@example.com")
    page = console.open("/broadcasts")
    page.get_by_role("link", name="Old news").wait_for()
    expect(page.get_by_role("button", name="New broadcast")).to_have_count(0)
    page.get_by_role("link", name="Old news").click()
    page.get_by_role("heading", name="Old news", level=1).wait_for()
    expect(page.get_by_role("link", name="Spring shoppers")).to_be_visible()  # the details, read-only
    expect(page.get_by_role("button", name=re.compile("Schedule|Cancel broadcast|Save draft"))).to_have_count(
        0
    )
    expect(page.get_by_label("Name", exact=True)).to_have_count(0)
    assert console.axe() == []
    page = console.open("/broadcasts/new")
    expect(page.get_by_text("You do not have permission", exact=False)).to_be_visible()
    assert data
