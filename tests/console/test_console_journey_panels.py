"""The panels beside the journey canvas in chromium: Live statistics (per-step figures on the
canvas and in a table, totals, the contacts at a step, opening one, removing one), the
Simulation (a test contact with a scripted event: the path lit on the canvas, the waits, the
rendered email in its sandboxed frame) and Versions (a second version published: the
difference listed and drawn on the canvas). The journey is entered through the API and moved
by the worker on a driven clock. Every page is scanned with axe-core and photographed in
English and Chinese."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine

from kairos.clock import FixedClock, SystemClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.console.conftest import AXE, BLOCKING, Console, make_user
from tests.journeys.conftest import track
from tests.messaging.conftest import (  # noqa: F401  (fixtures: private SMTP targets allowed, the worker)
    SmtpServer,
    email_channel,
    email_template,
    make_contact,
    settings,
    smtp,
    worker,
)

TRIGGER = "__trigger__"


def _node(page: Page, node_id: str) -> Locator:
    return page.get_by_test_id(f"journey-node-{node_id}")


def _axe_now(console: Console) -> list[dict[str, Any]]:
    """``console.axe()`` without waiting for the network to be idle: a page holding a
    sandboxed ``srcdoc`` frame made after it loaded (the simulated email) may never be seen
    "network idle" by Playwright (docs/console.md, the content pages' note)."""
    page = console.page
    page.wait_for_load_state("load")
    page.evaluate(AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def _shot_now(console: Console, name: str) -> None:
    """``console.shot()`` without waiting for the network to be idle (see ``_axe_now``)."""
    console.page.screenshot(path=str(console.shots / f"{name}.png"), full_page=True)


def _switch_language(page: Page, to: str) -> None:
    page.get_by_role("button", name=re.compile("Language|语言")).click()
    page.get_by_role("menuitem", name=to).click()
    page.get_by_role("menuitem", name=to).wait_for(state="hidden")


def _definition(welcome: int, reminder: int, pause_days: int = 1) -> dict[str, Any]:
    """Wait, the welcome email, two days for an open: tag the engaged, remind the others;
    an order is the goal."""
    return {
        "trigger": {"type": "api"},
        "goal": {"event": "Order Completed"},
        "start": "pause",
        "nodes": {
            "pause": {"type": "wait", "duration": {"amount": pause_days, "unit": "days"}, "next": "welcome"},
            "welcome": {"type": "send", "channel": "email", "template_id": welcome, "next": "opened"},
            "opened": {
                "type": "wait_for_event",
                "event": "Email Opened",
                "timeout": {"amount": 2, "unit": "days"},
                "next": "engaged",
                "timeout_next": "reminder",
            },
            "engaged": {"type": "update_contact", "add_tags": ["engaged"], "next": None},
            "reminder": {"type": "send", "channel": "email", "template_id": reminder, "next": None},
        },
    }


def _journey(api: Api) -> tuple[int, dict[str, Any]]:
    welcome = email_template(
        api, "welcome", subject="Welcome aboard, {{ contact.first_name }}",
        body="<html><body><h1>Hi {{ contact.first_name }}!</h1><p>Glad you are here.</p></body></html>",
    )  # fmt: skip
    reminder = email_template(api, "reminder", subject="Still there, {{ contact.first_name }}?")
    definition = _definition(welcome, reminder)
    r = api.post("/journeys", {"name": "Welcome series", "definition": definition,
                               "layout": {"nodes": {TRIGGER: {"x": 0, "y": 0}, "pause": {"x": 0, "y": 160},
                                                    "welcome": {"x": 0, "y": 320}, "opened": {"x": 0, "y": 480},
                                                    "engaged": {"x": -160, "y": 640},
                                                    "reminder": {"x": 160, "y": 640}}}})  # fmt: skip
    assert r.status_code == 201, r.text
    jid = int(r.json()["id"])
    assert api.post(f"/journeys/{jid}/publish").status_code == 200
    return jid, definition


def _running_journey(
    api: Api, workspace: CreatedWorkspace, w: Worker, clock: FixedClock
) -> tuple[int, dict[str, int]]:
    """Three contacts entered two days ago: all got the welcome email, Ann then ordered
    (converted), Bob and Cy wait for an open."""
    clock.set(SystemClock().now() - timedelta(days=2))
    jid, _ = _journey(api)
    people = {
        name: make_contact(
            api, external_id=name.lower(), email=f"{name.lower()}@example.com", first_name=name
        )
        for name in ("Ann", "Bob", "Cy")
    }
    for cid in people.values():
        r = api.post(f"/journeys/{jid}/enrollments", {"contact_id": cid})
        assert r.status_code == 201, r.text
    w.run_once()
    clock.advance(timedelta(days=1, minutes=1))
    w.run_once()
    track(api, workspace.write_key, "ann", "Order Completed", revenue=30)
    w.run_once()
    stats = api.get(f"/journeys/{jid}/stats", params={"version": 1}).json()
    assert stats["totals"] == {"entered": 3, "active": 2, "completed": 0, "converted": 1, "exited": 0}
    return jid, people


def test_live_statistics_show_each_step_and_the_contacts_there(
    console: Console,
    engine: Engine,
    api: Api,
    workspace: CreatedWorkspace,
    smtp: SmtpServer,  # noqa: F811
    email_channel: dict[str, Any],  # noqa: F811
    worker: Worker,  # noqa: F811
    clock: FixedClock,
) -> None:
    jid, people = _running_journey(api, workspace, worker, clock)
    make_user(engine, workspace.id, "mia@example.com", "marketer", "Mia Wong")
    console.sign_in("mia@example.com")
    page = console.open(f"/journeys/{jid}?mode=live")
    panel = page.get_by_test_id("live-panel")
    panel.get_by_role("heading", name="Live statistics", level=2).wait_for()

    # totals: entered, active, converted with the rate, exited
    totals = panel.get_by_test_id("live-totals")
    expect(totals).to_contain_text(re.compile(r"Entered\s*3"))
    expect(totals).to_contain_text(re.compile(r"Active\s*2"))
    expect(totals).to_contain_text(re.compile(r"Converted\s*1\s*33\.3% conversion"))
    expect(totals).to_contain_text(re.compile(r"Exited\s*0"))
    expect(panel.get_by_role("radio", name="Version 1 (live)")).to_be_checked()
    # per step, in the table and on the canvas
    row = panel.get_by_test_id("live-nodes").locator("tr[data-node=opened]")
    expect(row.locator("td")).to_have_text(["3", "2", "0", "1", "0"])
    expect(panel.get_by_test_id("live-nodes").locator("tr[data-node=reminder] td")).to_have_text(["0"] * 5)
    expect(_node(page, "opened")).to_contain_text(re.compile(r"Now\s*2"))
    expect(_node(page, "pause")).to_contain_text(re.compile(r"Entered\s*3"))
    expect(_node(page, TRIGGER)).to_contain_text(re.compile(r"Entered\s*3"))

    # the contacts waiting at a step: selected on the canvas
    _node(page, "opened").click()
    contacts = panel.get_by_test_id("node-enrollments")
    contacts.get_by_role("heading", name="Contacts at “opened”").wait_for()
    contacts.scroll_into_view_if_needed()
    expect(contacts.get_by_test_id("enrollment")).to_have_count(2)
    expect(contacts.get_by_test_id("enrollment").first).to_contain_text("Waiting for")
    expect(contacts.get_by_test_id("enrollment").first).to_contain_text("Email Opened")
    assert console.axe() == []
    console.shot("journey-live.en")

    # … the one who converted there
    contacts.get_by_label("Show").click()
    page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)").get_by_title(
        "Converted", exact=True
    ).click()
    expect(contacts.get_by_test_id("enrollment")).to_have_count(1)
    expect(contacts.get_by_test_id("enrollment")).to_contain_text("Ann")
    expect(contacts.get_by_test_id("enrollment")).to_contain_text("Reached the goal")
    expect(page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")).to_have_count(0)

    # remove Cy (asked first): the figures follow
    contacts.get_by_label("Show").click()
    page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)").get_by_title(
        "There now", exact=True
    ).click()
    cy = contacts.get_by_test_id("enrollment").filter(has_text="Cy")
    cy.get_by_role("button", name="Remove from journey").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Remove Cy from this journey?")
    dialog.get_by_role("button", name="Remove from journey").click()
    expect(dialog).to_have_count(0)
    expect(contacts.get_by_test_id("enrollment")).to_have_count(1)
    expect(row.locator("td")).to_have_text(["3", "1", "0", "1", "1"])
    expect(totals).to_contain_text(re.compile(r"Exited\s*1"))
    [removed] = api.get(f"/journeys/{jid}/enrollments", params={"enrollment_state": "exited"}).json()["data"]
    assert (removed["contact_id"], removed["exit_reason"]) == (people["Cy"], "removed")

    # open the contact still waiting
    contacts.get_by_role("link", name="Bob").click()
    page.wait_for_url(re.compile(rf"/contacts/{people['Bob']}$"))
    page.get_by_role("heading", name="Bob", level=1).wait_for()
    page.go_back()

    # 中文
    panel.get_by_role("heading", name="Live statistics", level=2).wait_for()
    _switch_language(page, "中文")
    panel.get_by_role("heading", name="实时数据", level=2).wait_for()
    expect(totals).to_contain_text(re.compile(r"已转化\s*1\s*转化率 33.3%"))
    _node(page, "opened").click()
    panel.get_by_role("heading", name="“opened”中的联系人").wait_for()
    expect(contacts.get_by_test_id("enrollment")).to_have_count(1)
    contacts.scroll_into_view_if_needed()
    assert console.axe() == []
    console.shot("journey-live.zh")


