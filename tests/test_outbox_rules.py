"""What may still go out for a peer now: one rule, applied up to the hand-off.

The worker's steps are run one by one (claim and render, then hand-off and send),
with the peer's text arriving in between, the way it does when a worker has
claimed a nudge and is waiting for its rate slot.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from service.models import (
    CANCELLED,
    OPTED_OUT,
    PLANNED,
    SKIPPED,
    Goal,
    OutboundMessage,
    Peer,
    Schedule,
)
from service.outbox_rules import withheld_now
from service.runtime import current_runtime
from tests.conftest import enrol
from tests.inbound_worker import post_text
from tests.signing import inbound_form
from workers.planner import plan_due
from workers.sender import Ready, claim_and_prepare, provide, record_results, send_message

PHONE = "+12125550134"


@pytest.fixture
def sam(twilio_runtime, fake_twilio, specialist, clock):
    """Sam at noon New York time, welcome already sent, a check-in due now."""
    clock.set(clock.current.replace(hour=16, minute=0))
    peer_id = enrol(twilio_runtime, specialist)
    (welcome,) = ids(twilio_runtime, "welcome")
    assert send_message(twilio_runtime, welcome) == "sent"
    with twilio_runtime.session_factory() as session, session.begin():
        session.execute(update(Schedule).values(next_due_at=clock.current))
    plan_due(twilio_runtime, clock.current)
    return peer_id


def ids(runtime, kind: str) -> list[int]:
    with runtime.session_factory() as session:
        query = select(OutboundMessage.id).where(OutboundMessage.kind == kind)
        return list(session.scalars(query.order_by(OutboundMessage.id)))


def row(runtime, message_id: int) -> OutboundMessage:
    with runtime.session_factory() as session:
        return session.get(OutboundMessage, message_id)


def checkins_sent(fake) -> list:
    """What reached the phone other than the welcome and our answers to its texts."""
    return [m for m in fake.sent_to(PHONE) if "rates may apply" not in m.body and not answer(m)]


def answer(message) -> bool:
    runtime = current_runtime()
    with runtime.session_factory() as session:
        kind = session.scalar(
            select(OutboundMessage.kind).where(OutboundMessage.provider_id == message.sid)
        )
    return kind == "reply"


def claimed_by_a_worker(runtime, message_id: int) -> list[Ready]:
    """The worker's first step: the row is claimed, checked and rendered."""
    ready = claim_and_prepare(runtime, {message_id: time.time()}, {})
    assert [item.id for item in ready] == [message_id]
    return ready


def worker_proceeds(runtime, ready: list[Ready]) -> dict[int, str]:
    """The worker's second step: hand-off and provider call at the slot, then results."""
    outcomes: dict[int, str] = {}
    record_results(runtime, [provide(runtime, item) for item in ready], outcomes, [])
    return outcomes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PAUSE", "paused"),
        ("I want to die", "crisis_hold"),
        ("this is too many texts", "opt_out_unclear"),  # held until resolved
    ],
)
def test_pause_or_crisis_after_a_worker_claimed_the_nudge_stops_it(
    client, twilio_runtime, fake_twilio, sam, text, reason
):
    (checkin,) = ids(twilio_runtime, "checkin")
    ready = claimed_by_a_worker(twilio_runtime, checkin)
    answer = post_text(client, inbound_form(text, sid="SM" + "5" * 32))
    assert answer.status_code == 200
    assert worker_proceeds(twilio_runtime, ready) == {checkin: "cancelled"}
    assert checkins_sent(fake_twilio) == []
    assert (row(twilio_runtime, checkin).status, row(twilio_runtime, checkin).skip_reason) == (
        CANCELLED,
        reason,
    )


def set_peer(runtime, peer_id: int, **values) -> None:
    with runtime.session_factory() as session, session.begin():
        session.execute(update(Peer).where(Peer.id == peer_id).values(**values))


def stop_goal_check_ins(runtime, peer_id: int, **values) -> None:
    with runtime.session_factory() as session, session.begin():
        goal = session.scalars(select(Goal).where(Goal.peer_id == peer_id)).first()
        if values.get("goal_active") is False:
            goal.active = False
        for schedule in goal.schedules:
            schedule.active = values.get("schedule_active", schedule.active)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda rt, p, now: set_peer(rt, p, paused_until=now + timedelta(days=3)), "paused"),
        # Any hold, whatever set it (not only crisis language): no automated text.
        (
            lambda rt, p, now: set_peer(
                rt, p, hold_until=now + timedelta(days=30), hold_reason="opt_out_unclear"
            ),
            "opt_out_unclear",
        ),
        (lambda rt, p, now: set_peer(rt, p, consent=OPTED_OUT), "not_opted_in"),
        (lambda rt, p, now: stop_goal_check_ins(rt, p, goal_active=False), "goal_removed"),
        (lambda rt, p, now: stop_goal_check_ins(rt, p, schedule_active=False), "schedule_stopped"),
    ],
    ids=["pause", "any-hold", "opt-out", "goal-removed", "schedule-stopped"],
)
def test_the_hand_off_itself_refuses_a_claimed_row_the_rule_withholds(
    twilio_runtime, fake_twilio, sam, clock, change, reason
):
    """Even a change that cancelled nothing (a hold set by some other path) stops it."""
    (checkin,) = ids(twilio_runtime, "checkin")
    ready = claimed_by_a_worker(twilio_runtime, checkin)
    change(twilio_runtime, sam, clock.current)
    assert worker_proceeds(twilio_runtime, ready) == {checkin: "cancelled"}
    assert checkins_sent(fake_twilio) == []
    stored = row(twilio_runtime, checkin)
    assert (stored.status, stored.skip_reason, stored.handed_at) == (SKIPPED, reason, None)


