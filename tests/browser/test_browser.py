"""A specialist's day in a real browser against the running service.

Sign in, enrol a peer with a schedule, see the welcome text arrive in the SMS
simulator, reply NOT YET there and see it on the peer page, then text crisis
words and see the crisis flag at the top of the caseload.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.demo import DEMO_EMAIL
from tests.browser.conftest import ARTIFACTS, WAIT_MS
from tests.daytime import daytime_zone

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def page(chromium, service):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)  # CI machines can be slow; never a fixed sleep
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    """Saved as a test artifact; copied to docs/ with PEERNUDGE_UPDATE_SCREENSHOTS=1."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if os.environ.get("PEERNUDGE_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / f"{name}.png", SCREENSHOTS / f"{name}.png")


def test_enrol_text_reply_and_see_a_crisis_first(page, service):
    from playwright.sync_api import expect

    base, password = service
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Caseload")).to_be_visible()

    page.get_by_role("link", name="Enrol a peer").click()
    page.get_by_label("First name or nickname").fill("Riley")
    page.get_by_label("Mobile number").fill("(646) 555-0177")
    page.get_by_label("Time zone").select_option(daytime_zone(datetime.now(UTC)))
    page.get_by_label("Goal, in the peer's words").fill("walk the dog before work")
    page.get_by_label("Weekdays (Monday to Friday)").check()
    page.get_by_label("Check-in time", exact=True).fill("12:00")
    page.get_by_label("The peer agreed to receive these texts today").check()
    page.get_by_role("button", name="Enrol and send the welcome text").click()
    expect(page.get_by_role("heading", name="Riley")).to_be_visible()
    expect(page.get_by_text("Check-ins: weekdays at 12:00")).to_be_visible()
    peer_url = page.url

    page.get_by_role("link", name="SMS simulator").click()
    page.get_by_label("Phone of").select_option(label="Riley")
    page.get_by_role("button", name="Show").click()
    thread = page.locator("#sim-thread")
    # The welcome text, delivered by the worker (until then the phone says when it comes).
    expect(thread.locator("li.out").first).to_contain_text("Riley")
    page.get_by_label("Text message").fill("NOT YET")
    page.get_by_role("button", name="Send").click()
    # The text is stored at once; the answer comes back when a worker has handled it.
    expect(thread.locator("li.in").last).to_contain_text("NOT YET", timeout=15_000)
    expect(thread.locator("li").last).to_have_class(re.compile(r"\bout\b"), timeout=15_000)

    page.goto(peer_url)
    expect(page.locator(".thread")).to_contain_text("NOT YET")
    screenshot(page, "peer")

    page.get_by_role("link", name="SMS simulator").click()
    page.get_by_label("Phone of").select_option(label="Riley")
    page.get_by_role("button", name="Show").click()
    page.get_by_label("Text message").fill("i want to end my life")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#sim-thread")).to_contain_text("988")

    page.get_by_role("link", name="Caseload").click()
    first_row = page.locator("table.caseload tbody tr").first
    expect(first_row).to_contain_text("Riley")
    expect(first_row).to_have_class("urgent")
    expect(first_row.locator(".flag.urgent")).to_be_visible()
    screenshot(page, "caseload")


def test_pages_fit_a_phone_screen_and_work_from_the_keyboard(chromium, service):
    """At 390 px nothing scrolls sideways, and Tab reaches the main links in order."""
    from playwright.sync_api import expect

    base, password = service
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        page.get_by_label("Email").fill(DEMO_EMAIL)
        page.get_by_label("Password").fill(password)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Caseload")).to_be_visible()
        for path in ("/", "/peers/new", "/peers/1/details", "/account"):
            page.goto(f"{base}{path}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
        page.goto(f"{base}/")
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_text("Skip to content")
        page.locator("table.caseload a").first.click()
        expect(page.get_by_role("heading", name="Goals and progress")).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the peer page scrolls sideways by {overflow}px on a phone"
    finally:
        context.close()
