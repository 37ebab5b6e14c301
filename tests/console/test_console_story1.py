"""Story 1 of product.md built in the console only, in chromium: a segment "viewed product A
in the last 3 days and did not order", a tag rule, an offer with a coupon pool, an SMS
template showing the code, and a journey — tag added → assign the offer → wait until 20:00
in the contact's time zone → the SMS — simulated in its panel, then published.

Then the shopper's events arrive through `/v1` (real ingest) and the operator's
`kairos clock advance` (the CLI, in its own process) runs the worker's jobs at every instant
that falls due: the SMS with the code reaches a server speaking Twilio's API at 20:00 New
York time, the order with the code converts, and the canvas's live figures and the
campaign's report show it.

The workspace is a sandbox (docs/sandbox.md): its clock is virtual and moves only when
advanced, which is how a story spanning an evening is run in seconds. (`kairos worker --once
--now` once did this for live workspaces; it is gone, and sandboxes replaced it.)"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kairos.clock import SystemClock
from kairos.workspaces.service import CreatedWorkspace, create_workspace
from tests.conftest import LiveServer, settle
from tests.console.conftest import Console, make_user
from tests.messaging.fake_providers import TwilioFake

SID, TOKEN = "AC" + "0" * 32, "twilio-token"
START = datetime(2027, 3, 4, 12, 0, tzinfo=UTC)  # 07:00 in New York (EST)
TRIGGER = "__trigger__"


@pytest.fixture
def sandbox(engine: Engine) -> CreatedWorkspace:
    with engine.begin() as conn:
        return create_workspace(conn, SystemClock(), "Shop rehearsal", sandbox=True, clock_start=START)


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    fake = TwilioFake(SID, TOKEN)
    yield fake
    fake.stop()


def _api(server: LiveServer, ws: CreatedWorkspace) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"})


def _v1(server: LiveServer, ws: CreatedWorkspace, engine: Engine, call: str, body: dict[str, Any]) -> None:
    auth = "Basic " + base64.b64encode(f"{ws.write_key}:".encode()).decode()
    r = httpx.post(f"{server.url}/v1/{call}", json=body, headers={"Authorization": auth})
    assert r.status_code == 200, r.text
    settle(engine)  # the server makes the events within milliseconds; do not race it


def _advance(database_url: str, ws: CreatedWorkspace, to: datetime) -> None:
    """The operator's command, in its own process, on the test database."""
    env = {
        **os.environ,
        "KAIROS_DATABASE_URL": database_url,
        "KAIROS_SECRET_KEY": "test-secret",
        "KAIROS_ALLOW_PRIVATE_TARGETS": "true",  # the Twilio-shaped server listens on 127.0.0.1
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kairos",
            "clock",
            "advance",
            "--workspace",
            str(ws.id),
            "--to",
            to.isoformat(),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _pick(page: Page, label: str, option: str | re.Pattern[str]) -> None:
    """Choose in an antd select by its label, then wait for its list to close."""
    page.get_by_label(label, exact=True).click()
    open_list = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    open_list.get_by_title(option, exact=True).click()
    expect(open_list).to_have_count(0)


def _node(page: Page, node_id: str) -> Any:
    return page.get_by_test_id(f"journey-node-{node_id}")


def _mode(page: Page, name: str) -> None:
    """The canvas's mode switch (Edit, Live, Simulate, Versions)."""
    page.locator(".ant-segmented-item", has_text=name).click()
    expect(page.get_by_role("radio", name=name)).to_be_checked()


def _switch_language(page: Page, to: str) -> None:
    page.get_by_role("button", name=re.compile("Language|语言")).click()
    page.get_by_role("menuitem", name=to).click()
    page.get_by_role("menuitem", name=to).wait_for(state="hidden")


def _scan(console: Console) -> None:
    """axe-core, with the pointer off any button (a hovered button is drawn lighter) and no
    message fading in or out (its text is half-transparent while it does)."""
    console.page.mouse.move(1, 1)
    expect(console.page.locator(".ant-message-notice")).to_have_count(0, timeout=10_000)
    assert console.axe() == []


def test_story_1_built_in_the_console_then_run_by_the_worker(
    console: Console,
    engine: Engine,
    database_url: str,
    sandbox: CreatedWorkspace,
    live_server: LiveServer,
    twilio: TwilioFake,
) -> None:
    # Set-up an administrator does once (not the story): the SMS channel, the campaign with
    # the SMS's cost, and the shopper's profile arriving through /v1.
    make_user(engine, sandbox.id, "mia@example.com", "marketer", "Mia Wong")
    with _api(live_server, sandbox) as api:
        # the live server refuses private provider addresses (production default): the
        # channel points at the fake through the in-process API below instead
        campaign = api.post("/campaigns", json={"name": "Browse abandonment", "costs": {"sms": 0.05},
                                                "goal": {"event": "Order Completed", "window_days": 7}})  # fmt: skip
        assert campaign.status_code == 201, campaign.text
        campaign_id = campaign.json()["id"]
    _sms_channel(database_url, sandbox, twilio)
    _v1(live_server, sandbox, engine, "identify", {"userId": "shopper", "traits": {
        "first_name": "Sam", "phone": "+12125550199", "timezone": "America/New_York"}})  # fmt: skip

    console.sign_in("mia@example.com")
    page = console.page

    # 1. The segment: viewed product A in the last 3 days, and no order.
    page = console.open("/segments/new")
    page.get_by_label("Name", exact=True).fill("Viewed A, no order")
    console.choose(page.get_by_role("button", name="Add condition", exact=True), "Performed an event")
    page.get_by_label("Condition 1: event").fill("Product Viewed")
    page.get_by_label("Condition 1: time window: amount").fill("3")
    page.get_by_role("button", name="Add property filter to Condition 1").click()
    page.get_by_label("Condition 1, property filter 1: property").fill("product_id")
    page.get_by_label("Condition 1, property filter 1: value").fill("A")
    console.choose(page.get_by_role("button", name="Add condition", exact=True), "Did not perform an event")
    page.get_by_label("Condition 2: event").fill("Order Completed")
    page.get_by_role("button", name="Create segment").click()
    page.wait_for_url(re.compile(r"/segments/\d+"))
    segment_id = int(page.url.rsplit("/", 1)[1].split("?")[0])

    # 2. The tag rule: members of the segment get the tag.
    page = console.open("/tag-rules")
    _pick(page, "Segment", "Viewed A, no order")
    page.get_by_label("Tag", exact=True).fill("browsed-A-no-order")
    page.get_by_label("Rule name").fill("Browsed A")
    page.get_by_role("button", name=re.compile("Create rule")).click()
    expect(page.get_by_role("row").filter(has_text="browsed-A-no-order")).to_have_count(1)

    # 3. The offer, with a pool of unique codes.
    page = console.open("/offers/new")
    page.get_by_label("Name", exact=True).fill("10% off shoes")
    page.get_by_label("Key", exact=True).fill("shoes-10")
    page.get_by_label("Percentage off").fill("10")
    page.get_by_label("Unique codes from a pool").check()
    page.get_by_role("button", name="Create offer").click()
    page.get_by_role("tab", name="Coupon pool", selected=True).wait_for()
    page.get_by_label("How many").fill("20")
    page.get_by_role("button", name="Generate 20 codes").click()
    page.get_by_text("20 codes added.").wait_for()

    # 4. The SMS, showing the code.
    page = console.open("/templates/new")
    page.get_by_role("link", name=re.compile(r"^message SMS$")).click()
    page.get_by_role("heading", name="New SMS template", level=1).wait_for()
    page.get_by_label("Template name").fill("Evening code")
    field = page.get_by_test_id("field-text")
    field.fill("Hi {{ contact.first_name }}, {{ offer.name }} with code {{ offer.code }} tonight")
    page.get_by_role("button", name=re.compile("Create template")).click()
    page.wait_for_url(re.compile(r"/templates/\d+$"))
    template_id = int(page.url.rsplit("/", 1)[1])

    # 5. The journey on the canvas.
    page = console.open("/journeys/new")
    _node(page, TRIGGER).wait_for()
    page.get_by_label("Name", exact=True).fill("Browse abandonment: evening code")
    _pick(page, "Campaign", "Browse abandonment")
    _node(page, TRIGGER).click()
    page.get_by_label("Tag", exact=True).fill("browsed-A-no-order")
    page.get_by_label("Contacts who reach the goal leave as converted").click()
    page.get_by_label("Event of Goal").fill("Order Completed")
    page.locator(".palette-item[data-kind=assign_offer]").click()
    _node(page, "offer").wait_for()
    page.get_by_label("Offers", exact=True).click()  # several may be chosen: the list stays open
    offers = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    offers.get_by_title("10% off shoes (shoes-10)", exact=True).click()
    page.keyboard.press("Escape")
    expect(offers).to_have_count(0)
    page.locator(".palette-item[data-kind=wait_until]").click()
    _node(page, "wait_until").wait_for()
    page.get_by_label("Time of day").fill("20:00")
    page.locator(".palette-item[data-kind=send]").click()
    _node(page, "send").wait_for()
    _pick(page, "Channel", "SMS")
    _pick(page, "Template", f"Evening code (#{template_id})")
    # a week's wait after the SMS: an order in that week converts the contact
    page.locator(".palette-item[data-kind=wait]").click()
    _node(page, "wait").wait_for()
    page.get_by_label("Wait for: amount").fill("7")
    expect(page.locator(".react-flow__edge")).to_have_count(4)
    page.get_by_role("button", name=re.compile("Save draft")).click()
    page.get_by_text("Draft saved.").wait_for()
    page.wait_for_url(re.compile(r"/journeys/\d+$"))
    journey_id = int(page.url.rsplit("/", 1)[1])
    _scan(console)
    console.shot("story1-canvas.en")

    # 6. Simulated before it goes live: a test contact in New York, whose SMS waits for 20:00.
    _mode(page, "Simulate")
    panel = page.get_by_test_id("simulation-panel")
    panel.wait_for()
    panel.get_by_role("button", name="Run simulation").click()
    message = panel.get_by_test_id("sim-message").first
    expect(message).to_contain_text("10% off shoes with code")
    expect(_node(page, "send")).to_have_class(re.compile(r"\bjn-hl-path\b|\bjn-hl-end\b|\bjn-hl-current\b"))
    _scan(console)
    console.shot("story1-simulation.en")

    # 7. Published.
    _mode(page, "Edit")
    page.get_by_role("button", name="Publish").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Publish").click()
    page.get_by_text("Published: version 1 is live.").wait_for()

    # The shopper views product A; the worker's jobs run as the sandbox's clock moves.
    _v1(live_server, sandbox, engine, "track", {"userId": "shopper", "event": "Product Viewed",
                                        "properties": {"product_id": "A"}})  # fmt: skip
    _advance(database_url, sandbox, datetime(2027, 3, 4, 12, 5, tzinfo=UTC))
    with _api(live_server, sandbox) as api:
        [member] = api.get(f"/segments/{segment_id}/members").json()["data"]
        [enrollment] = api.get(f"/journeys/{journey_id}/enrollments").json()["data"]
        [shopper] = api.get("/contacts", params={"external_id": "shopper"}).json()["data"]
        assert "browsed-A-no-order" in api.get(f"/contacts/{shopper['id']}").json()["tags"]
    assert member["id"] == enrollment["contact_id"] == shopper["id"]
    assert (enrollment["node"], enrollment["state"]) == ("wait_until", "active")
    code = enrollment["payload"]["offer"]["code"]
    # 20:00 in New York on 4 March (EST) is 01:00 UTC on the 5th
    assert enrollment["resume_at"].startswith("2027-03-05T01:00:00")
    assert twilio.requests == []

    _advance(database_url, sandbox, datetime(2027, 3, 5, 1, 1, tzinfo=UTC))
    [sent] = twilio.requests
    assert sent.form()["To"] == "+12125550199"
    assert sent.form()["Body"] == f"Hi Sam, 10% off shoes with code {code} tonight"

    # The order with the code, an hour later: the journey converts, the code is redeemed.
    _advance(database_url, sandbox, datetime(2027, 3, 5, 2, 0, tzinfo=UTC))
    _v1(live_server, sandbox, engine, "track", {"userId": "shopper", "event": "Order Completed",
                                        "properties": {"revenue": 42.0, "coupon": code}})  # fmt: skip
    _advance(database_url, sandbox, datetime(2027, 3, 5, 2, 1, tzinfo=UTC))
    with _api(live_server, sandbox) as api:
        [enrollment] = api.get(f"/journeys/{journey_id}/enrollments").json()["data"]
    assert enrollment["state"] == "converted"

    # The canvas's live figures and the campaign report show it, in English and Chinese.
    page = console.open(f"/journeys/{journey_id}?mode=live")
    expect(_node(page, "send")).to_contain_text(re.compile(r"Entered\s*1"))
    expect(_node(page, "wait")).to_contain_text(re.compile(r"Converted\s*1"))
    _scan(console)
    console.shot("story1-live.en")
    page = console.open(f"/reports/campaigns/{campaign_id}")
    page.get_by_role("heading", name="Campaign: Browse abandonment", level=1).wait_for()
    expect(page.get_by_text("Conversion rate 100%")).to_be_visible()
    by_channel = page.get_by_role("row").filter(has_text="SMS")
    expect(by_channel).to_contain_text("42")
    expect(by_channel).to_contain_text("0.05")
    # the days of the sandbox's clock (March 2027), not the real calendar's
    expect(page.get_by_text("No data in this range")).to_have_count(0)
    _scan(console)
    console.shot("story1-report.en")

    _switch_language(page, "中文")
    page.get_by_role("heading", name=re.compile("Browse abandonment"), level=1).wait_for()
    _scan(console)
    console.shot("story1-report.zh")
    page = console.open(f"/journeys/{journey_id}?mode=live")
    expect(_node(page, "wait")).to_contain_text("1")
    _scan(console)
    console.shot("story1-live.zh")


def _sms_channel(database_url: str, ws: CreatedWorkspace, twilio: TwilioFake) -> None:
    """The SMS channel, pointing at the Twilio-shaped server on 127.0.0.1 (an address the
    production server refuses: the in-process API here allows private targets)."""
    from fastapi.testclient import TestClient

    from kairos.api.app import create_app
    from kairos.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        database_url=database_url, secret_key="test-secret", allow_private_targets=True, _env_file=None
    )
    with TestClient(create_app(settings)) as client:
        channel = {
            "name": "sms",
            "provider": "twilio",
            "settings": {"account_sid": SID, "from_number": "+15005550006", "base_url": twilio.url},
            "secrets": {"auth_token": TOKEN},
        }
        r = client.post("/api/v1/channels", json=channel, headers={"Authorization": f"Bearer {ws.api_key}"})
        assert r.status_code == 201, r.text
