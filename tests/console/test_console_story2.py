"""Story 2, back-to-school, in the browser: a category manager (an admin: the messaging policy
is theirs) builds the segment "18 to 22 years old (by birthday) who viewed /back-to-school"
in the segment builder, sets a weekly frequency cap on the messaging policy page, and creates
an email broadcast at 10:00 local time with two subject lines and a 10 % holdout. The data
arrives through /v1 (real ingest on the live server); the worker (in-process, its clock moved)
runs past 10:00 in Shanghai, then in New York, and the emails reach the SMTP server; then the
broadcast's page and its report show each variant and the holdout — in English and Chinese.

The live server reads the real clock: the broadcast is set for tomorrow (the browser's own
"tomorrow"), and the worker's clock is moved to tomorrow's 10:00 in each zone."""

from __future__ import annotations

import base64
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import expect
from sqlalchemy import Engine, select

from kairos.campaigns.tables import broadcast_recipient
from kairos.clock import FixedClock, SystemClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api, LiveServer, settle
from tests.console.conftest import Console, make_user
from tests.console.test_console_broadcasts import confirm, pick
from tests.messaging.conftest import (  # noqa: F401  (fixtures: private SMTP targets allowed, the worker)
    SmtpServer,
    email_channel,
    settings,
    smtp,
    worker,
)

SHANGHAI, NEW_YORK = "Asia/Shanghai", "America/New_York"


def v1(server: LiveServer, ws: CreatedWorkspace, engine: Engine, kind: str, body: dict[str, Any]) -> None:
    auth = "Basic " + base64.b64encode(f"{ws.write_key}:".encode()).decode()
    r = httpx.post(f"{server.url}/v1/{kind}", json=body, headers={"Authorization": auth})
    assert r.status_code == 200, r.text
    settle(engine)  # the server makes the events within milliseconds; do not race it


def birthday(age: int, today: date) -> str:
    """A birthday that makes the contact `age` for the next months."""
    return (
        date(today.year - age, 1, 15).isoformat()
        if today.month >= 2
        else date(today.year - age - 1, 1, 15).isoformat()
    )


