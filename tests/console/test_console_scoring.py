"""Lead scoring in chromium: a marketer creates the "Engagement" model (30-day half-life)
on Audiences → Scoring, adds "Pricing page viewed +10 (cap 30/day)" and "Unsubscribed -20"
through the rule dialog (the segment builder's event and property filter inputs), sees the
recompute finish, events are ingested through the track API and scored by the worker, then
the contact profile's Scores tab shows the score and the reasons, and the model's report
its distribution, movement and points by rule — in English and in Chinese, axe on every
page; an analyst reads the same pages without edit controls."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from kairos.clock import SystemClock
from kairos.contacts.tables import contact
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.analytics.test_reports import track
from tests.conftest import Api
from tests.console.conftest import Console, make_user

LANGUAGE = re.compile(r"Language|语言")
MINUS = "\u2212"  # negative points are shown with a true minus sign
COLON = "\uff1a"  # the Chinese colon


def _heading(page: Page, name: str) -> None:
    page.get_by_role("heading", name=name, level=1).wait_for()


def _axe(console: Console) -> list[dict[str, object]]:
    """The axe scan once no toast or drop-down is fading in or out."""
    expect(console.page.locator(".ant-message-fade-appear, .ant-message-fade-leave")).to_have_count(0)
    expect(console.page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")).to_have_count(0)
    return console.axe()


def _pick(page: Page, label: str, option: str) -> None:
    """Choose in an antd select, then wait for its list to close."""
    open_list = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    for _ in range(3):  # a click landing while the list still moves in is lost: made again
        if open_list.count() == 0:
            page.get_by_label(label, exact=True).click()
        open_list.get_by_title(option, exact=True).click()
        try:
            expect(open_list).to_have_count(0, timeout=3_000)
            break
        except AssertionError:
            continue
    expect(open_list).to_have_count(0)


def _add_rule(page: Page, name: str, points: str, event: str) -> None:
    page.get_by_role("button", name=re.compile("Add rule")).click()
    dialog = page.get_by_role("dialog", name="New rule")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Points", exact=True).fill(points)
    dialog.get_by_label("Event", exact=True).fill(event)
    _close_suggestions(page)


def _close_suggestions(page: Page) -> None:
    """Closes an auto-complete's suggestions with a click on the dialog's title (Escape would
    close the dialog)."""
    page.locator(".ant-modal-title").click()
    expect(page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")).to_have_count(0)


def test_a_marketer_scores_leads_and_reads_their_scores_and_the_report(
    console: Console, engine: Engine, api: Api, workspace: CreatedWorkspace
) -> None:
    make_user(engine, workspace.id, "mia@example.com", "marketer", "Mia Marketer")
    make_user(engine, workspace.id, "al@example.com", "analyst", "Al Analyst")
    console.sign_in("mia@example.com")
    page = console.page

    # Audiences → Scoring: no model yet; a new one with a 30-day half-life
    page.get_by_role("menuitem", name=re.compile("Scoring")).click()
    _heading(page, "Scoring")
    expect(page.get_by_text("No score models yet.")).to_be_visible()
    page.get_by_role("button", name=re.compile("New score model")).click()
    dialog = page.get_by_role("dialog", name="New score model")
    dialog.get_by_label("Key", exact=True).fill("Engagement")
    dialog.get_by_label("Name", exact=True).fill("Engagement")
    _pick(page, "Decay", "Half-life")
    dialog.get_by_label("Half-life (days)").fill("30")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_text("Start with a lowercase letter; then only a-z, 0-9 and _")).to_be_visible()
    dialog.get_by_label("Key", exact=True).fill("engagement")
    expect(dialog.get_by_role("checkbox", name="Default model")).to_be_checked()  # the first model
    dialog.get_by_role("button", name="Create").click()
    _heading(page, "Engagement")
    page.wait_for_url(re.compile(r"/scoring/\d+$"))
    model_url = page.url
    expect(page.get_by_text("Halves every 30 days")).to_be_visible()
    expect(page.get_by_text("No rules yet: add one to start scoring.")).to_be_visible()

    # "Pricing page viewed": +10 per Page Viewed whose path is /pricing, at most 30 a day
    _add_rule(page, "Pricing page viewed", "10", "Page Viewed")
    dialog = page.get_by_role("dialog", name="New rule")
    dialog.get_by_role("button", name=re.compile("Add property filter")).click()
    filters = dialog.get_by_role("group", name=re.compile("property filter 1"))
    filters.get_by_label(re.compile("property$")).fill("path")
    _close_suggestions(page)
    filters.get_by_label(re.compile("value$")).fill("/pricing")
    dialog.get_by_role("checkbox", name="Limit the points from this rule").check()
    dialog.get_by_label("At most (points)").fill("30")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    # "Unsubscribed": -20
    _add_rule(page, "Unsubscribed", "-20", "Unsubscribed")
    dialog = page.get_by_role("dialog", name="New rule")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()

    rules = page.get_by_role("table", name="Rules of Engagement")
    pricing = rules.get_by_role("row").filter(has_text="Pricing page viewed")
    expect(pricing).to_contain_text("+10")
    expect(pricing).to_contain_text("at most 30 per day")
    expect(pricing).to_contain_text("Page Viewed · 1 property filter(s)")
    unsubscribed = rules.get_by_role("row").filter(has_text="Unsubscribed")
    expect(unsubscribed.locator(".points-neg")).to_have_text(f"{MINUS}20")
    expect(page.get_by_role("status").filter(has_text="Queued")).to_be_visible()  # the recompute

    # the worker recomputes; the page reads the progress until it is done
    Worker(engine, SystemClock()).run_once()
    expect(page.get_by_role("status").filter(has_text="Up to date")).to_be_visible(timeout=10_000)
    page.reload()
    _heading(page, "Engagement")
    expect(rules.get_by_role("row")).to_have_count(3)  # the header and both rules: saved
    assert _axe(console) == []
    console.shot("scoring-model.en")

    # a rule's edit dialog, with its filter and cap as saved
    pricing.get_by_role("button", name="Edit Pricing page viewed").click()
    dialog = page.get_by_role("dialog", name="Edit rule “Pricing page viewed”")
    expect(dialog.get_by_label("At most (points)")).to_have_value("30")
    expect(
        dialog.get_by_role("group", name=re.compile("property filter 1")).get_by_label(re.compile("value$"))
    ).to_have_value("/pricing")
    assert _axe(console) == []
    console.shot("scoring-rule.en")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    # a lead views pricing four times (the cap stops the fourth) and unsubscribes
    for _ in range(4):
        track(api, workspace, "lead-1", "Page Viewed", path="/pricing")
    track(api, workspace, "lead-1", "Page Viewed", path="/blog")  # no rule
    track(api, workspace, "lead-1", "Unsubscribed")
    Worker(engine, SystemClock()).run_once()
    with engine.connect() as conn:
        lead = conn.execute(
            select(contact.c.id).where(
                contact.c.workspace_id == workspace.id, contact.c.external_id == "lead-1"
            )
        ).scalar_one()

    # the profile's Scores tab: the score and its reasons
    console.open(f"/contacts/{lead}?tab=scores")
    _heading(page, "lead-1")
    panel = page.get_by_role("tabpanel")
    expect(panel.get_by_role("link", name="Engagement")).to_have_attribute(
        "href", re.compile(r"/scoring/\d+$")
    )
    expect(panel.locator(".profile-score-value")).to_have_text("10")
    changes = panel.get_by_role("table", name="Latest changes in Engagement")
    expect(changes.get_by_role("row")).to_have_count(
        5
    )  # header, three pricing views (the cap stops the fourth), the unsubscribe
    expect(changes).to_contain_text(f"Unsubscribed: Unsubscribed {MINUS}20")
    expect(changes).to_contain_text("Pricing page viewed: Page Viewed +10")
    assert _axe(console) == []
    console.shot("contact-scores.en")

    # the report: one contact scored, its movement today, points by rule, the CSV
    page.goto(model_url + "?tab=report")
    _heading(page, "Engagement")
    figures = page.get_by_role("list", name="Score figures")
    expect(figures).to_contain_text(re.compile(r"Scored contacts\s*1"))
    expect(figures).to_contain_text(re.compile(r"Average score\s*10"))
    expect(page.get_by_role("figure", name="Score distribution")).to_be_visible()
    movement = page.get_by_role("figure", name="Movement per day")
    movement.get_by_role("button", name="Show as table").click()
    expect(movement.get_by_role("table").locator("tfoot tr")).to_have_text(
        re.compile(r"Total\s*30\s*[-\u2212]20\s*1")
    )
    by_rule = page.get_by_role("table", name="Points by rule")
    expect(by_rule.get_by_role("row").filter(has_text="Pricing page viewed")).to_contain_text("+30")
    expect(by_rule.get_by_role("row").filter(has_text="Unsubscribed")).to_contain_text(f"{MINUS}20")
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download CSV")).click()
    csv = download.value.path().read_text()
    assert csv.splitlines()[0] == "day,gained,lost,contacts"
    assert re.search(r"\n\d{4}-\d{2}-\d{2},30(\.0)?,-20(\.0)?,1", csv), csv
    movement.get_by_role("button", name="Show as chart").click()
    expect(movement.locator("[role=img] svg").first).to_be_visible()
    assert _axe(console) == []
    console.shot("scoring-report.en")

    page.goto(re.sub(r"/scoring/.*", "/scoring", model_url))
    _heading(page, "Scoring")
    row = page.get_by_role("row").filter(has_text="engagement")
    expect(row).to_contain_text("Default")
    expect(row).to_contain_text("Halves every 30 days")
    expect(row).to_contain_text("Up to date")
    # a second model, deleted after confirming
    assert api.post("/score-models", {"key": "fit", "name": "Fit"}).status_code == 201
    page.reload()
    fit = page.get_by_role("row").filter(has_text="fit")
    expect(fit).not_to_contain_text("Default")
    fit.get_by_role("button", name="Delete Fit").click()
    confirm = page.get_by_role("dialog").filter(has_text="Delete the score model “Fit”?")
    confirm.get_by_role("button", name=re.compile(r"^Delete$")).click()
    expect(page.get_by_text("Score model “Fit” deleted")).to_be_visible()
    expect(page.locator(".ant-modal-mask:visible")).to_have_count(0)  # the dialog has faded out
    expect(page.get_by_role("row").filter(has_text="fit")).to_have_count(0)
    assert api.get("/score-models").json()["data"][0]["key"] == "engagement"
    assert _axe(console) == []
    console.shot("scoring.en")

    # in Chinese
    page.get_by_role("button", name=LANGUAGE).click()
    page.get_by_role("menuitem", name="中文").click()
    page.get_by_role("menuitem", name="English").wait_for(state="hidden")  # the menu has faded out
    _heading(page, "线索评分")
    expect(page.get_by_role("row").filter(has_text="engagement")).to_contain_text("每 30 天减半")
    assert _axe(console) == []
    console.shot("scoring.zh")
    page.goto(model_url)
    _heading(page, "Engagement")
    expect(page.get_by_role("table", name="Engagement的规则")).to_contain_text("每天最多 30 分")
    assert _axe(console) == []
    console.shot("scoring-model.zh")
    page.goto(model_url + "?tab=report")
    expect(page.get_by_role("figure", name="分数分布")).to_be_visible()
    expect(page.get_by_role("list", name="评分概况")).to_contain_text(re.compile(r"已评分联系人\s*1"))
    assert _axe(console) == []
    console.shot("scoring-report.zh")
    console.open(f"/contacts/{lead}?tab=scores")
    changes = page.get_by_role("table", name="Engagement的最近变动")
    expect(changes).to_contain_text(f"Unsubscribed{COLON}Unsubscribed {MINUS}20")
    expect(changes).to_contain_text(f"Pricing page viewed{COLON}Page Viewed +10")
    assert _axe(console) == []
    console.shot("contact-scores.zh")

    # an analyst reads scoring without edit controls
    page.get_by_role("button", name=LANGUAGE).click()
    page.get_by_role("menuitem", name="English").click()
    page.context.clear_cookies()
    console.sign_in("al@example.com")
    page.goto(model_url)
    _heading(page, "Engagement")
    expect(page.get_by_role("table", name="Rules of Engagement")).to_contain_text("Unsubscribed")
    expect(page.get_by_role("button", name=re.compile("Add rule"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Recompute now"))).to_have_count(0)
    expect(page.get_by_role("button", name="Edit Unsubscribed")).to_have_count(0)
    console.open("/scoring")
    _heading(page, "Scoring")
    expect(page.get_by_role("button", name=re.compile("New score model"))).to_have_count(0)
    assert _axe(console) == []
