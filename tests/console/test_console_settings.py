"""The Settings pages in chromium, as an admin sets up a workspace: its time zone (which the
messaging policy and every date then use) and currency, a consent topic, quiet hours, an
attribute definition, an SMTP channel created from its provider's form and verified against a
local SMTP server — the audit log showing the workspace change; then every page in Chinese.
An axe-core scan of every page, screenshots in both languages."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer, running_server
from tests.console.conftest import Console, make_user
from tests.messaging.conftest import SmtpServer, smtp  # noqa: F401  (fixture: a local SMTP server)

PAGES = [
    ("settings-workspace", "/settings/workspace", "Workspace", "工作区"),
    ("settings-channels", "/settings/channels", "Channels", "渠道"),
    ("settings-topics", "/settings/topics", "Consent topics", "订阅主题"),
    ("settings-messaging", "/settings/messaging", "Messaging policy", "发送策略"),
    ("settings-attributes", "/settings/attributes", "Attributes", "属性"),
]


@pytest.fixture(scope="module")
def live_server(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """This module's own server, allowed to reach private addresses: the SMTP server the
    channel is verified against listens on 127.0.0.1 (production refuses that: SSRF)."""
    before = os.environ.get("KAIROS_ALLOW_PRIVATE_TARGETS")
    os.environ["KAIROS_ALLOW_PRIVATE_TARGETS"] = "true"
    try:
        with running_server(database_url, tmp_path_factory.mktemp("settings") / "serve.log") as server:
            yield server
    finally:
        if before is None:
            os.environ.pop("KAIROS_ALLOW_PRIVATE_TARGETS", None)
        else:
            os.environ["KAIROS_ALLOW_PRIVATE_TARGETS"] = before


def _axe(console: Console) -> list[dict[str, object]]:
    """The axe scan once no toast is fading in or out (half-transparent text is low contrast)."""
    expect(console.page.locator(".ant-message-fade-appear, .ant-message-fade-leave")).to_have_count(0)
    return console.axe()


def _heading(page: Page, name: str) -> None:
    page.get_by_role("heading", name=name, level=1).wait_for()


def _pick(page: Page, label: str, option: str, search: str | None = None) -> None:
    """Choose in an antd select (typing `search` first into one that searches), then wait
    for its list to close."""
    page.get_by_label(label, exact=True).click()
    if search is not None:
        page.get_by_label(label, exact=True).fill(search)
    open_list = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    open_list.get_by_title(option, exact=True).click()
    expect(open_list).to_have_count(0)


def test_an_admin_sets_up_the_workspace_in_the_settings_pages(
    console: Console,
    engine: Engine,
    console_workspace: CreatedWorkspace,
    live_server: LiveServer,
    smtp: SmtpServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    make_user(engine, console_workspace.id, "ada@example.com", "admin", "Ada Admin")
    api = httpx.Client(
        base_url=live_server.url + "/api/v1", headers={"Authorization": f"Bearer {console_workspace.api_key}"}
    )
    console.sign_in("ada@example.com")

    # the workspace: time zone and currency
    page = console.open("/settings/workspace")
    _heading(page, "Workspace")
    assert _axe(console) == []
    console.shot("settings-workspace.en")
    _pick(page, "Time zone", "Asia/Shanghai (UTC+08:00)", "Shanghai")
    _pick(page, "Currency", "EUR — Euro", "EUR")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Workspace settings saved").wait_for()
    saved = api.get("/workspace").json()
    assert (saved["time_zone"], saved["currency"]) == ("Asia/Shanghai", "EUR")
    page.reload()
    expect(page.locator(".ant-form-item").filter(has_text="Time zone")).to_contain_text(
        "Asia/Shanghai (UTC+08:00)"
    )
    # dates are now in the workspace's zone
    expect(page.locator("time").first).to_have_attribute("title", re.compile(r"\(Asia/Shanghai\)$"))

    # a consent topic
    page = console.open("/settings/topics")
    _heading(page, "Consent topics")
    page.get_by_role("button", name="New topic").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Key").fill("newsletter")
    dialog.get_by_label("Name").fill("Monthly newsletter")
    dialog.get_by_label(re.compile("^Opt-in")).check()
    dialog.get_by_role("button", name="Create topic").click()
    page.get_by_text("Topic “Monthly newsletter” saved").wait_for()
    expect(page.get_by_role("row").filter(has_text="newsletter")).to_contain_text("Opt-in")
    assert [t["key"] for t in api.get("/topics").json()["data"]] == ["newsletter"]
    assert _axe(console) == []
    console.shot("settings-topics.en")

    # quiet hours, in the workspace's zone (shown read-only, linked to the workspace page)
    page = console.open("/settings/messaging")
    _heading(page, "Messaging policy")
    expect(page.get_by_text(re.compile(r"one of their own: Asia/Shanghai \(UTC\+08:00\)"))).to_be_visible()
    page.get_by_role("switch").click()
    page.get_by_label("From", exact=True).fill("22:00")
    page.get_by_label("Until", exact=True).fill("08:00")
    page.get_by_role("button", name="Save policy").click()
    page.get_by_text("Messaging policy saved").wait_for()
    policy = api.get("/messaging/policy").json()
    assert policy["quiet_hours"]["start"] == "22:00:00" and policy["quiet_hours"]["end"] == "08:00:00"
    assert policy["timezone"] == "Asia/Shanghai"  # the workspace's, kept
    assert _axe(console) == []
    console.shot("settings-messaging.en")

    # an attribute definition
    page = console.open("/settings/attributes")
    _heading(page, "Attributes")
    page.get_by_role("button", name="New attribute").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("seats")
    _pick(page, "Type", "Number")
    dialog.get_by_label("Label").fill("Seats bought")
    dialog.get_by_role("button", name="Create attribute").click()
    page.get_by_text("Attribute “seats” saved").wait_for()
    expect(page.get_by_role("row").filter(has_text="seats")).to_contain_text("Number")
    assert _axe(console) == []
    console.shot("settings-attributes.en")

    # an SMTP channel from its provider's form, verified against the local SMTP server
    page = console.open("/settings/channels")
    _heading(page, "Channels")
    page.get_by_role("button", name="New channel").click()
    drawer = page.get_by_role("dialog")
    drawer.get_by_label("Name", exact=True).fill("Mail")
    drawer.get_by_label("Server", exact=True).fill(smtp.host)
    drawer.get_by_label("Port", exact=True).fill(str(smtp.port))
    _pick(page, "Security", "none")
    drawer.get_by_label("From address", exact=True).fill("news@shop.example")
    drawer.get_by_label("Password or API key", exact=True).fill("relay-password")
    assert _axe(console) == []
    drawer.get_by_role("button", name="Create channel").click()
    page.get_by_text("Channel “Mail” saved").wait_for()
    [channel] = api.get("/channels").json()["data"]
    assert channel["settings"]["host"] == smtp.host and channel["secrets_set"] == ["password"]
    assert "relay-password" not in page.content()
    page.get_by_role("button", name="Verify Mail").click()
    page.get_by_text("Verified: the provider answered").wait_for()
    assert _axe(console) == []
    console.shot("settings-channels.en")

    # the audit log shows who changed the workspace's time zone
    page = console.open("/settings/audit-log")
    _heading(page, "Audit log")
    row = page.get_by_role("row").filter(has_text="PATCH /workspace")
    expect(row).to_contain_text("Ada Admin")
    row.get_by_role("button", name=re.compile("expand row", re.I)).click()
    changes = page.get_by_role("list", name="Changed fields")
    expect(changes).to_contain_text(re.compile(r"time_zone: UTC\s*→\s*Asia/Shanghai"))

    # every page in Chinese
    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("menuitem", name="中文").click()
    page.get_by_role("menuitem", name="English").wait_for(state="hidden")
    for shot, path, _, heading in PAGES:
        console.open(path)
        _heading(page, heading)
        assert _axe(console) == [], shot
        console.shot(f"{shot}.zh")
    api.close()
