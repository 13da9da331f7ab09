"""Sending a batch: many rows claimed, checked and recorded per transaction, each once."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from service.gateways import GatewayError
from service.models import FAILED, OPTED_OUT, PLANNED, SENT, SKIPPED, OutboundMessage, Peer
from tests.conftest import enrol
from workers.sender import send_many


def plan_for(runtime, peer_id: int, phone: str, kind: str = "checkin") -> int:
    with runtime.session_factory() as session, session.begin():
        goal_id = session.get(Peer, peer_id).goals[0].id
        message = OutboundMessage(
            peer_id=peer_id, to_phone=phone, kind=kind, goal_id=goal_id,
            due_at=runtime.now(), status=PLANNED,
        )  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def rows(runtime, ids: list[int]) -> dict[int, OutboundMessage]:
    with runtime.session_factory() as session:
        found = session.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(ids)))
        return {message.id: message for message in found}


@pytest.fixture
def noon(clock):
    clock.set(clock.current.replace(hour=16, minute=0))  # noon in New York


def test_a_batch_sends_each_row_once_and_skips_what_must_not_go(
    twilio_runtime, fake_twilio, specialist, noon
):
    phones = [f"+1212555{i:04d}" for i in range(6)]
    peers = [enrol(twilio_runtime, specialist, phone=phone, name=f"P{i}")
             for i, phone in enumerate(phones)]  # fmt: skip
    ids = [plan_for(twilio_runtime, peer, phone) for peer, phone in zip(peers, phones, strict=True)]
    with twilio_runtime.session_factory() as session, session.begin():
        session.execute(update(Peer).where(Peer.id == peers[1]).values(consent=OPTED_OUT))
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id == ids[2]).values(status=SENT)
        )

    outcomes = send_many(twilio_runtime, [*ids, ids[0]])  # a duplicate id in the batch too

    assert outcomes[ids[0]] == "sent"
    assert outcomes[ids[1]] == "skipped:not_opted_in"
    assert outcomes[ids[2]] == "not-planned"
    found = rows(twilio_runtime, ids)
    assert [found[i].status for i in ids] == [SENT, SKIPPED, SENT, SENT, SENT, SENT]
    assert all(found[i].provider_id for i in ids[3:])
    sent_to = sorted(m.to for m in fake_twilio.messages)
    assert sent_to == sorted([phones[0], *phones[3:]])


def test_a_permanent_failure_fails_its_row_and_a_transient_one_retries_the_job(
    twilio_runtime, fake_twilio, specialist, noon
):
    phones = [f"+1212555{i:04d}" for i in range(2)]
    peers = [enrol(twilio_runtime, specialist, phone=phone, name=f"P{i}")
             for i, phone in enumerate(phones)]  # fmt: skip
    ids = [plan_for(twilio_runtime, peer, phone) for peer, phone in zip(peers, phones, strict=True)]
    fake_twilio.fail_next(400, 21211)
    fake_twilio.fail_next(503, 20503)

    with pytest.raises(GatewayError):
        send_many(twilio_runtime, ids)

    found = rows(twilio_runtime, ids)
    assert sorted(row.status for row in found.values()) == [FAILED, PLANNED]
    failed = next(row for row in found.values() if row.status == FAILED)
    assert failed.error_code == "21211"
    retried = next(row for row in found.values() if row.status == PLANNED)

    assert send_many(twilio_runtime, ids) == {failed.id: "not-planned", retried.id: "sent"}
    assert rows(twilio_runtime, ids)[retried.id].status == SENT
