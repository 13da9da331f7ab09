"""The inbound queue: a text that may be a crisis is handled before a wave of others."""

from __future__ import annotations

from rq.job import Job

from service.understanding import may_be_crisis
from tests.inbound_worker import handle_stored, reply_to
from tests.signing import inbound_form, signed_post

PEER_PHONE = "+12125550134"  # Sam, the peer fixture


def waiting_senders(runtime) -> list[str]:
    queue = runtime.inbound_queue
    return [Job.fetch(job_id, connection=runtime.redis).args[0] for job_id in queue.job_ids]


def test_a_crisis_text_jumps_a_wave_of_replies_waiting_in_the_queue(client, runtime, peer):
    others = [f"+1212555{n:04d}" for n in range(200, 206)]
    for n, phone in enumerate(others):
        signed_post(client, "/sms/inbound", inbound_form("DONE", f"SM{n:032d}", phone))
    crisis_sid = "SM" + "c" * 32
    signed_post(client, "/sms/inbound", inbound_form("i dont want to be alive", crisis_sid))
    assert waiting_senders(runtime) == [PEER_PHONE, *others]
    handle_stored(runtime)
    assert "988" in reply_to(runtime, crisis_sid)


def test_ordinary_texts_keep_their_arrival_order(client, runtime, peer):
    phones = [f"+1212555{n:04d}" for n in range(300, 304)]
    for n, phone in enumerate(phones):
        signed_post(
            client, "/sms/inbound", inbound_form("this heat is killing me", f"SM{n:032d}", phone)
        )
    assert waiting_senders(runtime) == phones


def test_what_counts_as_maybe_a_crisis_is_the_crisis_reading_clear_or_possible():
    assert may_be_crisis("I want to end my life")
    assert may_be_crisis("I can't do this anymore")  # possible: still first
    assert not may_be_crisis("DONE")
    assert not may_be_crisis("")