def email_template(api: Api, name: str, subject: str) -> int:
    r = api.post("/templates", {"name": name, "channel": "email", "fields": {
        "subject": subject, "format": "html",
        "body": '<p>Hi {{ contact.first_name | default: "there" }}, new term, new deals.</p>'
                '<p><a href="{{ links.unsubscribe_url }}">Unsubscribe</a></p>'}})  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_story_2_back_to_school_in_the_console(
    console: Console,
    engine: Engine,
    api: Api,
    workspace: CreatedWorkspace,
    live_server: LiveServer,
    smtp: SmtpServer,  # noqa: F811
    email_channel: dict[str, Any],  # noqa: F811
    worker: Worker,  # noqa: F811
    clock: FixedClock,
) -> None:
    clock.set(SystemClock().now())
    today = clock.now().date()
    day = today + timedelta(days=1)  # the broadcast goes tomorrow, 10:00 in each contact's zone
    make_user(engine, workspace.id, "lena@example.com", "admin", "Lena Zhou")
    assert (
        api.post("/attributes", {"name": "birthday", "type": "datetime", "label": "Birthday"}).status_code
        == 201
    )

    # the data, through /v1: who they are (identify, with their time zone) and what they viewed
    people: dict[str, dict[str, Any]] = {}
    for i in range(20):
        people[f"st{i}"] = {
            "age": 18 + i % 5,
            "tz": SHANGHAI if i % 2 == 0 else NEW_YORK,
            "page": "/back-to-school",
        }
    people["older"] = {"age": 30, "tz": SHANGHAI, "page": "/back-to-school"}
    people["young"] = {"age": 16, "tz": NEW_YORK, "page": "/back-to-school"}
    people["finance"] = {"age": 19, "tz": SHANGHAI, "page": "/finance"}
    for user, p in people.items():
        v1(live_server, workspace, engine, "identify", {"userId": user, "context": {"timezone": p["tz"]},
                                                "traits": {"email": f"{user}@example.com", "first_name": user.title(),
                                                           "birthday": birthday(p["age"], today)}})  # fmt: skip
        v1(
            live_server,
            workspace,
            engine,
            "track",
            {"userId": user, "event": "Page Viewed", "properties": {"path": p["page"]}},
        )
    students = {u for u in people if u.startswith("st")}

    # two of them already had two marketing emails this week
    r = api.post("/segments", {"name": "earlier", "definition": {"root": {"type": "any", "conditions": [
        {"type": "attribute", "attribute": "external_id", "operator": "in", "value": ["st0", "st1"]}]}}})  # fmt: skip
    assert r.status_code == 201, r.text
    earlier = r.json()["id"]
    clock.set(SystemClock().now())
    worker.run_once()
    for n in range(2):
        b = api.post("/broadcasts", {"name": f"earlier {n}", "channel": "email", "segment_id": earlier,
                                     "template_id": email_template(api, f"earlier {n}", f"Earlier {n}")}).json()  # fmt: skip
        assert api.post(f"/broadcasts/{b['id']}/schedule").json()["status"] == "scheduled"
        worker.run_once()
    assert sorted(r.rcpt_tos[0] for r in smtp.recorder.received) == ["st0@example.com", "st0@example.com",
                                                                     "st1@example.com", "st1@example.com"]  # fmt: skip
    email_template(api, "Back to school A", "Back to school: your student deals")
    email_template(api, "Back to school B", "New term, 20% off for students")

    console.sign_in("lena@example.com")
    page = console.page

    # 1. the segment, in the builder
    page = console.open("/segments/new")
    page.get_by_label("Name", exact=True).fill("New students")
    console.choose(page.get_by_role("button", name="Add condition", exact=True), "Attribute")
    pick(page, re.compile(r"Condition 1: field"), "Birthday (traits.birthday)")
    pick(page, re.compile(r"Condition 1: operator"), "is between … and … years old")
    page.get_by_label(re.compile(r"^Condition 1\b.*youngest age$")).fill("18")
    page.get_by_label(re.compile(r"^Condition 1\b.*oldest age$")).fill("22")
    console.choose(page.get_by_role("button", name="Add condition", exact=True), "Performed an event")
    page.get_by_label("Condition 2: event").fill("Page Viewed")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add property filter to Condition 2").click()
    page.get_by_label(re.compile(r"^Condition 2, property filter 1\b.*property$")).fill("path")
    page.keyboard.press("Escape")
    page.get_by_label(re.compile(r"^Condition 2, property filter 1\b.*value$")).fill("/back-to-school")
    expect(page.locator(".preview-number")).to_have_text("20", timeout=15_000)
    page.get_by_role("button", name="Create segment").click()
    page.wait_for_url(re.compile(r"/segments/\d+"))
    segment = next(s for s in api.get("/segments").json()["data"] if s["name"] == "New students")

    # 2. at most 2 marketing messages a week, on the messaging policy page
    page = console.open("/settings/messaging")
    page.get_by_role("button", name="Add cap").click()
    page.get_by_label("Cap 1: most messages").fill("2")
    page.get_by_label("Cap 1: period").fill("7")
    pick(page, "Cap 1: unit", "days")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("Messaging policy saved")).to_be_visible()
    assert api.get("/messaging/policy").json()["frequency_caps"][0]["limit"] == 2

    # 3. the broadcast: two subject lines, a 10 % holdout, tomorrow 10:00 local time
    clock.set(SystemClock().now())  # (the events ingested since lie in the past of the worker's clock)
    worker.run_once()  # the new segment's members
    page = console.open("/broadcasts")
    page.get_by_role("button", name="New broadcast").click()
    page.get_by_label("Name", exact=True).fill("Back to school")
    pick(page, "Segment", "New students (20)")
    page.get_by_label("A/B/n test with a holdout").click()
    pick(page, "Template of variant A", "Back to school A")
    pick(page, "Template of variant B", "Back to school B")
    page.get_by_label("Holdout", exact=True).fill("10")
    page.get_by_label("Test group", exact=True).fill("100")
    page.get_by_label("At a local time in each contact's time zone").check()
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Local time", exact=True).fill("10:00")
    expect(
        page.get_by_text("10 % are held out; everyone else is split between the 2 variants")
    ).to_be_visible()
    assert console.axe() == []
    console.shot("story2-broadcast-editor.en")
    page.get_by_role("button", name="Schedule…").click()
    confirm(page, "Schedule")
    expect(page.locator(".broadcast-head")).to_contain_text("Scheduled")
    bid = int(re.search(r"/broadcasts/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    saved = api.get(f"/broadcasts/{bid}").json()
    assert (saved["segment_id"], saved["local_date"], saved["local_time"]) == (
        segment["id"],
        day.isoformat(),
        "10:00",
    )
    assert saved["experiment"]["holdout_percent"] == 10

    # 4. the worker, past 10:00 in Shanghai, then in New York (local time in each zone)
    def at_ten(tz: str) -> datetime:
        return datetime.combine(day, datetime.min.time().replace(hour=10), ZoneInfo(tz)).astimezone(UTC)

    smtp.recorder.received.clear()
    clock.set(at_ten(SHANGHAI) - timedelta(hours=1))
    worker.run_once()  # the audience snapshot; nothing due yet
    assert smtp.recorder.received == []
    with engine.begin() as conn:
        assigned = {cid: variant for cid, variant in conn.execute(
            select(broadcast_recipient.c.contact_id, broadcast_recipient.c.variant)
            .where(broadcast_recipient.c.broadcast_id == bid))}  # fmt: skip
    contacts = {c["external_id"]: c["id"] for c in api.get("/contacts", params={"limit": 100}).json()["data"]}
    variant_of = {user: assigned.get(contacts[user]) for user in people}
    assert {u for u, v in variant_of.items() if v is not None} == students  # only the segment
    held = {u for u, v in variant_of.items() if v == "holdout"}
    assert held and {"A", "B"} <= set(variant_of.values())
    capped = {"st0", "st1"} - held

    clock.set(at_ten(SHANGHAI) + timedelta(minutes=30))
    worker.run_once()
    first = {r.rcpt_tos[0].split("@")[0] for r in smtp.recorder.received}
    assert first == {u for u in students if people[u]["tz"] == SHANGHAI} - held - capped
    clock.set(at_ten(NEW_YORK) + timedelta(minutes=30))
    worker.run_once()
    got = Counter(r.rcpt_tos[0].split("@")[0] for r in smtp.recorder.received)
    assert set(got) == students - held - capped  # recipients only in the segment, never the holdout
    assert max(got.values()) == 1
    subjects = {r.rcpt_tos[0].split("@")[0]: r.message["Subject"] for r in smtp.recorder.received}
    for user, subject in subjects.items():  # each got its variant's subject line
        assert subject == (
            "Back to school: your student deals"
            if variant_of[user] == "A"
            else "New term, 20% off for students"
        )
    skipped = api.get("/messages", params={"status": "skipped", "limit": 100}).json()["data"]
    assert {m["contact_id"] for m in skipped if m["reason"] == "frequency_cap"} == {
        contacts[u] for u in capped
    }
    # no one over the cap: at most 2 marketing emails each this week
    with_earlier = Counter({"st0": 2, "st1": 2}) + got
    assert max(with_earlier.values()) <= 2
    clock.advance(timedelta(hours=5))  # the test window has passed: the variants are judged
    worker.run_once()
    judged = api.get(f"/broadcasts/{bid}").json()
    assert judged["status"] == "queued" and judged["winner"] in ("A", "B")

    # 5. the broadcast's page and its report: each variant and the holdout
    # the worker's housekeeping, its clock a day ahead, ended the browser's session: sign in again
    console.sign_in("lena@example.com")
    page = console.open(f"/broadcasts/{bid}")
    page.get_by_role("heading", name="Back to school", level=1).wait_for()
    figures = page.get_by_role("list", name="Progress")
    expect(figures).to_contain_text(f"Audience{len(students)}")
    expect(figures).to_contain_text(f"Sent{len(got)}")
    expect(figures).to_contain_text(f"Skipped{len(capped)}")
    expect(page.get_by_text(re.compile(rf"^{judged['winner']} \(\d+% confidence\)$"))).to_be_visible()
    variants = page.get_by_role("table", name="Variants")
    for name, n in (
        ("A", sum(1 for u in got if variant_of[u] == "A")),
        ("B", sum(1 for u in got if variant_of[u] == "B")),
    ):
        cells = variants.locator(f'tr[data-row-key="{name}"]').get_by_role("cell")
        expect(cells.nth(2)).to_have_text(str(n))  # sent
    holdout = variants.locator('tr[data-row-key="holdout"]').get_by_role("cell")
    expect(holdout.nth(0)).to_have_text("Holdout")
    expect(holdout.nth(1)).to_have_text(str(len(held)))  # targeted: nothing was sent to them
    expect(holdout.nth(2)).to_have_text("0")
    assert console.axe() == []
    console.shot("story2-broadcast.en")
    page.get_by_role("link", name="Full report").click()
    page.get_by_role("heading", name="Broadcast: Back to school", level=1).wait_for()
    expect(page.get_by_role("table", name="Variants").locator('tr[data-row-key="holdout"]')).to_contain_text(
        "Holdout"
    )
    assert console.axe() == []
    console.shot("story2-report.en")

    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("menuitem", name="中文").click()
    page.get_by_role("heading", name="群发\uff1aBack to school", level=1).wait_for()
    page.get_by_role("menuitem", name="English").wait_for(state="hidden")
    expect(page.get_by_role("table", name="变体").locator('tr[data-row-key="holdout"]')).to_contain_text(
        "对照组"
    )
    assert console.axe() == []
    console.shot("story2-report.zh")
    page = console.open(f"/broadcasts/{bid}")
    page.get_by_role("heading", name="Back to school", level=1).wait_for()
    expect(
        page.get_by_text(re.compile("^[AB]\uff08\u7f6e\u4fe1\u5ea6 \\d+%\uff09$"))
    ).to_be_visible()  # "A (置信度 12%)", full-width brackets
    assert console.axe() == []
    console.shot("story2-broadcast.zh")
