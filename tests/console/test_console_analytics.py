"""The dashboard and the reports in chromium: a campaign's broadcast sent over SMTP by the
worker (in-process, on the test database), opens, a click, events and an order, then the
dashboard's tiles and charts with their numbers, another range, the campaign report with
its chart, a model switch and its CSV, a funnel — in English and in Chinese, axe on every
page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine

from kairos.clock import FixedClock, SystemClock
from kairos.messaging.tracking import Outcome, record
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.analytics.test_reports import campaign, messages_by_contact, segment, send_broadcast, track
from tests.conftest import Api
from tests.console.conftest import Console, make_user
from tests.messaging.conftest import (  # noqa: F401  (fixtures: private SMTP targets allowed, the worker)
    SmtpServer,
    email_channel,
    email_template,
    make_contact,
    settings,
    smtp,
    worker,
)


def figure(page: Page, title: str) -> Locator:
    return page.get_by_role("figure", name=title, exact=True)


def chart_table(fig: Locator) -> Locator:
    """The chart's numbers, shown instead of the chart."""
    fig.get_by_role("button", name=re.compile(r"^(Show as table|以表格查看)$")).click()
    table = fig.get_by_role("table")
    expect(table).to_be_visible()
    return table


def expect_chart(fig: Locator) -> None:
    """The chart is drawn (ECharts' SVG inside the element with role img and a summary)."""
    img = fig.locator("[role=img]")
    expect(img).to_have_attribute("aria-label", re.compile(r".+[:\uff1a].+"))  # a colon, or the Chinese one
    expect(img.locator("svg").first).to_have_attribute("aria-hidden", "true")
    expect(img.locator("svg").first).to_be_visible()
    expect(img.locator("svg path").first).to_be_attached()


