"""My leads, the task inbox and the journey canvas's task node in chromium.

Set up through the API and the real worker (in-process, its clock at the real now): an admin
creates a sales user; a score model, a lifecycle rule (MQL at engagement ≥ 50) and a
round-robin assignment rule to that user; three contacts become MQLs and the user's leads; a
journey's `task` node (a call, to a queue) creates a task for one of them. The sales user
signs in and lands on My leads, opens a lead (scores with their reasons), rejects one with a
reason and accepts another (reloaded: kept); in the task inbox claims the task and completes
it with an outcome; the contact's timeline shows `Task Completed` and the journey took the
outcome's path. An admin opens the journey: the task node with its outcome handles and its
inspector. Every page is scanned with axe-core and photographed in English and Chinese."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kairos.clock import FixedClock, SystemClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer
from tests.console.conftest import PASSWORD, Console, make_user

SALES = "sam@example.com"
ADMIN = "ada@example.com"


def _api(server: LiveServer, ws: CreatedWorkspace) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"})


def _ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def _scan(console: Console) -> None:
    console.page.mouse.move(1, 1)
    expect(console.page.locator(".ant-message-notice")).to_have_count(0, timeout=10_000)
    assert console.axe() == []


def _pick(page: Page, label: str, option: str, scope: Any = None) -> None:
    """Choose in an antd select by its label, then wait for its list to close."""
    (scope or page).get_by_label(label, exact=True).click()
    open_list = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    open_list.get_by_title(option, exact=True).click()
    expect(open_list).to_have_count(0)


def _sign_in(console: Console, email: str, lands_on: str) -> None:
    page = console.open("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{lands_on}**")


def _chinese(console: Console, path: str, heading: str, shot: str) -> Page:
    page = console.open(path)
    page.evaluate("localStorage.setItem('kairos.language', 'zh-CN')")
    page.reload()
    page.get_by_role("heading", name=heading, level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    return page


def _english(page: Page) -> None:
    page.evaluate("localStorage.setItem('kairos.language', 'en')")


def _row(page: Page, name: str) -> Any:
    return page.locator("tr.ant-table-row").filter(has=page.get_by_role("button", name=f"Open {name}"))


def test_a_sales_user_works_leads_and_a_task_from_a_journey(
    console: Console,
    engine: Engine,
    console_workspace: CreatedWorkspace,
    live_server: LiveServer,
    clock: FixedClock,
) -> None:
    worker = Worker(engine, clock)

    def run() -> None:
        """The worker's pass at the real now (what the live server wrote lies before it)."""
        clock.set(SystemClock().now())
        worker.run_once()

    make_user(engine, console_workspace.id, ADMIN, "admin", "Ada Admin")
    api = _api(live_server, console_workspace)
    # the admin's setup, through the API: the sales user, scoring, lifecycle and assignment rules
    sam = _ok(
        api.post("/users", json={"email": SALES, "name": "Sam Sales", "role": "sales", "password": PASSWORD})
    )
    sam_id = sam["id"]
    _ok(api.post("/attributes", json={"name": "engagement", "type": "number"}))
    _ok(api.post("/attributes", json={"name": "company", "type": "string"}))
    model = _ok(api.post("/score-models", json={"key": "engagement", "name": "Engagement"}))
    _ok(api.post(f"/score-models/{model['id']}/rules", json={"name": "Engaged", "points": 40, "rule": {
        "kind": "condition", "condition": {"type": "attribute", "attribute": "engagement", "operator": "gte", "value": 50}}}))  # fmt: skip
    _ok(api.post("/lifecycle-rules", json={"name": "MQL", "stage": "MQL", "from_stages": [None], "condition": {
        "type": "attribute", "attribute": "engagement", "operator": "gte", "value": 50}}))  # fmt: skip
    _ok(api.put("/lifecycle-slas", json={"slas": [{"stage": "MQL", "hours": 24}]}))
    _ok(
        api.post(
            "/assignment-rules",
            json={"name": "Inside sales", "stage": "MQL", "method": "round_robin", "users": [sam_id]},
        )
    )
    ids: dict[str, int] = {}
    for ext, first, last, engagement in (
        ("lena", "Lena", "Wu", 60),
        ("tom", "Tom", "Li", 70),
        ("kai", "Kai", "Chen", 80),
    ):
        ids[ext] = _ok(api.post("/contacts", json={
            "external_id": ext, "email": f"{ext}@school.example", "first_name": first, "last_name": last,
            "traits": {"engagement": engagement, "company": "Acme School"}}))["id"]  # fmt: skip
    school = _ok(api.post("/accounts", json={"name": "Acme School", "domain": "school.example"}))
    _ok(api.post(f"/accounts/{school['id']}/contacts", json={"contacts": [{"contact_id": ids["lena"]}]}))
    run()
    run()
    leads = _ok(api.get("/leads", params={"owner": "any"}))["data"]
    assert sorted(lead["contact_id"] for lead in leads) == sorted(ids.values())
    assert {lead["owner"]["id"] for lead in leads} == {sam_id}

    # a journey hands a call to a queue; Kai enters it
    journey = _ok(api.post("/journeys", json={"name": "Call hot leads", "definition": {
        "trigger": {"type": "api"}, "start": "call",
        "nodes": {
            "call": {"type": "task", "kind": "call", "title": "Call {{ contact.first_name }}",
                     "script": "Hi {{ contact.first_name }}, this is Sam from Acme.\nAsk about the trial.",
                     "assignee": "queue:inside_sales", "due": {"amount": 1, "unit": "days"},
                     "timeout": {"amount": 3, "unit": "days"},
                     "outcomes": [{"name": "interested", "next": "sql"}, {"name": "not_now", "next": None}],
                     "timeout_next": None},
            "sql": {"type": "update_contact", "add_tags": ["call-interested"], "next": None},
        }}}))  # fmt: skip
    _ok(api.post(f"/journeys/{journey['id']}/publish"))
    _ok(api.post(f"/journeys/{journey['id']}/enrollments", json={"contact_id": ids["kai"]}))
    run()
    [task] = _ok(api.get("/tasks", params={"unassigned": "true"}))["data"]
    assert task["title"] == "Call Kai" and task["queue"] == "inside_sales"

    # 1. the sales user signs in and lands on My leads
    _sign_in(console, SALES, "/leads")
    page = console.page
    page.get_by_role("heading", name="My leads", level=1).wait_for()
    for name in ("Lena Wu", "Tom Li", "Kai Chen"):
        expect(page.get_by_role("button", name=f"Open {name}")).to_be_visible()
    expect(page.get_by_label("Owner")).to_have_count(0)  # a sales user sees their own
    expect(page.get_by_role("menuitem", name=re.compile("Tasks"))).to_be_visible()
    expect(page.get_by_role("menuitem", name=re.compile("Users and roles"))).to_have_count(0)
    _scan(console)
    console.shot("leads.en")

    # 2. a lead opened: its scores with their reasons, its attributes
    page.get_by_role("button", name="Open Lena Wu").click()
    drawer = page.get_by_role("dialog", name="Lead: Lena Wu")
    expect(drawer.get_by_text("Engagement", exact=True)).to_be_visible()
    expect(drawer.get_by_text("Engaged", exact=True)).to_be_visible()
    expect(drawer.get_by_text("+40")).to_be_visible()
    expect(drawer.get_by_role("link", name="Acme School")).to_have_attribute(
        "href", f"/accounts/{school['id']}"
    )
    expect(drawer.get_by_role("link", name=re.compile("Open the profile"))).to_have_attribute(
        "href", f"/contacts/{ids['lena']}"
    )
    _scan(console)
    console.shot("lead.en")

    # 3. rejected with a reason (required), from the drawer
    drawer.get_by_role("button", name="Reject Lena Wu").click()
    dialog = page.get_by_role("dialog", name="Reject Lena Wu")
    dialog.get_by_role("button", name="Reject the lead").click()
    expect(dialog.get_by_text("Choose a reason or write one.")).to_be_visible()
    _pick(page, "Reason", "No budget", dialog)
    dialog.get_by_label("Details").fill("Budget opens next school year")
    _scan(console)
    dialog.get_by_role("button", name="Reject the lead").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_text("Lena Wu rejected: back to nurture.")).to_be_visible()
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)

    # 4. another accepted from its row
    page.get_by_role("button", name="Accept Tom Li").click()
    expect(page.get_by_text("Tom Li accepted: now at SQL.")).to_be_visible()
    page.reload()
    expect(_row(page, "Lena Wu").get_by_text("nurture", exact=True)).to_be_visible()
    expect(_row(page, "Tom Li").get_by_text("SQL", exact=True)).to_be_visible()
    expect(_row(page, "Tom Li").get_by_role("button", name="Accept Tom Li")).to_have_count(0)
    events = {e["name"]: e["properties"] for e in _ok(api.get(f"/contacts/{ids['lena']}/events"))["data"]}
    assert events["Lead Rejected"]["reason"] == "No budget: Budget opens next school year"

    # 5. the task inbox: not mine yet; claimable in the queue; claimed, then completed
    page.get_by_role("navigation").get_by_text("Tasks", exact=True).click()
    page.get_by_role("heading", name="Tasks", level=1).wait_for()
    expect(page.get_by_text("No tasks here.")).to_be_visible()
    page.get_by_text("Unassigned (claimable)").click()
    expect(page.get_by_role("button", name="Open “Call Kai”")).to_be_visible()
    expect(page.get_by_text("Queue: inside_sales")).to_be_visible()
    _scan(console)
    console.shot("tasks.en")
    page.get_by_role("button", name="Open “Call Kai”").click()
    drawer = page.get_by_role("dialog", name="Task: Call Kai")
    expect(drawer.get_by_text("Ask about the trial.")).to_be_visible()  # the script, rendered
    drawer.get_by_role("button", name="Claim “Call Kai”").click()
    expect(page.get_by_text("Claimed: the task is yours.")).to_be_visible()
    expect(drawer.get_by_text("Sam Sales")).to_be_visible()
    _scan(console)
    console.shot("task.en")
    drawer.get_by_role("button", name="Complete “Call Kai”").click()
    dialog = page.locator(".ant-modal").filter(has_text="Outcome")
    dialog.get_by_role("radio", name="interested").check()
    dialog.get_by_label("Notes").fill("Wants a demo on Friday")
    _scan(console)
    dialog.get_by_role("button", name="Complete the task").click()
    expect(page.get_by_text("Task completed: interested.")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(drawer.get_by_text("Wants a demo on Friday")).to_be_visible()
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    page.get_by_text("Mine", exact=True).click()
    page.get_by_label("Status").click()
    page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)").get_by_title(
        "Done", exact=True
    ).click()
    expect(page.get_by_role("button", name="Open “Call Kai”")).to_be_visible()

    # 6. the journey took the outcome's path; the contact's timeline has the task's event
    run()
    assert "call-interested" in _ok(api.get(f"/contacts/{ids['kai']}"))["tags"]
    console.open(f"/contacts/{ids['kai']}")
    expect(page.get_by_text("Task Completed").first).to_be_visible(timeout=20_000)

    # the journey builder is not a sales user's: its list answers "no access" (a task's
    # journey stays readable from the task)
    console.open("/journeys")
    page.get_by_role("heading", name="You cannot open this page", level=1).wait_for()
    expect(page.get_by_role("button", name=re.compile("New journey"))).to_have_count(0)

    # 7. in Chinese
    page = _chinese(console, "/leads", "我的线索", "leads.zh")
    expect(page.get_by_role("columnheader", name="SLA 时限")).to_be_visible()
    _scan(console)
    console.shot("leads.zh")
    page = _chinese(console, f"/tasks?task={task['id']}&who=all&status=any", "任务", "tasks.zh")
    expect(page.get_by_role("dialog").get_by_text("话术")).to_be_visible()
    _scan(console)
    console.shot("task.zh")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    _scan(console)
    console.shot("tasks.zh")
    _english(page)

    # 8. the admin's canvas: the task node, a handle per outcome and the timeout's
    page.context.clear_cookies()
    console.sign_in(ADMIN)
    page = console.open(f"/journeys/{journey['id']}")
    node = page.get_by_test_id("journey-node-call")
    expect(node.get_by_text("Task for a person")).to_be_visible()
    expect(node.get_by_text("Call · Call {{ contact.first_name }} · queue inside_sales")).to_be_visible()
    for handle, label in (
        ("outcomes[0].next", "interested"),
        ("outcomes[1].next", "not_now"),
        ("timeout_next", "Timed out"),
    ):
        expect(node.locator(f"[data-handle='{handle}']")).to_have_text(label)
    node.click()
    inspector = page.locator(".journey-inspector")
    expect(inspector.get_by_role("heading", name="Task for a person")).to_be_visible()
    expect(inspector.get_by_label("Title")).to_have_value("Call {{ contact.first_name }}")
    expect(inspector.get_by_role("radio", name="A queue")).to_be_checked()
    expect(inspector.get_by_label("Queue name")).to_have_value("inside_sales")
    expect(inspector.get_by_label("Outcome 1: name")).to_have_value("interested")
    _scan(console)
    console.shot("journey-task.en")
    page = _chinese(console, f"/journeys/{journey['id']}", "Call hot leads", "journey-task.zh")
    page.get_by_test_id("journey-node-call").click()
    expect(page.locator(".journey-inspector").get_by_role("heading", name="人工任务")).to_be_visible()
    _scan(console)
    console.shot("journey-task.zh")
    _english(page)


