"""One sender in one worker's hands: a peer's answers never cross between workers.

Two reply workers could each handle one of a peer's texts in order and still send
the answers the wrong way round; the sender's lease in Redis stops that. Here a
second ``Senders`` stands for another worker process sharing the same Redis.
"""

from __future__ import annotations

import pytest
from rq import SimpleWorker

from service.inbound import IncomingSms, accept_sms, requeue_waiting
from tests.conftest import enrol
from tests.inbound_worker import reply_to
from tests.twilio_fixtures import FROM_NUMBER
from workers.inbound import LEASE_KEY, Senders, replies

PHONE = "+12125550134"


@pytest.fixture
def sam(twilio_runtime, specialist, clock):
    clock.set(clock.current.replace(hour=16, minute=0))  # noon in New York
    return enrol(twilio_runtime, specialist)


def text(runtime, sid: str, body: str) -> None:
    accept_sms(runtime, IncomingSms(sid, PHONE, FROM_NUMBER, body))


def work(runtime) -> None:
    """Run the inbound jobs queued so far in this process, as a replies worker would."""
    SimpleWorker([runtime.inbound_queue], connection=runtime.redis).work(
        burst=True, with_scheduler=False
    )
    replies.wait_all()


def answers(fake) -> list[str]:
    return [m.body for m in fake.sent_to(PHONE) if "rates may apply" not in m.body]


def test_a_sender_held_by_another_worker_waits_then_is_answered_in_order(
    twilio_runtime, fake_twilio, sam
):
    other_worker = Senders()
    assert other_worker.take(twilio_runtime, PHONE)
    text(twilio_runtime, "SM" + "1" * 32, "3")
    text(twilio_runtime, "SM" + "2" * 32, "DONE")
    work(twilio_runtime)
    assert reply_to(twilio_runtime, "SM" + "1" * 32) is None  # not taken from the holder
    assert answers(fake_twilio) == []

    other_worker.let_go(twilio_runtime, PHONE)  # the holder lets go: what came meanwhile is queued
    assert twilio_runtime.inbound_queue.count >= 1
    work(twilio_runtime)
    mood, done = (reply_to(twilio_runtime, "SM" + n * 32) for n in "12")
    assert mood and done and mood != done
    assert answers(fake_twilio) == [mood, done]
    assert twilio_runtime.redis.exists(LEASE_KEY + PHONE) == 0  # let go once answered


def test_a_lease_lost_with_a_killed_worker_expires_and_the_reconciler_hands_the_text_on(
    twilio_runtime, fake_twilio, sam, clock
):
    killed = Senders()
    assert killed.take(twilio_runtime, PHONE)  # and the process dies holding it
    text(twilio_runtime, "SM" + "3" * 32, "DONE")
    work(twilio_runtime)
    assert reply_to(twilio_runtime, "SM" + "3" * 32) is None
    ttl = twilio_runtime.redis.pttl(LEASE_KEY + PHONE)
    assert 0 < ttl <= 30_000  # it would expire by itself; here it is made to at once
    twilio_runtime.redis.delete(LEASE_KEY + PHONE)

    clock.advance(seconds=31)
    assert requeue_waiting(twilio_runtime, clock.current) == 1
    work(twilio_runtime)
    answer = reply_to(twilio_runtime, "SM" + "3" * 32)
    assert answer and answers(fake_twilio) == [answer]


def test_one_worker_handing_a_sender_several_jobs_keeps_holding_it(
    twilio_runtime, fake_twilio, sam
):
    for n, body in zip("456", ("2", "DONE", "PAUSE"), strict=True):
        text(twilio_runtime, "SM" + n * 32, body)  # three jobs, one sender, one worker
    work(twilio_runtime)
    expected = [reply_to(twilio_runtime, "SM" + n * 32) for n in "456"]
    assert all(expected) and answers(fake_twilio) == expected
    assert Senders().take(twilio_runtime, PHONE)  # and it let go when done