def test_the_dashboard_and_reports_show_a_campaign_sent_opened_and_bought_from(
    console: Console,
    engine: Engine,
    api: Api,
    workspace: CreatedWorkspace,
    smtp: SmtpServer,  # noqa: F811
    email_channel: dict[str, Any],  # noqa: F811
    worker: Worker,  # noqa: F811
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    # Twenty minutes ago (the server reads the real clock: nothing may lie in its future)
    clock.set(SystemClock().now() - timedelta(minutes=20))
    make_user(engine, workspace.id, "mo@example.com", "analyst", "Mo Analyst")
    seg = segment(api, "spring")
    people = [
        make_contact(api, external_id=f"c{i}", email=f"c{i}@example.com", tags=["spring"]) for i in range(4)
    ]
    worker.run_once()
    cid = campaign(api)  # "spring", EUR, goal Order Completed within 7 days
    bid = send_broadcast(api, worker, cid, seg, email_template(api))
    assert len(smtp.recorder.received) == 4
    ids = messages_by_contact(engine, bid)
    clock.advance(timedelta(minutes=5))
    with engine.begin() as conn:
        record(conn, [Outcome(ids[people[0]], "opened"), Outcome(ids[people[1]], "opened")], clock.now())
        record(conn, [Outcome(ids[people[0]], "clicked")], clock.now())
    clock.advance(timedelta(minutes=5))
    track(api, workspace, "c0", "Product Viewed")
    track(api, workspace, "c1", "Product Viewed")
    track(api, workspace, "c0", "Order Completed", revenue=30)
    events = api.get("/reports/dashboard").json()["totals"]["events"]  # Kairos's own events too

    console.sign_in("mo@example.com")  # lands on the dashboard
    page = console.page
    page.get_by_role("heading", name="Dashboard", level=1).wait_for()
    expect(page.get_by_role("link", name=re.compile(r"^Contacts\s*4\s*\+4 new"))).to_have_attribute(
        "href", "/contacts"
    )
    expect(page.get_by_role("link", name=re.compile(rf"^Events\s*{events}\b"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Messages sent\s*4\b"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Opened\s*2\s*Open rate 50%"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Clicked\s*1\s*Click rate 25%"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Conversions\s*1\b"))).to_be_visible()
    for title in ("New contacts", "Events", "Messages", "Conversions and revenue"):
        expect_chart(figure(page, title))
    assert console.axe() == []
    console.shot("dashboard.en")

    # the numbers behind the charts: the data table alternative
    messages = chart_table(figure(page, "Messages"))
    expect(messages.locator("tfoot tr")).to_have_text(re.compile(r"Total\s*4\s*0\s*2\s*1"))
    contacts = chart_table(figure(page, "New contacts"))
    expect(contacts.locator("tbody tr")).to_have_count(30)  # the last 30 UTC days
    expect(contacts.locator("tfoot tr")).to_have_text(re.compile(r"Total\s*4"))
    assert console.axe() == []

    # another range: the last 7 days, in the address and in the table
    page.get_by_text("Last 7 days", exact=True).click()
    page.wait_for_url(re.compile(r"from=\d{4}-\d{2}-\d{2}&to="))
    expect(contacts.locator("tbody tr")).to_have_count(7)
    expect(contacts.locator("tfoot tr")).to_have_text(re.compile(r"Total\s*4"))

    # the reports: the campaign's, with its chart, another attribution model, its CSV
    page.get_by_role("link", name=re.compile(r"^Conversions")).click()
    page.get_by_role("heading", name="Reports", level=1).wait_for()
    page.get_by_role("table", name="Campaigns").get_by_role("link", name="spring").wait_for()
    assert console.axe() == []
    console.shot("reports.en")
    page.get_by_role("table", name="Campaigns").get_by_role("link", name="spring").click()
    page.get_by_role("heading", name="Campaign: spring", level=1).wait_for()
    totals = page.get_by_role("list", name="Totals")
    expect(totals).to_contain_text("Conversions1")
    expect(totals).to_contain_text("€30.00")
    expect_chart(figure(page, "Sends, engagement and conversions per day"))
    page.get_by_label("Attribution model").click()
    page.locator('.ant-select-item-option[title="Linear"]').click()
    page.wait_for_url(re.compile(r"model=linear"))
    expect(page.get_by_text(re.compile(r"credited by Linear"))).to_be_visible()
    # the options' list closes (its animation ends) before the page is scanned
    expect(page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download CSV")).click()
    assert download.value.suggested_filename == f"campaign-{cid}-linear.csv"
    saved = tmp_path / "campaign.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("channel,targeted,sent,delivered,opened,clicked,")
    assert lines[1].startswith("total,4,4,0,2,1,") and lines[2].startswith("email,4,4,0,2,1,")
    assert console.axe() == []
    console.shot("reports-campaign.en")

    # a funnel built from event names
    page = console.open("/reports/funnel")
    page.get_by_label("Step 1", exact=True).fill("Product Viewed")
    page.get_by_label("Step 2", exact=True).fill("Order Completed")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Show funnel").click()
    result = page.get_by_role("table", name="Funnel")
    expect(result.get_by_role("row").filter(has_text="2. Order Completed")).to_have_text(
        re.compile(r"2\. Order Completed\s*1\s*50%\s*50%")
    )
    expect_chart(figure(page, "Contacts at each step"))
    assert console.axe() == []
    console.shot("reports-funnel.en")

    # the same pages in Chinese
    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("menuitem", name="中文").click()
    page.get_by_role("heading", name="漏斗分析", level=1).wait_for()
    page.get_by_role("menuitem", name="English").wait_for(state="hidden")
    expect_chart(figure(page, "各步骤联系人数"))
    assert console.axe() == []
    console.shot("reports-funnel.zh")
    page = console.open("/dashboard")
    page.get_by_role("heading", name="仪表盘", level=1).wait_for()
    expect(page.get_by_role("link", name=re.compile(r"^联系人\s*4\s*本期新增 4"))).to_be_visible()
    for title in ("新增联系人", "事件", "消息", "转化与收入"):
        expect_chart(figure(page, title))
    table = chart_table(figure(page, "消息"))
    expect(table.locator("tfoot tr")).to_have_text(re.compile(r"合计\s*4\s*0\s*2\s*1"))
    assert console.axe() == []
    console.shot("dashboard.zh")
    page = console.open("/reports")
    page.get_by_role("heading", name="报表", level=1).wait_for()
    page.get_by_role("table", name="营销活动").get_by_role("link", name="spring").wait_for()
    assert console.axe() == []
    console.shot("reports.zh")
    page = console.open(f"/reports/campaigns/{cid}")
    page.get_by_role("heading", name="营销活动\uff1aspring", level=1).wait_for()
    expect_chart(figure(page, "每日发送、互动与转化"))
    assert console.axe() == []
    console.shot("reports-campaign.zh")

    # the broadcast's report, in Chinese, then in English
    page = console.open(f"/reports/broadcasts/{bid}")
    page.get_by_role("heading", name=re.compile("^群发\uff1a"), level=1).wait_for()
    assert console.axe() == []
    console.shot("reports-broadcast.zh")
    page.get_by_role("button", name=re.compile("语言")).click()
    page.get_by_role("menuitem", name="English").click()
    page.get_by_role("heading", name=re.compile("^Broadcast: "), level=1).wait_for()
    page.get_by_role("menuitem", name="中文").wait_for(state="hidden")
    assert console.axe() == []
    console.shot("reports-broadcast.en")
