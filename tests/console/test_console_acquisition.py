"""The contact profile's acquisition source in chromium: a lead who came from a Baidu ad and
came back from Zhihu shows both touches — in English and Chinese, with an axe-core scan."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import expect
from sqlalchemy import Engine

from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer, settle
from tests.console.conftest import PASSWORD, Console, make_user

LANDING = "https://school.example/mba?utm_source=baidu&utm_medium=cpc&utm_campaign=mba-2027&utm_term=mba"


def _lead(server: LiveServer, ws: CreatedWorkspace, engine: Engine) -> int:
    """Mei: a visit from a Baidu ad two days ago, identified by email, back from Zhihu today;
    and Jun, imported without any visit."""
    now = datetime.now(UTC)
    batch: list[dict[str, Any]] = [
        {"type": "page", "anonymousId": "mei-anon", "timestamp": (now - timedelta(days=2)).isoformat(),
         "properties": {"url": LANDING, "referrer": "https://www.baidu.com/s?wd=mba"}},
        {"type": "identify", "anonymousId": "mei-anon", "traits": {"email": "mei@school.example", "first_name": "Mei",
                                                                   "last_name": "Wang"}},
        {"type": "page", "anonymousId": "mei-anon", "timestamp": now.isoformat(),
         "properties": {"url": "https://school.example/blog/gmat", "referrer": "https://www.zhihu.com/question/42"}},
    ]  # fmt: skip
    with httpx.Client(base_url=server.url) as client:
        r = client.post("/v1/batch", json={"batch": batch}, auth=(ws.write_key, ""))
        assert r.status_code == 200, r.text
    settle(engine)  # the server's processor makes the events within milliseconds; do not race it
    with httpx.Client(
        base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"}
    ) as api:
        r = api.post(
            "/contacts", json={"email": "jun@school.example", "first_name": "Jun", "last_name": "Li"}
        )
        assert r.status_code == 201, r.text
        found = api.get("/contacts", params={"email": "mei@school.example"}).json()["data"]
    return int(found[0]["id"])


def test_the_profile_shows_where_a_lead_came_from_in_english_and_chinese(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    mei = _lead(live_server, console_workspace, engine)
    make_user(engine, console_workspace.id, "ana@example.com", "analyst", "Ana")
    console.sign_in("ana@example.com")
    page = console.open(f"/contacts/{mei}")
    page.get_by_role("heading", name="Mei Wang", level=1).wait_for()
    section = page.get_by_role("region", name="Acquisition source")
    first = section.get_by_role("region", name="First touch")
    expect(first).to_contain_text("Paid search")
    expect(first).to_contain_text("baidu / cpc")
    expect(first).to_contain_text("mba-2027")
    expect(first).to_contain_text(LANDING)
    last = section.get_by_role("region", name="Last touch")
    expect(last).to_contain_text("Organic social")
    expect(last).to_contain_text("zhihu / social")
    expect(last).to_contain_text("https://www.zhihu.com/question/42")
    section.scroll_into_view_if_needed()
    assert console.axe() == []
    console.shot("contact-acquisition.en")

    # in Chinese
    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("menuitem", name="中文").click()
    expect(page.get_by_role("menuitem", name="中文")).to_be_hidden()  # closed before the scan
    section = page.get_by_role("region", name="获客来源")
    expect(section.get_by_role("region", name="首次触点")).to_contain_text("付费搜索")
    expect(section.get_by_role("region", name="最近触点")).to_contain_text("自然社交")
    assert console.axe() == []
    console.shot("contact-acquisition.zh")


def test_a_contact_without_a_visit_says_so(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    _lead(live_server, console_workspace, engine)
    make_user(engine, console_workspace.id, "li@example.com", "marketer", "李雷")
    page = console.open("/login")
    page.get_by_role("button", name=re.compile("Language")).click()
    page.get_by_role("menuitem", name="中文").click()
    page.get_by_label("邮箱").fill("li@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name=re.compile(r"^登\s*录$")).click()
    page.wait_for_url("**/dashboard**")
    with httpx.Client(
        base_url=live_server.url + "/api/v1", headers={"Authorization": f"Bearer {console_workspace.api_key}"}
    ) as api:
        jun = api.get("/contacts", params={"email": "jun@school.example"}).json()["data"][0]["id"]
    page = console.open(f"/contacts/{jun}")
    page.get_by_role("heading", name="Jun Li", level=1).wait_for()
    expect(page.get_by_role("region", name="获客来源")).to_contain_text("暂无访问记录")
    assert console.axe() == []
    console.shot("contact-acquisition-none.zh")
