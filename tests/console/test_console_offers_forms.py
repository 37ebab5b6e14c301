"""Offers, forms and landing pages in chromium: a marketer creates an offer with a coupon
pool, generates 50 codes and imports 3 from a file, sees the availability, and sees a code
assigned through the API; builds a form with an email field, a drop-down and a consent
checkbox, copies its embed snippet, submits the real public form and finds the submission
and the contact's consent; then writes a landing page with the form, previews and publishes
it and opens its public address. Every page is scanned with axe-core and photographed in
English and Chinese."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer
from tests.console.conftest import Console, make_user


def _api(server: LiveServer, ws: CreatedWorkspace) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"})


def _switch_language(page: Page, to: str) -> None:
    page.get_by_role("button", name=re.compile("Language|语言")).click()
    page.get_by_role("menuitem", name=to).click()
    page.get_by_role("menuitem", name=to).wait_for(state="hidden")


def _both(console: Console, name: str, heading_zh: str) -> None:
    """Scans and photographs the page in English, then in Chinese, and back."""
    page = console.page
    assert console.axe() == []
    console.shot(f"{name}.en")
    _switch_language(page, "中文")
    page.get_by_role("heading", level=1, name=heading_zh).wait_for()
    assert console.axe() == []
    console.shot(f"{name}.zh")
    _switch_language(page, "English")


def _pick(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.locator(".ant-select-dropdown:visible").get_by_title(option, exact=True).click()
    page.locator(".ant-select-dropdown:visible").wait_for(state="hidden")


def test_offer_with_a_coupon_pool(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer, tmp_path
) -> None:
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    with _api(live_server, console_workspace) as api:
        contact = api.post("/contacts", json={"external_id": "mei", "email": "mei@example.com"}).json()
    console.sign_in("mia@example.com")
    page = console.page
    page.get_by_role("navigation").get_by_text("Offers").click()
    page.get_by_role("heading", name="Offers", level=1).wait_for()
    page.get_by_text("No offers yet.").wait_for()

    page.get_by_role("button", name=re.compile("New offer")).click()
    page.get_by_role("heading", name="New offer", level=1).wait_for()
    page.get_by_label("Name", exact=True).fill("Spring 15% off")
    page.get_by_label("Key", exact=True).fill("spring-15")
    page.get_by_label("Percentage off").fill("15")
    page.get_by_label("Unique codes from a pool").check()
    page.get_by_role("button", name="Create offer").click()

    # the new offer opens on its pool
    page.get_by_role("heading", name="Spring 15% off", level=1).wait_for()
    page.get_by_role("tab", name="Coupon pool", selected=True).wait_for()
    page.get_by_text("The pool is empty.").wait_for()
    page.get_by_label("How many").fill("50")
    page.get_by_label("Prefix").fill("spr-")
    page.get_by_role("button", name="Generate 50 codes").click()
    page.get_by_text("50 codes added.").wait_for()

    csv = tmp_path / "codes.csv"
    csv.write_text("code\nshop-001\nshop-002\nshop-003\n")
    page.locator("#pool-file").set_input_files(str(csv))
    page.get_by_text("3 codes ready to import.").wait_for()
    page.get_by_role("button", name="Import 3 codes").click()
    page.get_by_text("3 codes added.").wait_for()
    tiles = page.locator(".pool-tile")
    expect(tiles.filter(has_text="Total")).to_contain_text("53")
    expect(tiles.filter(has_text="Available")).to_contain_text("53")
    expect(page.locator("table")).to_contain_text("SPR-")

    offer_id = int(page.url.split("/offers/")[1].split("?")[0])
    with _api(live_server, console_workspace) as api:
        r = api.post(f"/offers/{offer_id}/assign", json={"contact_id": contact["id"]})
        assert r.status_code == 201, r.text
        code = r.json()["code"]
    page.reload()
    page.get_by_role("tab", name="Coupon pool", selected=True).wait_for()
    expect(tiles.filter(has_text="Assigned")).to_contain_text("1")
    expect(tiles.filter(has_text="Available")).to_contain_text("52")
    page.get_by_label("Code status").get_by_text("Assigned").click()
    row = page.locator("tr", has_text=code)
    expect(row).to_contain_text(f"Contact #{contact['id']}")
    _both(console, "offer", "Spring 15% off")

    page.get_by_role("link", name="← Offers").click()
    page.get_by_role("heading", name="Offers", level=1).wait_for()
    expect(page.locator("tr", has_text="Spring 15% off")).to_contain_text(
        "52 available · 1 assigned · 0 redeemed"
    )
    _both(console, "offers", "优惠")


def test_form_submitted_and_landing_page_published(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    with _api(live_server, console_workspace) as api:
        topic = api.post("/topics", json={"key": "news", "name": "Newsletter", "opt_in": True}).json()
    console.sign_in("mia@example.com")
    page = console.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("navigation").get_by_text("Forms").click()
    page.get_by_role("heading", name="Forms", level=1).wait_for()
    page.get_by_text("No forms yet.").wait_for()
    _both(console, "forms", "表单")

    page.get_by_role("button", name=re.compile("New form")).click()
    page.get_by_role("heading", name="New form", level=1).wait_for()
    page.get_by_label("Name", exact=True).fill("Spring webinar")
    page.get_by_label("Key", exact=True).fill("webinar")
    page.locator("[data-field] input[id$='-label']").first.fill("Work email")
    page.get_by_role("button", name=re.compile("Add field")).click()
    page.get_by_role("menuitem", name="Drop-down").click()
    page.locator("[data-field] input[id$='-label']").nth(1).fill("Team size")
    page.locator("[data-field] input[id$='-name']").nth(1).fill("team_size")
    page.locator("[data-field] textarea[id$='-options']").fill("1-10\n11-50\n50+")
    page.get_by_role("button", name=re.compile("Add consent checkbox")).click()
    _pick(page, "Topic", "Newsletter")
    # the preview is the hosted form as it will look, in a frame that runs nothing
    preview = page.frame_locator("iframe[data-testid=form-frame]")
    preview.get_by_text("Yes, send me Newsletter").wait_for()
    preview.get_by_text("Team size").wait_for()
    assert page.locator("iframe[data-testid=form-frame]").get_attribute("sandbox") == ""
    page.get_by_role("button", name="Move “Team size” up").click()
    page.get_by_text("“Team size” moved to position 1 of 2.").wait_for()
    page.get_by_role("button", name="Create form").click()
    page.get_by_role("heading", name="Spring webinar", level=1).wait_for()
    _both(console, "form-builder", "Spring webinar")

    page.get_by_role("tab", name="Share and embed").click()
    page.get_by_label("utm_source").fill("newsletter")
    embed = page.get_by_role("textbox", name="Embed on your site (iframe)")
    expect(embed).to_have_value(re.compile(r'<iframe src="http://.+/f/\d+/webinar\?utm_source=newsletter"'))
    page.get_by_role("button", name="Copy: Embed on your site (iframe)").click()
    page.get_by_text("Copied to the clipboard.").wait_for()
    assert "<iframe" in page.evaluate("navigator.clipboard.readText()")
    form_url = page.get_by_role("textbox", name="Form address").input_value()

    # the real public form, as a visitor
    visitor = page.context.new_page()
    visitor.goto(form_url)
    visitor.get_by_label("Work email").fill("lead@example.com")
    visitor.get_by_label("Team size").select_option("11-50")
    visitor.get_by_label("Yes, send me Newsletter").check()
    visitor.wait_for_timeout(2100)  # the spam guard refuses submissions under 2 s
    visitor.get_by_role("button", name="Submit").click()
    visitor.get_by_text("Thank you").first.wait_for()
    visitor.close()

    page.get_by_role("tab", name="Submissions").click()
    row = page.locator("tr", has_text="lead@example.com")
    expect(row).to_contain_text("11-50")
    expect(row).to_contain_text("Newsletter")
    row.get_by_role("link", name=re.compile("Contact #")).click()
    page.get_by_role("heading", level=1).wait_for()
    page.get_by_role("tab", name=re.compile("Subscriptions")).click()
    expect(page.get_by_role("main")).to_contain_text("Newsletter")

    # a landing page with the form
    page.get_by_role("navigation").get_by_text("Landing pages").click()
    page.get_by_role("heading", name="Landing pages", level=1).wait_for()
    page.get_by_role("button", name=re.compile("New landing page")).click()
    page.get_by_role("heading", name="New landing page", level=1).wait_for()
    page.get_by_label("Title", exact=True).fill("Spring webinar 2026")
    page.get_by_label("Slug", exact=True).fill("spring-webinar")
    _pick(page, "Form to embed", "Spring webinar")
    page.get_by_test_id("lp-body").wait_for()
    lp = page.frame_locator("iframe[data-testid=lp-frame]")
    lp.get_by_text("Spring webinar 2026").first.wait_for()
    lp.get_by_text("Yes, send me Newsletter").wait_for()
    page.get_by_label("Published").click()
    page.get_by_role("button", name="Create page").click()
    page.get_by_role("heading", name="Spring webinar 2026", level=1).wait_for()
    page.get_by_text("Page saved and published.").wait_for()
    _both(console, "landing-page", "Spring webinar 2026")
    public = page.get_by_label("Public address").input_value()
    assert public.endswith("/spring-webinar")
    visitor = page.context.new_page()
    visitor.goto(public)
    visitor.get_by_text("Spring webinar 2026").first.wait_for()
    expect(visitor.get_by_label("Work email")).to_be_visible()
    visitor.close()
    assert topic["id"]