def test_the_palette_adds_a_task_and_the_score_trigger_is_offered(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    with _api(live_server, console_workspace) as api:
        _ok(api.post("/score-models", json={"key": "engagement", "name": "Engagement"}))
    console.sign_in("mia@example.com")
    page = console.open("/journeys/new")
    page.get_by_role("heading", name="New journey", level=1).wait_for()
    # the trigger: the score crosses 50, upward
    page.get_by_test_id("journey-node-__trigger__").click()
    inspector = page.locator(".journey-inspector")
    inspector.get_by_role("combobox", name="Enters when").click()
    open_list = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    open_list.get_by_title("Score crosses a threshold", exact=True).click()
    expect(open_list).to_have_count(0)
    _pick(page, "Score model", "Engagement (engagement)", inspector)
    expect(
        page.get_by_test_id("journey-node-__trigger__").get_by_text("engagement score rises to 50 or more")
    ).to_be_visible()
    # a task from the palette, after the trigger
    page.locator(".palette-item[data-kind=task]").click()
    node = page.get_by_test_id("journey-node-task")
    expect(node.locator("[data-handle='outcomes[0].next']")).to_have_text("interested")
    expect(node.locator("[data-handle='timeout_next']")).to_have_text("Timed out")
    inspector.get_by_label("Title").fill("Call {{ contact.first_name }}")
    inspector.get_by_role("button", name="Add an outcome").click()
    inspector.get_by_label("Outcome 3: name").fill("wrong_number")
    expect(node.locator("[data-handle='outcomes[2].next']")).to_have_text("wrong_number")
    inspector.get_by_label("Outcome 3: name").fill("timeout")
    expect(inspector.get_by_text("“timeout” is the timeout's path: choose another name.")).to_be_visible()
    inspector.get_by_label("Outcome 3: name").fill("wrong_number")
    _scan(console)
    console.shot("journey-task-new.en")
