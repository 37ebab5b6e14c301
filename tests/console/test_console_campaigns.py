"""Campaign plans, their approval with comments and notifications, and the calendar, in chromium:
a marketer plans a campaign with a budget and an audience and asks for approval; the approver
sees the notification and rejects it with a comment; the marketer sees that, fixes the plan and
asks again; the approver approves. The calendar (in the workspace's zone, Asia/Shanghai) shows
the campaign and a draft broadcast, which is dragged to another day (month view) and another
time (week view) — checked through the API. Every page scanned by axe-core and photographed in
English and Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer
from tests.console.conftest import Console, make_user

ZONE = ZoneInfo("Asia/Shanghai")


def _api(server: LiveServer, ws: CreatedWorkspace) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"})


@pytest.fixture
def approver_console(chromium: Browser, live_server: LiveServer, screenshots: object) -> Iterator[Console]:
    """A second browser (its own cookies): the approver's."""
    context = chromium.new_context(locale="en-US", viewport={"width": 1366, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Console(page, live_server.url, screenshots)  # type: ignore[arg-type]
    context.close()


def _heading(page: Page, name: str | re.Pattern[str]) -> None:
    page.get_by_role("heading", name=name, level=1).wait_for()


def _quiet(console: Console) -> list[dict[str, object]]:
    """axe once no toast is fading (half-transparent text reads as low contrast)."""
    expect(console.page.locator(".ant-message-notice")).to_have_count(0, timeout=10_000)
    return console.axe()


def _bell(page: Page, unread: int) -> None:
    expect(page.get_by_role("button", name=f"Notifications, {unread} unread")).to_be_visible(timeout=20_000)


def _chinese(console: Console, path: str, heading: str | re.Pattern[str], shot: str) -> None:
    page = console.open(path)
    page.evaluate("localStorage.setItem('kairos.language', 'zh-CN')")
    page.reload()
    _heading(page, heading)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert console.axe() == []
    console.shot(shot)


def test_a_campaign_is_planned_approved_after_a_rejection_and_scheduled_on_the_calendar(
    console: Console,
    approver_console: Console,
    engine: Engine,
    console_workspace: CreatedWorkspace,
    live_server: LiveServer,
) -> None:
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Marketer")
    make_user(engine, console_workspace.id, "ada@example.com", "admin", "Ada Approver")  # admins approve
    api = _api(live_server, console_workspace)
    assert api.patch("/workspace", json={"time_zone": "Asia/Shanghai", "currency": "CNY"}).status_code == 200
    for i in range(3):
        assert api.post("/contacts", json={"external_id": f"s{i}", "email": f"s{i}@example.com",
                                           "tags": ["student"]}).status_code in (200, 201)  # fmt: skip
    segment = api.post(
        "/segments", json={"name": "Students", "definition": {"root": {"type": "tag", "tag": "student"}}}
    )
    assert segment.status_code == 201, segment.text
    template = api.post("/templates", json={"name": "Teaser", "channel": "inapp",
                                            "fields": {"title": "Soon", "body": "Spring sale"}}).json()  # fmt: skip

    # the marketer plans the campaign: budget (in the workspace's currency), audience with its count
    console.sign_in("mia@example.com")
    page = console.open("/campaigns")
    _heading(page, "Campaigns")
    page.get_by_role("button", name="New campaign").click()
    _heading(page, "New campaign")
    page.get_by_label("Name", exact=True).fill("Spring sale")
    page.get_by_label("Budget").fill("500")
    page.get_by_label("Audience").click()
    page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)").get_by_title("Students").click()
    page.get_by_text(re.compile(r"^\d+ contacts now$")).wait_for()  # the live count (no worker here: maybe 0)
    page.get_by_role("checkbox", name="In-app").check()
    page.get_by_label("Cost per message: In-app").fill("0.01")
    assert console.axe() == []
    page.get_by_role("button", name="Create campaign").click()
    _heading(page, re.compile("^Spring sale"))
    campaign = api.get("/campaigns").json()["data"][0]
    assert (campaign["budget"], campaign["currency"], campaign["segment_id"]) == (
        500,
        "CNY",
        segment.json()["id"],
    )
    assert campaign["costs"] == {"inapp": 0.01} and campaign["requires_approval"] is True
    path = f"/campaigns/{campaign['id']}"

    # … and asks for approval with a comment
    thread = page.get_by_role("region", name="Approval and discussion")
    thread.get_by_label("Comment").fill("Budget as agreed with finance")
    thread.get_by_role("button", name="Request approval").click()
    expect(page.locator(".page-title")).to_contain_text("Awaiting approval")
    expect(thread).to_contain_text("asked for approval")

    # the approver sees the notification, opens it and rejects the plan with a comment
    approver = approver_console.page
    approver_console.sign_in("ada@example.com")
    _bell(approver, 1)
    approver.get_by_role("button", name="Notifications, 1 unread").click()
    panel = approver.get_by_role("region", name="Notifications")
    expect(panel).to_contain_text("Mia Marketer asked you to approve “Spring sale”")
    expect(panel).to_contain_text("Budget as agreed with finance")
    assert approver_console.axe() == []
    approver_console.shot("notifications.en")
    panel.get_by_role("button", name=re.compile("asked you to approve")).click()
    approver.wait_for_url(f"**{path}")
    _heading(approver, re.compile("^Spring sale"))
    expect(approver.get_by_role("button", name="Notifications")).to_be_visible()  # read: no count
    approver_thread = approver.get_by_role("region", name="Approval and discussion")
    approver_thread.get_by_role("button", name="Reject").click()
    approver_thread.get_by_text("Write in the comment box why the plan is rejected.").wait_for()
    approver_thread.get_by_label("Comment").fill("Halve the budget, please <b>now</b>")
    approver_thread.get_by_role("button", name="Reject").click()
    expect(approver.locator(".page-title")).to_contain_text("Draft")
    assert api.get(path).json()["status"] == "draft"

    # the marketer sees it, fixes the plan and asks again
    page.reload()
    _bell(page, 1)
    page.get_by_role("button", name="Notifications, 1 unread").click()
    page.get_by_role("region", name="Notifications").get_by_role(
        "button", name=re.compile("Ada Approver rejected “Spring sale”")
    ).click()
    expect(thread).to_contain_text("Halve the budget, please <b>now</b>")  # text, not HTML
    page.get_by_role("button", name="Edit plan").click()
    page.get_by_label("Budget").fill("250")
    page.get_by_role("button", name="Save plan").click()
    page.get_by_role("button", name="Edit plan").wait_for()
    thread.get_by_label("Comment").fill("Halved")
    thread.get_by_role("button", name="Request approval").click()
    expect(page.locator(".page-title")).to_contain_text("Awaiting approval")

    # the approver approves
    approver.reload()
    _bell(approver, 1)
    approver_thread.get_by_role("button", name="Approve").click()
    expect(approver.locator(".page-title")).to_contain_text("Approved")
    saved = api.get(path).json()
    assert (saved["status"], saved["budget"]) == ("approved", 250)
    kinds = [e["kind"] for e in api.get(path + "/comments").json()["data"]]
    assert kinds == ["approval_requested", "rejected", "approval_requested", "approved"]
    page.reload()
    expect(page.locator(".page-title")).to_contain_text("Approved")
    _bell(page, 1)
    assert _quiet(console) == []
    console.shot("campaign.en")
    page = console.open("/campaigns")
    page.get_by_role("link", name="Spring sale").wait_for()
    assert console.axe() == []
    console.shot("campaigns.en")

    # a draft broadcast of the campaign, at 10:00 Shanghai time a week from now
    day = (datetime.now(ZONE) + timedelta(days=7)).date()
    at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=ZONE)
    b = api.post("/broadcasts", json={"name": "Teaser send", "campaign_id": campaign["id"], "channel": "inapp",
                                      "segment_id": segment.json()["id"], "template_id": template["id"],
                                      "send_at": at.astimezone(UTC).isoformat()})  # fmt: skip
    assert b.status_code == 201, b.text
    broadcast = b.json()

    # the month view shows the campaign and the draft; dragged to the next day, it keeps its time
    page = console.open(f"/calendar?view=month&date={day.isoformat()}")
    _heading(page, "Calendar")
    expect(
        page.get_by_role("link", name=re.compile("^Campaign: Spring sale")).first
    ).to_be_visible()  # a bar a week
    chip = page.get_by_role("link", name=re.compile("^Broadcast: Teaser send"))
    expect(chip).to_contain_text("10:00")
    assert console.axe() == []
    console.shot("calendar-month.en")
    target_day = day + timedelta(days=1)
    chip.drag_to(page.locator(f'.cal-day[data-day="{target_day.isoformat()}"]'))
    page.get_by_text(re.compile("“Teaser send” moved to")).wait_for()
    moved = datetime.fromisoformat(api.get(f"/broadcasts/{broadcast['id']}").json()["send_at"])
    assert moved == at + timedelta(days=1)

    # the week view: dragged to 14:00 the same day
    page = console.open(f"/calendar?view=week&date={target_day.isoformat()}")
    _heading(page, "Calendar")
    chip = page.get_by_role("link", name=re.compile("^Broadcast: Teaser send"))
    expect(chip).to_be_visible()
    assert _quiet(console) == []
    console.shot("calendar-week.en")
    page.set_viewport_size({"width": 1366, "height": 1400})  # the whole time grid on screen
    grid = page.locator(".cal-time-grid")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    weekday = target_day.weekday()  # Monday first, as the grid
    column = (box["width"] - 56) / 7
    chip.drag_to(grid, target_position={"x": 56 + column * (weekday + 0.5), "y": 28 * 20 + 5})
    page.get_by_text(re.compile("“Teaser send” moved to")).wait_for()
    moved = datetime.fromisoformat(api.get(f"/broadcasts/{broadcast['id']}").json()["send_at"])
    assert moved.astimezone(ZONE) == datetime(
        target_day.year, target_day.month, target_day.day, 14, 0, tzinfo=ZONE
    )

    # the keyboard way: Reschedule opens a date-time picker in the workspace's zone
    page.get_by_role("button", name="Reschedule “Teaser send”").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Asia/Shanghai")
    dialog.get_by_role("button", name="Cancel").click()

    # the same pages in Chinese
    _chinese(console, "/campaigns", "营销活动", "campaigns.zh")
    _chinese(console, path, re.compile("^Spring sale"), "campaign.zh")
    _chinese(console, f"/calendar?view=month&date={day.isoformat()}", "营销日历", "calendar-month.zh")
    _chinese(console, f"/calendar?view=week&date={target_day.isoformat()}", "营销日历", "calendar-week.zh")
    page = console.page
    page.get_by_role("button", name=re.compile("^通知")).click()
    expect(page.get_by_role("region", name="通知")).to_contain_text("批准了“Spring sale”")
    assert console.axe() == []
    console.shot("notifications.zh")
