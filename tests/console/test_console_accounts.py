"""B2B accounts in chromium: Segment group calls create "Acme Corp" with three people, their
engagement is scored and rolled up by the worker; a marketer finds the account on Audiences
→ Accounts (search), reads its details, score roll-up and members, adds a contact with a
role, creates another account from the dialog — in English and in Chinese, axe on every
page; an analyst reads the same pages without edit controls."""

from __future__ import annotations

import base64
import re
from typing import Any

from playwright.sync_api import Page, expect

from kairos.clock import SystemClock
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.analytics.test_reports import track
from tests.conftest import Api
from tests.console.conftest import Console, make_user

LANGUAGE = re.compile(r"Language|语言")


def _heading(page: Page, name: str) -> None:
    page.get_by_role("heading", name=name, level=1).wait_for()


def _axe(console: Console) -> list[dict[str, object]]:
    expect(console.page.locator(".ant-message-fade-appear, .ant-message-fade-leave")).to_have_count(0)
    expect(console.page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")).to_have_count(0)
    expect(console.page.locator(".ant-modal-wrap")).to_have_count(0)
    return console.axe()


def _group(api: Api, ws: CreatedWorkspace, user: str, group_id: str, **traits: Any) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{ws.write_key}:".encode()).decode()}
    body = {"userId": user, "groupId": group_id, "traits": traits}
    r = api.http.post("/v1/group", json=body, headers=auth)
    assert r.status_code == 200, r.text


def _worker(engine: Any) -> None:
    for _ in range(3):
        Worker(engine, SystemClock()).run_once()


def test_a_marketer_reads_and_edits_accounts(
    console: Console, engine: Any, api: Api, workspace: CreatedWorkspace
) -> None:
    make_user(engine, workspace.id, "mia@example.com", "marketer", "Mia Marketer")
    make_user(engine, workspace.id, "al@example.com", "analyst", "Al Analyst")
    model = api.post("/score-models", {"key": "engagement", "name": "Engagement"}).json()
    r = api.post(f"/score-models/{model['id']}/rules",
                 {"name": "Demo", "points": 10, "rule": {"kind": "event", "event": "Demo Viewed"}})  # fmt: skip
    assert r.status_code == 201, r.text
    _worker(engine)
    for user in ("ada", "bob", "cy"):
        _group(api, workspace, user, "acme-1", name="Acme Corp", website="https://www.acme.com",
               industry="Education", employees=420)  # fmt: skip
    _group(api, workspace, "dee", "globex", name="Globex", website="globex.com")
    for user in ("ada", "ada", "bob"):
        track(api, workspace, user, "Demo Viewed")
    _worker(engine)
    api.put("/account-scores/engagement", {"engaged_threshold": 10})
    _worker(engine)
    extra = api.post("/contacts", {"email": "eve@acme.com", "first_name": "Eve"}).json()["id"]

    console.sign_in("mia@example.com")
    page = console.page
    page.get_by_role("menuitem", name=re.compile("Accounts")).click()
    _heading(page, "Accounts")
    acme_row = page.get_by_role("row").filter(has_text="Acme Corp")
    expect(acme_row).to_contain_text("acme.com")
    expect(acme_row).to_contain_text("30")  # the engagement sum: 20 + 10
    expect(page.get_by_role("columnheader", name="Engagement (sum)")).to_be_visible()
    page.get_by_role("searchbox", name="Search accounts").fill("glo")
    page.keyboard.press("Enter")
    expect(page.get_by_role("row").filter(has_text="Acme Corp")).to_have_count(0)
    expect(page.get_by_role("link", name="Globex")).to_be_visible()
    page.get_by_role("searchbox", name="Search accounts").fill("")
    page.keyboard.press("Enter")
    expect(acme_row).to_be_visible()
    assert _axe(console) == []
    console.shot("accounts.en")

    # the account: details, traits, the roll-up, the members
    page.get_by_role("link", name="Acme Corp").click()
    _heading(page, "Acme Corp")
    account_url = page.url
    expect(page.get_by_text("Education")).to_be_visible()
    scores = page.locator("section").filter(has=page.get_by_role("heading", name="Scores"))
    expect(scores.get_by_role("row").filter(has_text="Engagement")).to_contain_text(
        re.compile(r"30\s*20\s*2\s*≥ 10")
    )
    members = page.locator("section").filter(has=page.get_by_role("heading", name="Members"))
    expect(members.get_by_role("row")).to_have_count(4)  # the header and three people
    expect(members).to_contain_text("Segment group call")

    # add Eve as the buyer
    page.get_by_role("button", name=re.compile("Add contact")).click()
    dialog = page.get_by_role("dialog", name="Add a contact to the account")
    dialog.get_by_label("Contact id").fill(str(extra))
    dialog.get_by_label("Role").fill("Buyer")
    dialog.get_by_role("button", name=re.compile("Add contact")).click()
    eve = members.get_by_role("row").filter(has=page.get_by_role("link", name="Eve", exact=True))
    expect(eve).to_contain_text("Buyer")
    expect(eve).to_contain_text("API or console")
    assert _axe(console) == []
    console.shot("account.en")

    # a new account from the dialog
    console.open("/accounts")
    _heading(page, "Accounts")
    page.get_by_role("button", name=re.compile("New account")).click()
    dialog = page.get_by_role("dialog", name="New account")
    dialog.get_by_label("Name", exact=True).fill("Initech")
    dialog.get_by_label("Domain", exact=True).fill("initech")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_text("is not a domain name like acme.com")).to_be_visible()
    dialog.get_by_label("Domain", exact=True).fill("https://initech.io/about")
    dialog.get_by_role("button", name="Create").click()
    _heading(page, "Initech")
    expect(page.get_by_text("initech.io", exact=True)).to_be_visible()

    # in Chinese
    page.get_by_role("button", name=LANGUAGE).click()
    page.get_by_role("menuitem", name="中文").click()
    console.open("/accounts")
    _heading(page, "客户公司")
    expect(page.get_by_role("columnheader", name="Engagement\uff08合计\uff09")).to_be_visible()
    assert _axe(console) == []
    console.shot("accounts.zh")
    page.goto(account_url)
    _heading(page, "Acme Corp")
    expect(page.get_by_role("heading", name="成员")).to_be_visible()
    expect(page.get_by_text("Segment group 调用").first).to_be_visible()
    assert _axe(console) == []
    console.shot("account.zh")

    # an analyst reads, without edit controls
    page.get_by_role("button", name=LANGUAGE).click()
    page.get_by_role("menuitem", name="English").click()
    page.context.clear_cookies()
    console.sign_in("al@example.com")
    page.goto(account_url)
    _heading(page, "Acme Corp")
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Add contact"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Delete account"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Remove .* from the account"))).to_have_count(0)
    console.open("/accounts")
    _heading(page, "Accounts")
    expect(page.get_by_role("button", name=re.compile("New account"))).to_have_count(0)
    assert _axe(console) == []