def test_a_simulation_lights_the_path_and_renders_the_email(
    console: Console, engine: Engine, api: Api, workspace: CreatedWorkspace
) -> None:
    jid, _ = _journey(api)
    make_user(
        engine, workspace.id, "leo@example.com", "analyst", "Leo Analyst"
    )  # a read: analysts may simulate
    console.sign_in("leo@example.com")
    page = console.open(f"/journeys/{jid}?mode=simulate")
    panel = page.get_by_test_id("simulation-panel")
    panel.get_by_role("heading", name="Simulation", level=2).wait_for()

    # a test contact who opens the email two days in
    panel.get_by_label("Email", exact=True).fill("dee@example.com")
    panel.get_by_label("First name").fill("Dee")
    panel.get_by_label("Time zone").fill("Asia/Shanghai")
    panel.get_by_label("Attribute 1 name").fill("plan")
    panel.get_by_label("Attribute 1 value").fill("pro")
    panel.get_by_role("button", name="Add event").click()
    panel.get_by_label("Event 1: how long after the start").fill("2")
    expect(panel.get_by_label("Event 1", exact=True)).to_have_value("Email Opened")
    panel.get_by_role("button", name="Run simulation").click()

    result = panel.get_by_test_id("sim-result")
    expect(result.get_by_test_id("sim-final")).to_contain_text("Completed")
    steps = result.get_by_test_id("sim-path").locator("li")
    expect(steps).to_have_count(6)
    expect(steps.nth(0)).to_contain_text(re.compile(r"pause\s*Wait\s*Started waiting"))
    expect(steps.nth(2)).to_contain_text(re.compile(r"welcome\s*Send a message\s*Moved on\s*Message 1"))
    expect(steps.nth(4)).to_contain_text(re.compile(r"opened\s*Wait for an event\s*Event came"))
    expect(steps.nth(5)).to_contain_text(re.compile(r"engaged\s*Update contact\s*Moved on"))
    expect(result.get_by_test_id("sim-final")).to_contain_text(re.compile(r"Ended at\s*engaged"))
    expect(result.get_by_test_id("sim-waits").locator("li")).to_have_count(2)
    message = result.get_by_test_id("sim-message")
    expect(message).to_contain_text("dee@example.com")
    expect(message).to_contain_text("Welcome aboard, Dee")
    # on the canvas: the path, where it ended, the notes
    expect(_node(page, "welcome")).to_have_class(re.compile(r"\bjn-hl-path\b"))
    expect(_node(page, "engaged")).to_have_class(re.compile(r"\bjn-hl-end\b"))
    expect(_node(page, "reminder")).not_to_have_class(re.compile(r"\bjn-hl-"))
    expect(_node(page, "pause")).to_contain_text("Waits until")
    expect(_node(page, "welcome")).to_contain_text("Email: Welcome aboard, Dee")
    assert _axe_now(console) == []
    _shot_now(console, "journey-simulation.en")
    # the email as Dee would read it, in its sandboxed frame
    frame = message.locator("iframe")
    expect(frame).to_have_attribute("sandbox", "")
    expect(page.frame_locator("[data-testid=sim-message] iframe").get_by_role("heading")).to_have_text(
        "Hi Dee!"
    )
    # a step selects its node on the canvas
    steps.nth(4).get_by_role("button", name="opened").click()
    expect(_node(page, "opened")).to_have_class(re.compile(r"\bselected\b"))

    # the server's refusal, said plainly: an event after the simulated time
    expect(panel.get_by_test_id("sim-scenario")).to_contain_text(
        re.compile(r"Contact\s*Dee \(test contact\)")
    )
    panel.get_by_role("button", name="Change the scenario").click()
    panel.get_by_label("Event 1: how long after the start").fill("60")
    panel.get_by_role("button", name="Run simulation").click()
    expect(panel.get_by_test_id("sim-error")).to_contain_text("outside the simulated time")
    panel.get_by_label("Event 1: how long after the start").fill("2")
    panel.get_by_role("button", name="Run simulation").click()
    expect(panel.get_by_test_id("sim-error")).to_have_count(0)
    expect(result.get_by_test_id("sim-final")).to_contain_text("Completed")

    _switch_language(page, "中文")
    panel.get_by_role("heading", name="模拟运行", level=2).wait_for()
    expect(result.get_by_test_id("sim-final")).to_contain_text("已完成")
    expect(steps.nth(4)).to_contain_text(re.compile(r"opened\s*等待事件\s*事件已发生"))
    expect(_node(page, "welcome")).to_contain_text("邮件\uff1aWelcome aboard, Dee")
    assert _axe_now(console) == []
    _shot_now(console, "journey-simulation.zh")


