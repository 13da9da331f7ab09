"""Handling stored texts: the ``inbound`` queue's job, one sender at a time, in order.

``handle_texts_from(phone)`` handles every unhandled text from that number,
oldest first, each in its own transaction (``service.conversation.handle_next``),
and sends each reply as soon as its transaction commits: so a peer's answers
arrive in the order of their texts. Replies are not paced by the nudges' rate (a
TwiML answer never was) and never wait behind nudges: workers take this queue
before the nudges.

A sender is in one process's hands at a time: the job first takes the sender's
lease in Redis (``SET NX`` with an expiry, renewed with each reply) and keeps it
until the last reply it wrote for that number has been handed to the provider.
Without it two workers could each handle one of a peer's texts, in order, and
still send the two answers the wrong way round. A job that finds the lease taken
returns at once: the holder, after letting go, looks for texts that arrived
meanwhile and queues a job for them, so none waits. A holder killed mid-way
loses the lease when it expires, and the reconciler
(``service.inbound.requeue_waiting``) hands its texts on.

Sending a reply waits on the provider, so the ``--replies`` worker (which runs
jobs in its own process) hands each reply to a pool of threads and goes on to
the next text: a sender's replies still go one after another, each starting
when the one before has been handed over. A worker that forks a process per job
waits for the job's replies before the job ends. A reply left unsent by a crash
is still planned, and the reconciler queues it.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from service import metrics
from service.conversation import Handled, handle_next, has_unhandled, wait_for_in_flight
from service.gateways import GatewayError
from service.phones import last_four
from service.queueing import enqueue_sends, enqueue_texts_from
from service.runtime import Runtime, current_runtime
from workers.sender import send_reply

log = logging.getLogger(__name__)

# Enough for any person; a sender with more unhandled texts gets a fresh job for the rest.
MAX_PER_JOB = 200
REPLY_THREADS = 32
# Longer than any one send takes (the provider call times out well before), renewed
# before each reply; after a crash the sender waits at most this long.
LEASE_SECONDS = 30
LEASE_KEY = "peernudge:inbound:sender:"


@dataclass
class Held:
    """A sender this process has in hand: its lease, who still needs it, its last reply."""

    lease: Lock
    users: int = 1
    last: Future | None = field(default=None)


class Senders:
    """The senders this process holds, and their replies on threads, in order per number."""

    def __init__(self) -> None:
        self.pool: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()
        self.held: dict[str, Held] = {}

    def take(self, runtime: Runtime, phone: str) -> bool:
        """Hold the sender for a job (again, if this process holds it already);
        False when another process has it."""
        with self.lock:
            held = self.held.get(phone)
            if held is not None:
                held.users += 1
                return True
            lease = runtime.redis.lock(LEASE_KEY + phone, timeout=LEASE_SECONDS, thread_local=False)
            if not lease.acquire(blocking=False):
                return False
            self.held[phone] = Held(lease)
            return True

    def submit(self, runtime: Runtime, phone: str, reply_id: int) -> Future:
        """Send the reply on a thread once the sender's reply before it has gone."""
        with self.lock:
            if self.pool is None:  # made in the process that sends (after any fork)
                self.pool = ThreadPoolExecutor(REPLY_THREADS, thread_name_prefix="reply")
            held = self.held[phone]
            held.users += 1
            before = held.last
            future = self.pool.submit(self._send_after, runtime, phone, held, before, reply_id)
            held.last = future
        return future

    def _send_after(
        self, runtime: Runtime, phone: str, held: Held, before: Future | None, reply_id: int
    ) -> None:
        try:
            if before is not None:
                wait([before])  # the pool runs tasks in order, so the one before has started
            renew(held.lease, phone)
            send_now(runtime, reply_id)
        finally:
            self.let_go(runtime, phone)  # inside the task: done means let go

    def let_go(self, runtime: Runtime, phone: str) -> None:
        """One user fewer; the last gives the lease back, then queues what came meanwhile."""
        with self.lock:
            held = self.held[phone]
            held.users -= 1
            if held.users:
                return
            del self.held[phone]
        try:
            held.lease.release()
        except LockError:
            log.warning("the lease on sender %s had expired", last_four(phone))
        if has_unhandled(runtime, phone):
            enqueue_texts_from(runtime, [phone])

    def wait_all(self) -> None:
        """Until every reply handed to the threads so far has been sent (or failed)."""
        with self.lock:
            pending = [held.last for held in self.held.values() if held.last is not None]
        wait(pending)


def renew(lease: Lock, phone: str) -> None:
    try:
        lease.reacquire()
    except (LockError, RedisError):
        # Expired (a very slow provider) or Redis away: the reply still goes; only the
        # order against a later text handled elsewhere is no longer promised.
        log.warning("could not renew the lease on sender %s", last_four(phone))


replies = Senders()
# Set by ``peernudge worker --replies``: jobs run in that long-lived process, so their
# replies may still be sending when a job returns.
send_in_background = False


def handle_texts_from(phone: str) -> int:
    """RQ job: handle the sender's waiting texts; return how many."""
    runtime = current_runtime()
    if not replies.take(runtime, phone):
        log.debug("sender %s is in another worker's hands", last_four(phone))
        return 0
    try:
        handled = handle_waiting(runtime, phone)
    finally:
        replies.let_go(runtime, phone)
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
