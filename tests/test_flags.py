"""Warning signs from absence: silence and little progress."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service.flags import attention_key, refresh_flags
from service.models import CheckIn, Flag, InboundMessage, OutboundMessage, Peer


def backdate(runtime, peer_id: int, clock, days: int) -> None:
    with runtime.session_factory() as session, session.begin():
        session.get(Peer, peer_id).created_at = clock.current - timedelta(days=days)


def delivered_checkins(runtime, peer_id: int, clock, days: int) -> None:
    with runtime.session_factory() as session, session.begin():
        goal_id = session.get(Peer, peer_id).goals[0].id
        for n in range(days):
            session.add(
                OutboundMessage(
                    peer_id=peer_id,
                    to_phone="+12125550134",
                    kind="checkin",
                    goal_id=goal_id,
                    status="delivered",
                    sent_at=clock.current - timedelta(days=n, hours=1),
                )
            )


def flag_kinds(runtime) -> list[str]:
    with runtime.session_factory() as session:
        return sorted(session.scalars(select(Flag.kind)).all())


def test_silence_while_texts_are_delivered_raises_one_flag(runtime, peer, clock):
    backdate(runtime, peer, clock, 30)
    delivered_checkins(runtime, peer, clock, 8)
    assert refresh_flags(runtime) == 2  # silence, and no done check-in in two weeks
    assert refresh_flags(runtime) == 0  # still open: not raised twice
    assert flag_kinds(runtime) == ["low_progress", "silence"]
    with runtime.session_factory() as session:
        gentle = session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "reengagement")
        )
        assert len(gentle.all()) == 1  # one per silence, not one per refresh


def test_a_peer_who_replies_and_does_well_raises_nothing(runtime, peer, clock):
    backdate(runtime, peer, clock, 30)
    delivered_checkins(runtime, peer, clock, 8)
    with runtime.session_factory() as session, session.begin():
        goal_id = session.get(Peer, peer).goals[0].id
        for n in range(8):
            session.add(
                CheckIn(
                    goal_id=goal_id,
                    peer_id=peer,
                    result="done",
                    local_date=(clock.current - timedelta(days=n)).date(),
                )
            )
    with runtime.session_factory() as session, session.begin():  # a reply today
        session.add(
            InboundMessage(
                provider_id="SM1",
                peer_id=peer,
                from_phone="+12125550134",
                body="done",
                received_at=clock.current,
            )
        )
    assert refresh_flags(runtime) == 0


def test_a_new_peer_is_not_called_silent(runtime, peer, clock):
    delivered_checkins(runtime, peer, clock, 3)
    refresh_flags(runtime)
    assert "silence" not in flag_kinds(runtime)


def test_urgent_flags_sort_first():
    crisis, silence = Flag(kind="crisis", urgent=True), Flag(kind="silence", urgent=False)
    keys = sorted(
        [([silence], "b"), ([], "c"), ([crisis], "a")], key=lambda item: attention_key(item[0])
    )
    assert [name for _, name in keys] == ["a", "b", "c"]
