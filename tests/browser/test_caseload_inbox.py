"""The caseload as an inbox in a real browser: a peer's long text is quoted on their
row, trimmed, and its link opens the peer page at that text; at 390 px nothing
scrolls sideways (a long link in the text included)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.test_browser import screenshot
from tests.browser.test_program_page import sideways_scroll

pytestmark = pytest.mark.browser

LONG_TEXT = (
    "Went to the library with my cousin and we looked at the cooking books for a long "
    "while, the one with the blue cover looked good, bring it to group? "
    "https://example.org/a-very-long-link-with-no-spaces-at-all-0123456789abcdef"
)


def text_as(page, base: str, peer_name: str, body: str) -> None:
    """Text ``body`` from ``peer_name``'s phone in the simulator; wait for the answer."""
    from playwright.sync_api import expect

    page.goto(f"{base}/simulator/")
    page.get_by_label("Phone of").select_option(label=peer_name)
    page.get_by_role("button", name="Show").click()
    # The page's script shows the thread first: once it has, it also sends the form.
    expect(page.locator("#sim-thread")).to_have_attribute("aria-busy", "false")
    page.get_by_label("Text message").fill(body)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#sim-thread li.in").last).to_contain_text(body[:40])


@pytest.mark.parametrize("width", [1280, 390])
def test_the_caseload_quotes_the_peer_and_fits_a_phone(chromium, service, width):
    from playwright.sync_api import expect

    base, _ = service
    with signed_in_page(chromium, service, width) as page:
        text_as(page, base, "Alex", LONG_TEXT)
        page.get_by_role("link", name="Caseload").click()
        row = page.locator("table.caseload tbody tr", has_text="Alex")
        quote = row.locator("td[data-label='Needs attention'] a.quote")
        expect(quote).to_be_visible()
        expect(quote).to_contain_text(LONG_TEXT[:60])
        expect(quote).to_contain_text("\u2026")  # trimmed: the long link is cut off
        assert sideways_scroll(page) <= 0, f"the caseload scrolls sideways at {width} px"
        if width == 390:
            screenshot(page, "caseload-phone")

        quote.click()
        expect(page).to_have_url(re.compile(r"/peers/\d+#message-\d+$"))
        anchor = page.url.split("#", 1)[1]
        expect(page.locator(f"[id='{anchor}']")).to_contain_text(LONG_TEXT)
        assert sideways_scroll(page) <= 0, f"the peer page scrolls sideways at {width} px"
