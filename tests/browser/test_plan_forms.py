"""The enrolment and details forms in a real browser, at desktop and phone widths.

A form with mistakes comes back with the error summary focused, a link to each field
(following one puts the cursor there), each field marked and described by its message,
what was typed kept, and nothing scrolling sideways. Then the peer is enrolled with
plain choices, a goal is added (first with a mistake, shown the same way), and their
number is changed on the details form (consent asked again).
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.test_program_page import sideways_scroll

pytestmark = pytest.mark.browser


@pytest.fixture(params=[1280, 390])
def page(request, chromium, service):
    with signed_in_page(chromium, service, request.param) as page:
        yield page


def test_mistakes_are_shown_together_beside_their_fields(page, service):
    from playwright.sync_api import expect

    base, _ = service
    page.goto(f"{base}/peers/new")
    page.get_by_label("Mobile number").fill("555-01")
    page.get_by_label("Goal, in the peer's words").fill("stretch after lunch")
    page.get_by_label("These days:").check()
    page.get_by_label("Tue").check()
    page.get_by_label("Check-in time", exact=True).fill("21:30")
    page.get_by_role("button", name="Enrol and send the welcome text").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(4)  # name, number, time, consent
    for field in ("name", "phone", "time_1", "consent"):
        control = page.locator(f"#{field}")
        expect(control).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#{field}-error")).to_be_visible()
        assert f"{field}-error" in control.get_attribute("aria-describedby").split()
    expect(page.get_by_label("Goal, in the peer's words")).to_have_value("stretch after lunch")
    expect(page.get_by_label("Tue")).to_be_checked()
    assert sideways_scroll(page) <= 0, "the enrolment form scrolls sideways"
    summary.get_by_role("link", name="not a valid phone number").click()
    expect(page.get_by_label("Mobile number")).to_be_focused()


def test_enrol_with_plain_choices_then_change_the_number(page, service):
    from playwright.sync_api import expect

    base, _ = service
    wide = page.viewport_size["width"] > 600
    number = "(646) 555-0161" if wide else "(646) 555-0162"
    page.goto(f"{base}/peers/new")
    page.get_by_label("First name or nickname").fill("Quinn" if wide else "Noor")  # one run each
    page.get_by_label("Mobile number").fill(number)
    page.get_by_label("Goal, in the peer's words").fill("drink water")
    page.get_by_label("A number of times a week").check()
    page.get_by_label("How many").fill("3")
    page.get_by_label("Check-in time", exact=True).fill("10:00")
    page.get_by_label("Second time (optional)").fill("16:30")
    page.get_by_label("The peer agreed to receive these texts today").check()
    page.get_by_role("button", name="Enrol and send the welcome text").click()
    expect(page.get_by_text("Check-ins: 3 times a week at 10:00 and 16:30")).to_be_visible()
    expect(page.locator("main p", has_text=" · English · ")).to_contain_text("America/New_York")

    # a goal added later, with a mistake: the add form comes back open, the problem beside it
    page.get_by_text("Add a goal").click()
    page.locator("#new-text").fill("call my sister")
    page.locator("#new-days-chosen").check()
    page.locator("#new-time_1").fill("18:00")
    page.get_by_role("button", name="Add goal").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(page.locator("#days-error")).to_contain_text("Tick at least one day")
    expect(page.locator("#new-text")).to_have_value("call my sister")
    assert sideways_scroll(page) <= 0, "the peer page with a goal form's errors scrolls sideways"
    summary.get_by_role("link", name="Tick at least one day").click()
    expect(page.locator("#new-days-daily")).to_be_focused()
    page.locator("#new-weekday-thu").check()
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_text("Goal added: call my sister")).to_be_visible()
    expect(page.get_by_text("Check-ins: Thursdays at 18:00")).to_be_visible()

    page.get_by_role("link", name="Edit details").click()
    expect(page.get_by_role("heading", name="details")).to_be_visible()
    assert sideways_scroll(page) <= 0, "the details form scrolls sideways"
    page.get_by_label("Mobile number").fill("(646) 555-0163" if wide else "(646) 555-0164")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#consent-error")).to_contain_text("record that the peer agreed")
    page.get_by_label("The peer agreed to receive these texts at the new number").check()
    page.get_by_label("How consent was given").select_option("by phone")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("The welcome text goes to the new number.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"details changed by \w[\w ]* \(phone\)"))).to_be_visible()
