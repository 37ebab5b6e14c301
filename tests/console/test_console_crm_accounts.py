"""B2B accounts in the CRM sync and the `predicted_crossed` journey trigger, in chromium.

An admin connects HubSpot (the local fake) with accounts pushed: the unique company property
(changed from the default, with the help text saying to create it in HubSpot first) and an
account mapping with an extra `traits.industry` row — a bad property name is refused with
422 `invalid_account_mapping` shown on its row — all kept after a reload. The worker pushes
the account as a company and its contact associated with it; the account page's CRM sync
panel shows the company's id, "Synced" and the push log. A journey entered when a
predictive model's probability rises to 35% is built on the canvas (the threshold typed as a
percentage, saved as 0.35) and saved. axe-core scans and screenshots in English and Chinese."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kairos.clock import SystemClock
from kairos.config import Settings
from kairos.worker.loop import Worker, build_dispatcher
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer, running_server
from tests.console.conftest import Console, make_user
from tests.crm.fakes import HubSpotFake

ADMIN = "ada@example.com"


@pytest.fixture(scope="module")
def live_server(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """This module's own server, allowed to reach private addresses: the HubSpot fake listens
    on 127.0.0.1 (production refuses that: SSRF)."""
    before = os.environ.get("KAIROS_ALLOW_PRIVATE_TARGETS")
    os.environ["KAIROS_ALLOW_PRIVATE_TARGETS"] = "true"
    try:
        with running_server(database_url, tmp_path_factory.mktemp("crm-accounts") / "serve.log") as server:
            yield server
    finally:
        if before is None:
            os.environ.pop("KAIROS_ALLOW_PRIVATE_TARGETS", None)
        else:
            os.environ["KAIROS_ALLOW_PRIVATE_TARGETS"] = before


@pytest.fixture
def hubspot() -> Iterator[HubSpotFake]:
    fake = HubSpotFake("pat-na1-secret")
    yield fake
    fake.stop()


def _api(server: LiveServer, ws: CreatedWorkspace) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"})


def _ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def _scan(console: Console) -> None:
    console.page.mouse.move(1, 1)
    expect(console.page.locator(".ant-message-notice")).to_have_count(0, timeout=10_000)
    expect(console.page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")).to_have_count(0)
    assert console.axe() == []


def _pick(page: Page, label: str, option: str, scope: Any = None) -> None:
    """Choose in an antd select by its label, then wait for its list to close (a click that
    lands while the list is still moving in is made again, at most three times)."""
    field = (scope or page).get_by_label(label, exact=True)
    open_list = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    for _ in range(3):
        if open_list.count() == 0:
            field.click()
        open_list.get_by_title(option, exact=True).click()
        try:
            expect(open_list).to_have_count(0, timeout=3_000)
            return
        except AssertionError:
            continue
    expect(open_list).to_have_count(0)


def _language(page: Page, lang: str) -> None:
    page.evaluate(f"localStorage.setItem('kairos.language', '{lang}')")
    page.reload()


def test_accounts_in_the_crm_sync_and_the_predicted_trigger(
    console: Console,
    engine: Engine,
    database_url: str,
    console_workspace: CreatedWorkspace,
    live_server: LiveServer,
    hubspot: HubSpotFake,
) -> None:
    make_user(engine, console_workspace.id, ADMIN, "admin", "Ada Admin")
    # the portal has the unique company property the admin is told to create
    hubspot.unique_company_properties.add("kairos_company_id")
    with _api(live_server, console_workspace) as api:
        lead = _ok(api.post("/contacts", json={"external_id": "lead-1", "email": "li.wei@school.example",
                                               "first_name": "Wei", "last_name": "Li"}))  # fmt: skip
        account = _ok(api.post("/accounts", json={"name": "Bright School", "domain": "school.example",
                                                  "traits": {"industry": "Education"}}))  # fmt: skip
        _ok(api.post(f"/accounts/{account['id']}/contacts", json={"contacts": [{"contact_id": lead["id"]}]}))
    console.sign_in(ADMIN)

    # --- Settings → CRM: HubSpot with accounts -------------------------------------------
    page = console.open("/settings/crm")
    page.get_by_role("heading", name="CRM", level=1).wait_for()
    page.get_by_role("button", name="Connect a CRM").click()
    drawer = page.get_by_role("dialog")
    drawer.get_by_label("Name", exact=True).fill("HubSpot")
    _pick(page, "CRM", "HubSpot", drawer)
    drawer.get_by_label("API root", exact=True).fill(hubspot.url)
    drawer.get_by_label("Private app access token", exact=True).fill(hubspot.token)
    accounts = drawer.get_by_role("region", name="Accounts (B2B)")
    expect(accounts.get_by_role("switch", name="Push accounts")).to_be_checked()
    prop = accounts.get_by_label("Company id property", exact=True)
    expect(prop).to_have_value("kairos_account_id")
    expect(accounts).to_contain_text("Create this company property in HubSpot first")
    prop.fill("kairos_company_id")
    expect(accounts.get_by_label("Account mapping 1: account field", exact=True)).to_have_value("name")
    expect(accounts.get_by_label("Account mapping 2: CRM property", exact=True)).to_have_value("domain")
    accounts.get_by_role("button", name="Add account field").click()
    accounts.get_by_label("Account mapping 3: account field", exact=True).fill("traits.industry")
    target = accounts.get_by_label("Account mapping 3: CRM property", exact=True)
    target.fill("industry sector")
    drawer.get_by_role("button", name="Connect", exact=True).click()
    # refused by the server, shown on the row it names
    expect(accounts.get_by_role("alert")).to_contain_text(
        "account_mapping[2].target: 'industry sector' is not a CRM property name"
    )
    expect(target).to_have_class(re.compile(r"ant-input-status-error"))
    target.fill("industry")
    # the submit button's name may still carry "loading" while its spinner fades out
    drawer.get_by_role("button", name=re.compile(r"(^|\s)Connect$")).click()
    page.get_by_text("Connection “HubSpot” saved").wait_for()
    with _api(live_server, console_workspace) as api:
        [saved] = _ok(api.get("/crm-connections"))["data"]
    assert saved["push_accounts"] is True
    assert saved["settings"]["company_id_property"] == "kairos_company_id"
    assert saved["account_mapping"] == [
        {"source": "name", "target": "name"},
        {"source": "domain", "target": "domain"},
        {"source": "traits.industry", "target": "industry"},
    ]

    # kept after a reload
    page.reload()
    row = page.get_by_role("row").filter(has=page.get_by_role("button", name="Edit HubSpot"))
    row.get_by_role("button", name="Edit HubSpot").click()
    drawer = page.get_by_role("dialog")
    accounts = drawer.get_by_role("region", name="Accounts (B2B)")
    expect(accounts.get_by_role("switch", name="Push accounts")).to_be_checked()
    expect(accounts.get_by_label("Company id property", exact=True)).to_have_value("kairos_company_id")
    expect(accounts.get_by_label("Account mapping 3: account field", exact=True)).to_have_value(
        "traits.industry"
    )
    expect(accounts.get_by_label("Account mapping 3: CRM property", exact=True)).to_have_value("industry")
    accounts.scroll_into_view_if_needed()
    _scan(console)
    console.shot("settings-crm-accounts.en")
    drawer.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # --- the worker pushes the company, then the contact associated with it -------------------
    page = console.open(f"/accounts/{account['id']}")
    page.get_by_role("heading", name="Bright School", level=1).wait_for()
    panel = page.get_by_role("region", name="CRM sync")
    expect(panel.get_by_role("row").filter(has_text="HubSpot").first).to_contain_text("Queued")
    settings = Settings(database_url=database_url, secret_key="test-secret", allow_private_targets=True,  # type: ignore[call-arg]
                        _env_file=None)  # fmt: skip
    clock = SystemClock()
    worker = Worker(engine, clock, dispatcher=build_dispatcher(settings, engine, clock))
    try:
        worker.run_once()
    finally:
        if worker.dispatcher is not None:
            worker.dispatcher.close()
    [company] = hubspot.companies.values()
    assert company["properties"]["industry"] == "Education"
    assert company["properties"]["name"] == "Bright School"
    assert len(hubspot.associations) == 1
    page.reload()
    panel = page.get_by_role("region", name="CRM sync")
    hub = panel.get_by_role("row").filter(has_text="HubSpot").first
    expect(hub).to_contain_text("Synced")
    expect(hub).to_contain_text(company["id"])
    log = panel.get_by_role("row").filter(has_text=company["id"])
    expect(log).to_have_count(2)  # the connection's row and the log's
    panel.scroll_into_view_if_needed()
    _scan(console)
    console.shot("account-crm.en")

    # --- a journey entered on a predicted probability ----------------------------------------
    with _api(live_server, console_workspace) as api:
        _ok(api.post("/predictive-models", json={"key": "buyers", "name": "Buyers",
                                                 "goal": {"event": "Order Completed", "within_days": 30}}))  # fmt: skip
    page = console.open("/journeys/new")
    trigger = page.get_by_test_id("journey-node-__trigger__")
    trigger.wait_for()
    page.get_by_label("Name", exact=True).fill("Likely buyers")
    trigger.click()
    inspector = page.locator(".journey-inspector")
    _pick(page, "Enters when", "Predicted probability crosses a threshold", inspector)
    _pick(page, "Predictive model", "Buyers (buyers)", inspector)
    threshold = inspector.get_by_label("Threshold", exact=True)
    expect(threshold).to_have_value("50")
    threshold.fill("35")
    threshold.press("Tab")
    expect(trigger.get_by_text("buyers probability rises to 35% or more")).to_be_visible()
    page.locator(".palette-item[data-kind=exit]").click()
    page.get_by_test_id("journey-node-exit").wait_for()
    page.get_by_role("button", name=re.compile("Save draft")).click()
    page.get_by_text("Draft saved.").wait_for()
    page.wait_for_url(re.compile(r"/journeys/\d+$"))
    journey_id = int(page.url.rsplit("/", 1)[1])
    with _api(live_server, console_workspace) as api:
        journey = _ok(api.get(f"/journeys/{journey_id}"))
    assert journey["draft"]["trigger"] == {
        "type": "predicted_crossed", "model": "buyers", "threshold": 0.35, "direction": "up",
    }  # fmt: skip
    page.reload()
    trigger = page.get_by_test_id("journey-node-__trigger__")
    expect(trigger.get_by_text("buyers probability rises to 35% or more")).to_be_visible()
    trigger.click()
    expect(page.locator(".journey-inspector").get_by_label("Threshold", exact=True)).to_have_value("35")
    _scan(console)
    console.shot("journey-predicted.en")

    # --- in Chinese ---------------------------------------------------------------------------
    _language(page, "zh-CN")
    trigger = page.get_by_test_id("journey-node-__trigger__")
    expect(trigger.get_by_text("buyers 概率升至 35% 及以上")).to_be_visible()
    trigger.click()
    expect(page.locator(".journey-inspector")).to_contain_text("预测模型")
    _scan(console)
    console.shot("journey-predicted.zh")
    page = console.open(f"/accounts/{account['id']}")
    panel = page.get_by_role("region", name="CRM 同步")
    expect(panel.get_by_role("row").filter(has_text="HubSpot").first).to_contain_text("已同步")
    panel.scroll_into_view_if_needed()
    _scan(console)
    console.shot("account-crm.zh")
    page = console.open("/settings/crm")
    page.get_by_role("button", name="编辑 HubSpot").click()
    drawer = page.get_by_role("dialog")
    accounts = drawer.get_by_role("region", name="客户公司（B2B）")  # noqa: RUF001
    expect(accounts).to_contain_text("请先在 HubSpot 中创建此公司属性")
    expect(accounts.get_by_role("switch", name="推送客户公司")).to_be_checked()
    accounts.scroll_into_view_if_needed()
    _scan(console)
    console.shot("settings-crm-accounts.zh")
    _language(page, "en")