def test_versions_list_and_draw_the_changes_between_two(
    console: Console, engine: Engine, api: Api, workspace: CreatedWorkspace
) -> None:
    jid, first = _journey(api)
    second = _definition(
        first["nodes"]["welcome"]["template_id"], first["nodes"]["reminder"]["template_id"], 2
    )
    second["nodes"]["engaged"]["next"] = "thanks"
    second["nodes"]["thanks"] = {"type": "update_contact", "add_tags": ["welcomed"], "next": None}
    assert api.patch(f"/journeys/{jid}", {"definition": second}).status_code == 200
    assert api.post(f"/journeys/{jid}/publish").status_code == 200
    make_user(engine, workspace.id, "mia@example.com", "marketer", "Mia Wong")
    console.sign_in("mia@example.com")
    page = console.open(f"/journeys/{jid}?mode=versions")
    panel = page.get_by_test_id("versions-panel")
    panel.get_by_role("heading", name="Versions", level=2).wait_for()

    versions = panel.get_by_test_id("versions-list")
    expect(versions.get_by_test_id("version-2")).to_contain_text("Live")
    expect(versions.get_by_test_id("version-2")).to_contain_text(re.compile(r"Published .+ by "))
    expect(versions.get_by_test_id("version-draft")).to_contain_text("Same as live")
    # the two latest compared by default
    expect(panel.get_by_text("Version 1 → Version 2:")).to_be_visible()
    diff = panel.get_by_test_id("diff-list")
    expect(diff.get_by_test_id("diff-added")).to_contain_text("thanks")
    expect(diff.get_by_test_id("diff-changed")).to_have_count(2)
    expect(diff.get_by_test_id("diff-changed").filter(has_text="pause")).to_contain_text("Changed: Duration")
    expect(diff.get_by_test_id("diff-changed").filter(has_text="engaged")).to_contain_text(
        "Changed: Next step"
    )

    panel.get_by_role("button", name="Show on the canvas").click()
    expect(panel.get_by_test_id("versions-showing")).to_contain_text("changes from Version 1 to Version 2")
    expect(_node(page, "thanks")).to_have_class(re.compile(r"\bjn-hl-added\b"))
    expect(_node(page, "pause")).to_have_class(re.compile(r"\bjn-hl-changed\b"))
    expect(_node(page, "pause")).to_contain_text("Changed: Duration")
    expect(_node(page, "welcome")).not_to_have_class(re.compile(r"\bjn-hl-"))
    assert console.axe() == []
    console.shot("journey-versions.en")

    # version 1 on the canvas, then back to the journey
    versions.get_by_test_id("version-1").get_by_role("button", name="View version 1 on the canvas").click()
    expect(panel.get_by_test_id("versions-showing")).to_contain_text("version 1, read-only")
    expect(_node(page, "thanks")).to_have_count(0)
    panel.get_by_role("button", name="Back to the journey").click()
    expect(panel.get_by_test_id("versions-showing")).to_have_count(0)
    _node(page, "thanks").wait_for()
    expect(_node(page, "thanks")).not_to_have_class(re.compile(r"\bjn-hl-"))

    _switch_language(page, "中文")
    panel.get_by_role("heading", name="版本", level=2).wait_for()
    expect(panel.get_by_text("版本 1 → 版本 2\uff1a")).to_be_visible()
    panel.get_by_role("button", name=re.compile(r"在画布中显示$")).click()
    expect(_node(page, "pause")).to_contain_text("修改\uff1a时长")
    assert console.axe() == []
    console.shot("journey-versions.zh")
