"""The journey canvas in chromium: a marketer builds a journey on the canvas (tag added →
wait until 20:00 → SMS from a template → exit), saves it, sees the API's validation error on
the node it names, fixes it, publishes, pauses and resumes; a 200-node journey opens, pans
and saves without lag (the figures are printed). Every page is scanned with axe-core and
photographed in English and Chinese."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer
from tests.console.conftest import Console, make_user

TRIGGER = "__trigger__"


def _api(server: LiveServer, ws: CreatedWorkspace) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"})


def _node(page: Page, node_id: str) -> Any:
    return page.get_by_test_id(f"journey-node-{node_id}")


def _pick(page: Page, label: str, option: str) -> None:
    """Choose in an antd select by its label, then wait for its list to close."""
    page.get_by_label(label, exact=True).click()
    open_list = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    open_list.get_by_title(option, exact=True).click()
    expect(open_list).to_have_count(0)


def _scan(console: Console) -> None:
    """axe-core, with the pointer off any button (a hovered button is drawn lighter) and no
    message fading in or out (its text is half-transparent while it does)."""
    console.page.mouse.move(1, 1)
    expect(console.page.locator(".ant-message-notice")).to_have_count(0, timeout=10_000)
    assert console.axe() == []


def _switch_language(page: Page, to: str) -> None:
    page.get_by_role("button", name=re.compile("Language|语言")).click()
    page.get_by_role("menuitem", name=to).click()
    page.get_by_role("menuitem", name=to).wait_for(state="hidden")


def _confirm(page: Page, ok: str) -> None:
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    dialog.get_by_role("button", name=ok).click()
    expect(dialog).to_have_count(0)


def test_a_marketer_builds_saves_fixes_and_publishes_a_journey_on_the_canvas(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    with _api(live_server, console_workspace) as api:
        r = api.post("/templates", json={"name": "Evening code", "channel": "sms",
                                         "fields": {"text": "Your code is {{ contact.first_name }}-20. Reply STOP to opt out."}})  # fmt: skip
        assert r.status_code == 201, r.text
        template_id = r.json()["id"]
    console.sign_in("mia@example.com")
    page = console.page

    page.get_by_role("navigation").get_by_text("Journeys", exact=True).click()
    page.get_by_role("heading", name="Journeys", level=1).wait_for()
    page.get_by_text("No journeys yet").wait_for()
    _scan(console)

    # A new journey: the trigger alone on the canvas.
    page.get_by_role("button", name=re.compile("New journey")).click()
    page.get_by_role("heading", name="New journey", level=1).wait_for()
    _node(page, TRIGGER).wait_for()
    page.get_by_label("Name", exact=True).fill("Evening SMS")
    _node(page, TRIGGER).click()
    page.get_by_role("heading", name="Trigger", level=2).wait_for()
    page.get_by_label("Tag", exact=True).fill("browsed-A-no-order")
    page.keyboard.press("Escape")
    expect(_node(page, TRIGGER)).to_contain_text("When tag “browsed-A-no-order” is added")

    # Steps added from the palette, each after the one selected.
    page.locator(".palette-item[data-kind=wait_until]").click()
    _node(page, "wait_until").wait_for()
    page.get_by_label("Time of day").fill("20:00")
    expect(_node(page, "wait_until")).to_contain_text("Until 20:00")
    page.locator(".palette-item[data-kind=send]").click()
    _node(page, "send").wait_for()
    _pick(page, "Channel", "SMS")
    expect(_node(page, "send")).to_contain_text("SMS · no template chosen")
    page.locator(".palette-item[data-kind=exit]").click()
    _node(page, "exit").wait_for()
    expect(page.locator(".react-flow__edge")).to_have_count(3)

    # Undo takes the exit away, redo brings it back.
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(_node(page, "exit")).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    _node(page, "exit").wait_for()

    # Saving: the API refuses the send step without a template, and the canvas shows it there.
    page.get_by_role("button", name=re.compile("Save draft")).click()
    alert = page.get_by_role("alert").filter(has_text="The journey was not saved")
    alert.wait_for()
    expect(alert).to_contain_text("nodes.send.send.template_id: Field required")
    expect(_node(page, "send")).to_have_class(re.compile(r"\bjn-error\b"))
    expect(_node(page, "send")).to_contain_text("Field required")
    assert re.search(r"/journeys/new$", page.url)
    # the error in the list selects its node: the inspector shows the send step
    page.locator(".journey-side").get_by_role("heading", name="Send message", level=2).wait_for()
    expect(page.locator(".journey-side .field-error").first).to_contain_text("Field required")
    _scan(console)
    console.shot("journey-inspector.en")

    # Fixed: a template of the SMS channel; saving creates the journey.
    _pick(page, "Template", f"Evening code (#{template_id})")
    expect(_node(page, "send")).to_contain_text("SMS · Evening code")
    page.get_by_role("button", name=re.compile("Save draft")).click()
    page.get_by_text("Draft saved.").wait_for()
    page.wait_for_url(re.compile(r"/journeys/\d+$"))
    journey_id = int(page.url.rsplit("/", 1)[1])
    page.get_by_role("heading", name="Evening SMS", level=1).wait_for()
    expect(_node(page, "send")).not_to_have_class(re.compile(r"\bjn-error\b"))
    with _api(live_server, console_workspace) as api:
        saved = api.get(f"/journeys/{journey_id}").json()
    draft = saved["draft"]
    assert draft["trigger"] == {"type": "tag_added", "tag": "browsed-A-no-order"}
    assert draft["start"] == "wait_until"
    assert draft["nodes"]["wait_until"] == {
        "type": "wait_until",
        "time": "20:00:00",
        "weekdays": None,
        "next": "send",
    }
    assert draft["nodes"]["send"]["template_id"] == template_id and draft["nodes"]["send"]["channel"] == "sms"
    assert draft["nodes"]["send"]["next"] == "exit" and draft["nodes"]["exit"] == {"type": "exit"}
    assert set(saved["layout"]["nodes"]) == {TRIGGER, "wait_until", "send", "exit"}

    # Publish (asked first), pause (asked first), resume.
    page.get_by_role("button", name="Publish").click()
    _confirm(page, "Publish")
    page.get_by_text("Published: version 1 is live.").wait_for()
    expect(page.locator(".journey-heading .journey-status")).to_have_text("Live")
    page.get_by_role("button", name="Pause").click()
    _confirm(page, "Pause")
    expect(page.locator(".journey-heading .journey-status")).to_have_text("Paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".journey-heading .journey-status")).to_have_text("Live")
    with _api(live_server, console_workspace) as api:
        assert api.get(f"/journeys/{journey_id}").json()["status"] == "active"
    _node(page, "wait_until").click()
    page.locator(".journey-side").get_by_role("heading", name="Wait until a time", level=2).wait_for()
    _scan(console)
    console.shot("journey-canvas.en")

    # The list: name, status, live version, trigger; filtered by status.
    page.get_by_role("link", name="All journeys").click()
    row = page.get_by_role("row").filter(has_text="Evening SMS")
    expect(row).to_contain_text("Live")
    expect(row).to_contain_text("v1")
    expect(row).to_contain_text("When tag “browsed-A-no-order” is added")
    page.get_by_text(re.compile(r"^Draft \(0\)$")).click()
    expect(page.get_by_role("row").filter(has_text="Evening SMS")).to_have_count(0)
    page.get_by_text(re.compile(r"^All \(1\)$")).click()
    expect(page.get_by_role("row").filter(has_text="Evening SMS")).to_have_count(1)
    _scan(console)
    console.shot("journeys.en")

    # 中文
    _switch_language(page, "中文")
    page.get_by_role("heading", name="旅程", level=1).wait_for()
    expect(page.get_by_role("row").filter(has_text="Evening SMS")).to_contain_text("运行中")
    _scan(console)
    console.shot("journeys.zh")
    page.get_by_role("link", name="Evening SMS").click()
    _node(page, "send").wait_for()
    expect(_node(page, "send")).to_contain_text("短信 · Evening code")
    _node(page, "send").click()
    page.locator(".journey-side").get_by_role("heading", name="发送消息", level=2).wait_for()
    _scan(console)
    console.shot("journey-inspector.zh")
    _node(page, TRIGGER).click()
    page.locator(".journey-side").get_by_role("heading", name="触发条件", level=2).wait_for()
    expect(_node(page, TRIGGER)).to_contain_text("被添加标签“browsed-A-no-order”时")
    _scan(console)
    console.shot("journey-canvas.zh")


def _big_definition(count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A chain of `count` nodes (waits, with a condition every 10th), laid out in a grid."""
    nodes: dict[str, Any] = {}
    for i in range(count):
        nxt = f"n{i + 1}" if i + 1 < count else None
        if i % 10 == 9 and nxt:
            nodes[f"n{i}"] = {"type": "condition", "condition": {"type": "tag", "tag": "vip", "present": True},
                              "yes": nxt, "no": nxt}  # fmt: skip
        else:
            nodes[f"n{i}"] = {"type": "wait", "duration": {"amount": i + 1, "unit": "hours"}, "next": nxt}
    definition = {
        "schema_version": 1,
        "trigger": {"type": "tag_added", "tag": "big"},
        "start": "n0",
        "nodes": nodes,
    }
    layout = {
        "nodes": {TRIGGER: {"x": 0, "y": -160}}
        | {f"n{i}": {"x": (i % 20) * 280, "y": (i // 20) * 170} for i in range(count)}
    }
    return definition, layout


def test_a_200_node_journey_opens_pans_and_saves_without_lag(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    definition, layout = _big_definition(200)
    with _api(live_server, console_workspace) as api:
        r = api.post("/journeys", json={"name": "Big journey", "definition": definition, "layout": layout})
        assert r.status_code == 201, r.text
        journey_id = r.json()["id"]
    console.sign_in("mia@example.com")
    page = console.page
    page.get_by_role("navigation").get_by_text("Journeys", exact=True).click()
    page.get_by_role("link", name="Big journey").wait_for()

    # Open: from the click on the list to the 201 nodes on the canvas.
    started = page.evaluate("() => performance.now()")
    page.get_by_role("link", name="Big journey").click()
    expect(page.locator(".react-flow__node")).to_have_count(201, timeout=20_000)
    _node(page, "n199").wait_for()
    opened_ms = page.evaluate("() => performance.now()") - started

    # Pan: drag the empty canvas; the nodes follow (the viewport's transform changes).
    pane = page.locator(".react-flow__pane")
    box = pane.bounding_box()
    assert box
    before = page.locator(".react-flow__viewport").get_attribute("style")
    started = page.evaluate("() => performance.now()")
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(box["x"] + 20 + step * 10, box["y"] + 20 + step * 8)
    page.mouse.up()
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")
    panned_ms = page.evaluate("() => performance.now()") - started
    assert page.locator(".react-flow__viewport").get_attribute("style") != before

    # Select a node and edit it: only that node changes; then save the 200 nodes.
    _node(page, "n0").click()
    page.locator(".journey-side").get_by_role("heading", name="Wait", level=2).wait_for()
    started = page.evaluate("() => performance.now()")
    page.get_by_role("button", name=re.compile("Save draft")).click()
    page.get_by_text("Draft saved.").wait_for()
    saved_ms = page.evaluate("() => performance.now()") - started
    with _api(live_server, console_workspace) as api:
        saved = api.get(f"/journeys/{journey_id}").json()
    assert len(saved["draft"]["nodes"]) == 200
    assert len(saved["layout"]["nodes"]) == 201

    print(
        f"\n200-node journey: opened in {opened_ms:.0f} ms, panned (20 moves) in {panned_ms:.0f} ms, saved in {saved_ms:.0f} ms"
    )
    assert opened_ms < 5_000 and panned_ms < 3_000 and saved_ms < 5_000
    expect(page.locator(".ant-message-notice")).to_have_count(0, timeout=10_000)  # faded in and out
    _scan(console)
