"""The Program page in a real browser, at desktop and phone widths.

A peer answers a check-in and a mood in the SMS simulator; the page then shows the
figures with their charts, every figure's definition one click away, nothing
scrolling sideways at 390 px and the skip link first from the keyboard. The
screenshot is the README's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.test_browser import screenshot

pytestmark = pytest.mark.browser


def sideways_scroll(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def text_as_a_peer(page, base: str, body: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/simulator/")
    page.get_by_label("Phone of").select_option(label="Sam")  # a demo peer no other test texts as
    page.get_by_role("button", name="Show").click()
    # "Show" loads a new page whose script then fetches the thread: count its texts only
    # once it is shown (counted before, an earlier text of this test was missed).
    page.wait_for_url(re.compile(r"[?&]peer="))
    expect(page.locator("#sim-thread")).to_have_attribute("aria-busy", "false")
    sent = page.locator("#sim-thread li.in")
    before = sent.count()
    page.get_by_label("Text message").fill(body)
    page.get_by_role("button", name="Send").click()
    # the text shows at once; wait for the answer after it, so the worker has handled it
    expect(sent).to_have_count(before + 1)
    expect(sent.last).to_contain_text(body)
    answer = sent.last.locator("xpath=following-sibling::li[contains(@class, 'out')]")
    expect(answer.first).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_program_page_at_desktop_and_phone_width(chromium, service, width):
    from playwright.sync_api import expect

    base, _ = service
    with signed_in_page(chromium, service, width) as page:
        if width == 1280:  # the two widths may run on two services: only this one texts
            text_as_a_peer(page, base, "DONE")
            text_as_a_peer(page, base, "4")
        page.get_by_role("link", name="Program").click()
        page.get_by_label("Last 90 days").check()
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("heading", name="Program outcomes")).to_be_visible()
        expect(page.locator("svg.chart")).to_have_count(4)
        # The demo peer lives where it is daytime now, so their day may already be
        # tomorrow here: a range to tomorrow holds the mood just texted.
        today = datetime.now(UTC).date()
        page.goto(
            f"{base}/program?from={today - timedelta(days=89)}&to={today + timedelta(days=1)}"
        )
        if width == 1280:
            expect(page.locator("#chart-mood-d")).to_contain_text("4 1")
        page.get_by_role("link", name="Peers served").first.click()
        expect(page.locator("#def-served")).to_be_in_viewport()
        assert sideways_scroll(page) <= 0, f"the program page scrolls sideways at {width}px"
        page.goto(page.url.split("#")[0])
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_text("Skip to content")
        if width == 1280:
            screenshot(page, "program")  # the README's
