"""Handling stored texts: the ``inbound`` queue's job, one sender at a time, in order.

``handle_texts_from(phone)`` handles every unhandled text from that number,
oldest first, each in its own transaction (``service.conversation.handle_next``),
and sends each reply as soon as its transaction commits, before the next text:
so a peer's answers arrive in the order of their texts. Replies are not paced
by the nudges' rate (a TwiML answer never was) and never wait behind nudges:
workers take this queue before the nudges.

A second job for the same sender finds nothing left and returns; a job lost
with Redis is replaced by the reconciler (``service.inbound.requeue_waiting``).

Sending a reply waits on the provider, so the ``--replies`` worker (which runs
jobs in its own process) hands each reply to a pool of threads and goes on to
the next text: a sender's replies still go one after another, in order, each
starting when the one before has been handed over. A worker that forks a
process per job waits for the job's replies before the job ends. A reply left
unsent by a crash is still planned, and the reconciler queues it.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from service import metrics
from service.conversation import Handled, handle_next, wait_for_in_flight
from service.gateways import GatewayError
from service.phones import last_four
from service.queueing import enqueue_sends, enqueue_texts_from
from service.runtime import Runtime, current_runtime
from workers.sender import send_reply

log = logging.getLogger(__name__)

# Enough for any person; a sender with more unhandled texts gets a fresh job for the rest.
MAX_PER_JOB = 200
REPLY_THREADS = 32


class ReplySender:
    """Replies sent on threads, in order per number: each waits for the one before."""

    def __init__(self) -> None:
        self.pool: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()
        self.last: dict[str, Future] = {}

    def submit(self, runtime: Runtime, phone: str, reply_id: int) -> Future:
        with self.lock:
            if self.pool is None:  # made in the process that sends (after any fork)
                self.pool = ThreadPoolExecutor(REPLY_THREADS, thread_name_prefix="reply")
            before = self.last.get(phone)
            future = self.pool.submit(self._send_after, runtime, before, reply_id)
            self.last[phone] = future
        future.add_done_callback(lambda done: self._forget(phone, done))
        return future

    @staticmethod
    def _send_after(runtime: Runtime, before: Future | None, reply_id: int) -> None:
        if before is not None:
            wait([before])  # the pool runs tasks in order, so the one before has started
        send_now(runtime, reply_id)

    def _forget(self, phone: str, future: Future) -> None:
        with self.lock:
            if self.last.get(phone) is future:
                del self.last[phone]

    def wait_all(self) -> None:
        """Until every reply handed to the threads so far has been sent (or failed)."""
        with self.lock:
            pending = list(self.last.values())
        wait(pending)


replies = ReplySender()
# Set by ``peernudge worker --replies``: jobs run in that long-lived process, so their
# replies may still be sending when a job returns.
send_in_background = False


def handle_texts_from(phone: str) -> int:
    """RQ job: handle the sender's waiting texts; return how many."""
    runtime = current_runtime()
    handled = handle_waiting(runtime, phone)
    if not send_in_background:
        replies.wait_all()  # a forked work horse exits when the job returns
    return handled


def handle_waiting(runtime: Runtime, phone: str) -> int:
    handled = 0
    while handled < MAX_PER_JOB:
        result = handle_next(runtime, phone)
        if result is None:
            return handled
        handled += 1
        after_commit(runtime, result)
        log.info("inbound sms %s from %s handled", result.inbound_id, last_four(phone))
    enqueue_texts_from(runtime, [phone])  # the rest in a fresh job
    return handled


def after_commit(runtime: Runtime, result: Handled) -> None:
    """Queue what the text planned, then send its reply (after STOP: once nothing is
    in flight to the peer, so the confirmation is the last text they get)."""
    enqueue_sends(runtime, result.sends)
    metrics.count(runtime.redis, "peernudge_inbound_messages")
    if result.opted_out and result.peer_id is not None:
        wait_for_in_flight(runtime, result.peer_id)
    if result.reply_id is not None:
        replies.submit(runtime, result.phone, result.reply_id)


def send_now(runtime: Runtime, reply_id: int) -> None:
    try:
        send_reply(runtime, reply_id)
    except GatewayError:
        # Planned again by the sender; the nudges queue retries it with backoff.
        enqueue_sends(runtime, [(reply_id, runtime.now())])
    except Exception:
        log.exception("reply %s could not be sent; the reconciler will queue it", reply_id)
