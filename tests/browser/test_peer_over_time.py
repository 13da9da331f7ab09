"""A peer over time in a real browser, at desktop and phone widths: a goal added later
and told to the peer (the text previewed, then in the simulator), a crisis taken with
"I'm on it" and resolved with a note that stays in the history, then a discharge with
a reason and a re-enrolment. Nothing scrolls sideways on the way.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.test_program_page import sideways_scroll
from tests.daytime import daytime_zone

pytestmark = pytest.mark.browser

# One peer per width, so the two runs never share a thread.
PEERS = {1280: ("Morgan", "(646) 555-0181"), 390: ("Jamie", "(646) 555-0182")}


@pytest.mark.parametrize("width", sorted(PEERS))
def test_a_goal_told_a_crisis_taken_and_resolved_then_discharged(chromium, service, width):
    from playwright.sync_api import expect

    base, _ = service
    name, number = PEERS[width]
    with signed_in_page(chromium, service, width) as page:
        page.goto(f"{base}/peers/new")
        page.get_by_label("First name or nickname").fill(name)
        page.get_by_label("Mobile number").fill(number)
        page.get_by_label("Time zone").select_option(daytime_zone(datetime.now(UTC)))
        page.get_by_label("Goal, in the peer's words").fill("walk after dinner")
        page.get_by_label("Check-in time", exact=True).fill("12:00")
        page.get_by_label("The peer agreed to receive these texts today").check()
        page.get_by_role("button", name="Enrol and send the welcome text").click()
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        peer_url = page.url.split("?", 1)[0].split("#", 1)[0]

        # a goal added later: the page offers the text it would send, shown first
        page.get_by_text("Add a goal").click()
        page.locator("#new-text").fill("call my sister")
        page.locator("#new-time_1").fill("18:00")
        page.get_by_role("button", name="Add goal").click()
        offer = page.locator("#tell-peer")
        expect(offer).to_be_visible()
        preview = offer.locator("blockquote.preview")
        expect(preview).to_contain_text("call my sister")
        sent_text = preview.inner_text()
        assert sideways_scroll(page) <= 0, f"the goal preview scrolls sideways at {width} px"
        offer.get_by_role("button", name="Send this text").click()
        expect(page.get_by_text("The text about the goal is on its way.")).to_be_visible()

        page.goto(f"{base}/simulator/")
        page.get_by_label("Phone of").select_option(label=name)
        page.get_by_role("button", name="Show").click()
        thread = page.locator("#sim-thread")
        expect(thread.locator("li.out", has_text="call my sister")).to_contain_text(
            sent_text.strip()[:40]
        )
        page.get_by_label("Text message").fill("i want to end my life")
        page.get_by_role("button", name="Send").click()
        expect(thread).to_contain_text("988")

        # the crisis on the peer page: the words, "I'm on it", then resolved with a note
        page.goto(peer_url)
        flag = page.locator("ul.flags li.urgent")
        expect(flag).to_contain_text("i want to end my life")
        flag.get_by_role("button", name="I'm on it").click()
        expect(page.get_by_text(f"The alert for {name} is yours")).to_be_visible()
        expect(page.locator("ul.flags li.urgent .alert-status")).to_contain_text("taken by")
        page.locator("ul.flags li.urgent input[name=note]").fill("Called them, they are safe")
        page.locator("ul.flags li.urgent").get_by_role("button", name="Resolve").click()
        expect(page.locator("ul.flags li.urgent")).to_have_count(0)
        expect(page.locator("ul.changes")).to_contain_text("Called them, they are safe")
        assert sideways_scroll(page) <= 0, f"the peer page scrolls sideways at {width} px"

        # discharged with a reason: no automated texts, history kept; then enrolled again
        page.get_by_text("Discharge from the program").click()
        page.get_by_label("Reason").select_option(label="Moved away or transferred")
        page.get_by_role("button", name="Discharge", exact=True).click()
        expect(page.get_by_text("(Moved away or transferred): no automated texts.")).to_be_visible()
        expect(page.locator(".thread")).to_contain_text("i want to end my life")
        page.get_by_role("button", name="Re-enrol").click()
        expect(page.get_by_text("Discharge from the program")).to_be_visible()
        expect(page.get_by_text("no automated texts.")).to_have_count(0)
