"""The Content area in chromium: a marketer makes an email from a starter, personalises the
subject and sees it rendered for a contact in the sandboxed preview (desktop and mobile),
saves it (the version goes up) and queues a test; then writes an SMS and watches the counter
switch to UCS-2 for Chinese. Every page is scanned with axe-core and photographed in English
and Chinese."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import LiveServer
from tests.console.conftest import Console, make_user


def _seed_contact(server: LiveServer, ws: CreatedWorkspace) -> None:
    with httpx.Client(
        base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {ws.api_key}"}
    ) as api:
        body = {"external_id": "mei", "email": "mei@example.com", "first_name": "Mei", "last_name": "Lin"}
        r = api.post("/contacts", json=body)
        assert r.status_code == 201, r.text


def _switch_language(page: Page, to: str) -> None:
    """Through the header's menu, in place: reloading a page whose preview frame appears while
    it loads can keep Playwright from ever seeing the page idle (a sandboxed srcdoc frame runs
    none of its scripts), and the scans and screenshots wait for that."""
    page.get_by_role("button", name=re.compile("Language|语言")).click()
    page.get_by_role("menuitem", name=to).click()
    page.get_by_role("menuitem", name=to).wait_for(state="hidden")  # the menu has closed


def _shot(console: Console, name: str) -> None:
    """A full-page screenshot with the window as tall as the page: code editors draw only the
    lines in the window, and a full-page capture does not give them time to draw the rest."""
    page = console.page
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1366, "height": max(860, int(height))})
    page.wait_for_timeout(300)
    console.shot(name)
    page.set_viewport_size({"width": 1366, "height": 860})


def _code_field(page: Page, test_id: str) -> None:
    """Waits for a CodeMirror field (a lazy chunk) to be ready."""
    page.get_by_test_id(test_id).wait_for()


def test_an_email_from_a_starter_previewed_saved_and_sent_as_a_test(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "mia@example.com", "marketer", "Mia Wong")
    _seed_contact(live_server, console_workspace)
    console.sign_in("mia@example.com")
    page = console.page
    page.get_by_role("navigation").get_by_text("Templates").click()
    page.get_by_role("heading", name="Templates", level=1).wait_for()
    page.get_by_text("No templates yet").wait_for()
    assert console.axe() == []

    page.get_by_role("button", name=re.compile("New template")).click()
    page.get_by_role("heading", name="New template", level=1).wait_for()
    assert console.axe() == []
    console.shot("template-gallery.en")
    page.get_by_role("link", name="Use the starter “Welcome email”").click()
    page.get_by_role("heading", name="New email template", level=1).wait_for()
    expect(page.get_by_label("Template name")).to_have_value("Welcome email")

    # The starter rendered for the workspace's contact, in a frame that runs no script.
    frame = page.locator("iframe[data-testid=email-frame]")
    expect(frame).to_have_attribute("title", "Email preview for Mei Lin")
    assert frame.get_attribute("sandbox") == ""
    preview = page.frame_locator("iframe[data-testid=email-frame]")
    preview.get_by_text("Welcome aboard, Mei!").wait_for()

    # Personalise the subject: the preview follows as the user types.
    _code_field(page, "field-subject")
    page.get_by_test_id("field-subject").fill("{{ contact.first_name }}, your account is ready")
    expect(page.get_by_test_id("preview-subject")).to_have_text("Mei, your account is ready")

    page.get_by_text("Mobile", exact=True).click()
    expect(frame).to_have_attribute("style", re.compile(r"width: 375px"))
    preview.get_by_text("Welcome aboard, Mei!").wait_for()
    page.get_by_text("Desktop", exact=True).click()
    expect(frame).to_have_attribute("style", re.compile(r"width: 640px"))

    page.get_by_role("button", name=re.compile("Create template")).click()
    page.wait_for_url(re.compile(r"/templates/\d+$"))
    page.get_by_role("heading", name="Welcome email", level=1).wait_for()
    expect(page.get_by_test_id("template-version")).to_have_text("Version 1")

    _code_field(page, "field-subject")
    page.get_by_test_id("field-subject").fill("{{ contact.first_name }}, welcome aboard")
    expect(page.get_by_test_id("preview-subject")).to_have_text("Mei, welcome aboard")
    page.get_by_role("button", name=re.compile("^save Save$")).click()
    expect(page.get_by_test_id("template-version")).to_have_text("Version 2")
    page.get_by_text("Saved as version 2").wait_for()

    page.get_by_role("button", name=re.compile("Send test")).click()
    expect(page.get_by_test_id("test-send-result")).to_contain_text(re.compile(r"Test message #\d+\s*Queued"))
    page.get_by_text("Saved as version 2").wait_for(state="detached")
    assert console.axe() == []
    _shot(console, "template-email.en")

    _switch_language(page, "中文")
    page.get_by_role("heading", name="Welcome email", level=1).wait_for()
    expect(page.get_by_test_id("template-version")).to_have_text("版本 2")
    expect(page.get_by_role("button", name=re.compile("发送测试"))).to_be_visible()
    assert console.axe() == []
    _shot(console, "template-email.zh")

    with httpx.Client(
        base_url=live_server.url + "/api/v1", headers={"Authorization": f"Bearer {console_workspace.api_key}"}
    ) as api:
        sms = {"text": "【品牌名称】{{ contact.first_name }}您好，今晚 8 点限时抢购开始！回T退订"}  # noqa: RUF001
        assert (
            api.post("/templates", json={"name": "限时抢购短信", "channel": "sms", "fields": sms}).status_code
            == 201
        )
    page.get_by_role("navigation").get_by_text("模板").click()
    page.get_by_role("heading", name="模板", level=1).wait_for()
    page.get_by_role("link", name="限时抢购短信").wait_for()
    page.get_by_role("link", name="Welcome email").wait_for()
    assert console.axe() == []
    console.shot("templates.zh")
    page.get_by_role("button", name=re.compile("新建模板")).click()
    page.get_by_role("heading", name="新建模板", level=1).wait_for()
    expect(page.get_by_role("link", name="使用模板“优惠券促销邮件”")).to_be_visible()  # starters in Chinese
    assert console.axe() == []
    console.shot("template-gallery.zh")
    page.get_by_role("navigation").get_by_text("模板").click()
    page.get_by_role("heading", name="模板", level=1).wait_for()
    _switch_language(page, "English")
    page.get_by_role("heading", name="Templates", level=1).wait_for()
    expect(page.get_by_role("row", name=re.compile("Welcome email"))).to_contain_text("Email")
    assert console.axe() == []
    console.shot("templates.en")


def test_an_sms_counts_its_characters_and_switches_to_ucs2_for_chinese(
    console: Console, engine: Engine, console_workspace: CreatedWorkspace, live_server: LiveServer
) -> None:
    make_user(engine, console_workspace.id, "li@example.com", "marketer", "Li Na")
    _seed_contact(live_server, console_workspace)
    console.sign_in("li@example.com")
    page = console.open("/templates/new")
    page.get_by_role("link", name=re.compile(r"^message SMS$")).click()
    page.get_by_role("heading", name="New SMS template", level=1).wait_for()
    _code_field(page, "field-text")
    page.get_by_label("Template name").fill("Flash sale SMS")
    field = page.get_by_test_id("field-text")
    # typing `{{ ` offers the names a template can use; Enter picks one
    field.click()
    field.press_sequentially("Hi {{ first")
    page.get_by_role("option", name=re.compile(r"^contact\.first_name")).wait_for()
    page.wait_for_timeout(200)  # CodeMirror ignores Enter for a moment after the list opens
    field.press("Enter")
    expect(field).to_have_text("Hi {{ contact.first_name }}")
    expect(page.get_by_test_id("sms-bubble")).to_have_text("Hi Mei")
    field.fill("Hi {{ contact.first_name }}, the flash sale starts at 8pm.")
    counter = page.get_by_test_id("sms-counter")
    expect(counter).to_contain_text("GSM-7")
    expect(counter).to_contain_text("1 part")
    expect(page.get_by_test_id("sms-bubble")).to_have_text("Hi Mei, the flash sale starts at 8pm.")

    field.press("End")
    field.press_sequentially(" 今晚八点开抢")
    expect(counter).to_contain_text("UCS-2")
    expect(counter).to_contain_text("are not in the GSM-7 alphabet")
    expect(page.get_by_test_id("sms-bubble")).to_have_text(
        "Hi Mei, the flash sale starts at 8pm. 今晚八点开抢"
    )
    expect(page.get_by_test_id("sms-counter-sent")).to_contain_text("UCS-2")

    page.get_by_role("button", name=re.compile("Create template")).click()
    page.wait_for_url(re.compile(r"/templates/\d+$"))
    page.get_by_role("heading", name="Flash sale SMS", level=1).wait_for()
    expect(page.get_by_test_id("sms-counter")).to_contain_text("UCS-2")
    assert console.axe() == []
    _shot(console, "template-sms.en")

    _switch_language(page, "中文")
    page.get_by_role("heading", name="Flash sale SMS", level=1).wait_for()
    expect(page.get_by_test_id("sms-counter")).to_contain_text("不在 GSM-7 字符集中")
    assert console.axe() == []
    _shot(console, "template-sms.zh")