def test_a_goal_paused_by_the_specialist_after_the_claim_stops_its_check_in(
    twilio_runtime, fake_twilio, sam, clock
):
    from service.plans import pause_goal

    (checkin,) = ids(twilio_runtime, "checkin")
    ready = claimed_by_a_worker(twilio_runtime, checkin)
    with twilio_runtime.session_factory() as session, session.begin():
        goal = session.scalars(select(Goal).where(Goal.peer_id == sam)).one()
        assert pause_goal(session, goal, clock.current) == 1
    assert worker_proceeds(twilio_runtime, ready) == {checkin: "cancelled"}
    assert checkins_sent(fake_twilio) == []
    assert row(twilio_runtime, checkin).skip_reason == "goal_paused"


def test_a_claimed_nudge_nothing_stops_goes_out_once(twilio_runtime, fake_twilio, sam):
    (checkin,) = ids(twilio_runtime, "checkin")
    ready = claimed_by_a_worker(twilio_runtime, checkin)
    assert worker_proceeds(twilio_runtime, ready) == {checkin: "sent"}
    assert len(checkins_sent(fake_twilio)) == 1


# --- the rule, kind by kind -------------------------------------------------------------


def planned(runtime, peer_id: int, kind: str, **extra) -> int:
    with runtime.session_factory() as session, session.begin():
        message = OutboundMessage(
            peer_id=peer_id, to_phone=PHONE, kind=kind, status=PLANNED, due_at=runtime.now(),
            body="hi" if kind == "direct" else None, **extra,
        )  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def verdicts(runtime, message_ids: dict[str, int]) -> dict[str, str | None]:
    with runtime.session_factory() as session:
        withheld = withheld_now(session, list(message_ids.values()), runtime.now())
    return {name: withheld.get(message_id) for name, message_id in message_ids.items()}


@pytest.fixture
def robin(runtime, specialist, clock):
    clock.set(clock.current.replace(hour=16, minute=0))
    return enrol(runtime, specialist)


def robins_texts(runtime, peer_id: int) -> dict[str, int]:
    with runtime.session_factory() as session:
        goal = session.scalars(select(Goal).where(Goal.peer_id == peer_id)).one()
        schedule_id = goal.schedules[0].id
        goal_id = goal.id
    return {
        "checkin": planned(runtime, peer_id, "checkin", goal_id=goal_id, schedule_id=schedule_id),
        "snoozed checkin": planned(runtime, peer_id, "checkin", goal_id=goal_id),
        "encouragement": planned(runtime, peer_id, "encouragement", goal_id=goal_id),
        "welcome": planned(runtime, peer_id, "welcome", goal_id=goal_id),
        "direct": planned(runtime, peer_id, "direct"),
    }


def test_a_pause_or_a_hold_withholds_automated_kinds_only(runtime, robin, clock):
    texts = robins_texts(runtime, robin)
    assert set(verdicts(runtime, texts).values()) == {None}
    set_peer(runtime, robin, hold_until=clock.current + timedelta(hours=1))
    held = verdicts(runtime, texts)
    set_peer(runtime, robin, hold_until=None, paused_until=clock.current + timedelta(days=1))
    paused = verdicts(runtime, texts)
    automated = {"checkin", "snoozed checkin", "encouragement"}
    assert held == {name: "crisis_hold" if name in automated else None for name in texts}
    assert paused == {name: "paused" if name in automated else None for name in texts}


def test_a_pause_or_hold_that_has_ended_withholds_nothing(runtime, robin, clock):
    texts = robins_texts(runtime, robin)
    ended = clock.current - timedelta(seconds=1)
    set_peer(runtime, robin, hold_until=ended, paused_until=ended)
    assert set(verdicts(runtime, texts).values()) == {None}


def test_an_opt_out_withholds_every_kind(runtime, robin):
    texts = robins_texts(runtime, robin)
    set_peer(runtime, robin, consent=OPTED_OUT)
    assert verdicts(runtime, texts) == dict.fromkeys(texts, "not_opted_in")


def test_a_paused_goal_asks_nothing_but_its_welcome_still_goes(runtime, robin):
    texts = robins_texts(runtime, robin)
    stop_goal_check_ins(runtime, robin, schedule_active=False)
    assert verdicts(runtime, texts) == {
        "checkin": "schedule_stopped",
        "snoozed checkin": "goal_paused",
        "encouragement": None,
        "welcome": None,
        "direct": None,
    }


def test_a_removed_goal_withholds_everything_tied_to_it(runtime, robin):
    texts = robins_texts(runtime, robin)
    stop_goal_check_ins(runtime, robin, goal_active=False)
    tied = {"checkin", "snoozed checkin", "encouragement", "welcome"}
    assert verdicts(runtime, texts) == {n: "goal_removed" if n in tied else None for n in texts}
