"""The console in a real browser: Debian's chromium driven by Playwright, against a real
``kairos serve`` on the test database. ``make test`` installs chromium
(``scripts/chromium.sh``) and builds the console first; a missing one fails, never skips.

Screenshots go to a temporary folder, or to ``$KAIROS_SCREENSHOTS`` (``make screenshots``
writes ``docs/screenshots/``)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from sqlalchemy import Engine

from kairos.accounts import service as accounts
from kairos.api.console import DIST
from kairos.clock import SystemClock
from kairos.workspaces.service import CreatedWorkspace, create_workspace
from tests.conftest import LiveServer

PASSWORD = "a console password"
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
#: what the axe-core scans must not find
BLOCKING = ("serious", "critical")
#: how many finite animations are running on the page (``Console.settle``)
RUNNING_ANIMATIONS = """() => document.getAnimations().filter(
  (a) => a.playState === "running" && a.effect && a.effect.getTiming().iterations !== Infinity
).length"""
#: Assertions wait up to 10 s (Playwright's default is 5 s): on a loaded 2-core machine a
#: re-render with its closing animation has been seen to take longer than 5 s.
expect.set_options(timeout=10_000)


# Module scope: Playwright's sync API keeps an event loop running in the main thread while
# it is open, and later tests call asyncio.run (tests/events/test_durability.py).
@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "chromium is missing: `make test` installs it (scripts/chromium.sh)"
    assert (DIST / "index.html").is_file(), "the console is not built: `make test` builds it (make console)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("KAIROS_SCREENSHOTS")
    folder = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Console:
    """One browser (its own cookies) on the console."""

    page: Page
    base: str
    shots: Path

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        page = self.open("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/dashboard**")

    def settle(self, timeout: float = 10.0) -> None:
        """Waits until the page's finite animations and transitions have ended (a dialog
        zooming in or out, a drop-down fading): a scan in the middle of one sees half-faded,
        low-contrast text. Endless ones (spinners) are not waited for."""
        deadline = time.monotonic() + timeout
        while self.page.evaluate(RUNNING_ANIMATIONS) and time.monotonic() < deadline:
            self.page.wait_for_timeout(100)

    def choose(self, opener: Locator, item: str) -> None:
        """Opens a drop-down menu with a click on ``opener`` and picks ``item``, seen open
        before and closed after. A menu that opens past the bottom of the window is moved
        above its button as the page scrolls to the item; a click landing in that moment
        is lost (the menu stays open), and is made again, at most three times."""
        choice = self.page.get_by_role("menuitem", name=item, exact=True)
        for _ in range(3):
            if not choice.is_visible():
                opener.click()
                expect(choice).to_be_visible()
            choice.click()
            try:
                expect(choice).to_be_hidden(timeout=3_000)
                return
            except AssertionError:
                continue
        expect(choice).to_be_hidden()

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe(self) -> list[dict[str, Any]]:
        """The serious and critical accessibility violations on the page (axe-core), run
        through DevTools so the page's Content-Security-Policy stays in force. Messages
        (toasts) are let fade out first: a half-faded one is low-contrast for a moment."""
        self.page.wait_for_load_state("networkidle")
        expect(self.page.locator(".ant-message-notice")).to_have_count(0, timeout=10_000)
        self.settle()
        self.page.evaluate(AXE)
        result = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
            if v["impact"] in BLOCKING
        ]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Keeps each phase's report on the test item, so fixtures can see that a test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def console(
    chromium: Browser, live_server: LiveServer, screenshots: Path, request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Console]:  # fmt: skip
    context = chromium.new_context(locale="en-US", viewport={"width": 1366, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield Console(page, live_server.url, screenshots)
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:  # what the page showed when the test failed
        shot = tmp_path_factory.mktemp("failed") / f"{request.node.name}.png"
        page.screenshot(path=shot, full_page=True)
        print(f"\nthe page when the test failed: {shot} ({page.url})")
    context.close()
    blocked = [e for e in errors if "Content Security Policy" in e]
    assert not blocked, f"the page broke its Content-Security-Policy: {blocked}"


@pytest.fixture
def console_workspace(engine: Engine) -> CreatedWorkspace:
    with engine.begin() as conn:
        return create_workspace(conn, SystemClock(), "Shop")


def make_user(engine: Engine, workspace_id: int, email: str, role: str, name: str = "") -> int:
    now = SystemClock().now()
    with engine.begin() as conn:
        uid = accounts.create_user(conn, email, name or email.split("@")[0].title(), PASSWORD, now)
        accounts.add_member(conn, workspace_id, uid, role, role == "admin", now)
    return uid
