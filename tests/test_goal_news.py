"""Telling a peer about a goal added or changed with them: the text is shown first."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select, update

from service.models import OPTED_OUT, OutboundMessage, Peer
from tests.conftest import sign_in
from tests.test_plans import goals, post


@pytest.fixture
def owner(client, peer):
    sign_in(client)
    return client


def preview(page) -> str | None:
    found = re.search(
        r'<blockquote class="preview">(.*?)</blockquote>', page.get_data(as_text=True)
    )
    return html.unescape(found[1]) if found else None


def told(runtime, peer: int) -> list[OutboundMessage]:
    with runtime.session_factory() as session:
        return session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.peer_id == peer, OutboundMessage.kind == "goal_news"
            )
        ).all()


def test_after_adding_a_goal_the_page_shows_the_text_and_sends_exactly_that(
    owner, runtime, peer, specialist
):
    page = post(owner, peer, "/goals", text="call my sister", days="mon,thu", times="18:00")
    shown = preview(page)
    assert shown and "call my sister" in shown and "Mondays and Thursdays" in shown
    assert told(runtime, peer) == []  # nothing goes until the specialist says so
    goal = next(g for g in goals(runtime, peer) if g.text == "call my sister")
    page = post(owner, peer, f"/goals/{goal.id}/tell", changed="0")
    assert "on its way" in page.get_data(as_text=True)
    (message,) = told(runtime, peer)
    assert (message.body, message.goal_id, message.sent_by) == (shown, goal.id, specialist)


def test_a_changed_goal_says_so_and_an_unchanged_save_offers_nothing(owner, runtime, peer):
    goal = goals(runtime, peer)[0]
    same = post(owner, peer, f"/goals/{goal.id}", text=goal.text, days="daily", times="09:00")
    assert preview(same) is None
    moved = post(owner, peer, f"/goals/{goal.id}", text=goal.text, days="daily", times="18:30")
    assert "updated" in preview(moved) and "18:30" in preview(moved)


def test_nothing_is_offered_or_sent_to_a_peer_who_opted_out(owner, runtime, peer):
    page = post(owner, peer, "/goals", text="stretch", days="daily", times="10:00")
    goal = next(g for g in goals(runtime, peer) if g.text == "stretch")
    with runtime.session_factory() as session, session.begin():
        session.execute(update(Peer).where(Peer.id == peer).values(consent=OPTED_OUT))
    page = owner.get(f"/peers/{peer}?announce={goal.id}")
    assert preview(page) is None
    page = post(owner, peer, f"/goals/{goal.id}/tell", changed="0")
    assert "Not sent" in page.get_data(as_text=True)
    assert told(runtime, peer) == []


def test_a_bad_or_foreign_goal_in_the_address_offers_nothing(owner, runtime, peer):
    for bad in ("abc", "99999", "1" * 40, "\u0663"):
        assert preview(owner.get(f"/peers/{peer}?announce={bad}")) is None
    assert post(owner, peer, "/goals/99999/tell", changed="0").status_code == 404
