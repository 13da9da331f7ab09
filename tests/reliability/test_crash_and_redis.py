"""Faults while sending: workers SIGKILLed at random, Redis lost mid-run.

Every nudge must end sent, skipped with a reason, or failed with a code, and no
peer may get a nudge twice (counted at the fake Twilio server).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from service.models import PLANNED, SENDING, Goal, OutboundMessage, Peer, Schedule
from service.queueing import enqueue_sends
from service.redis_server import EmbeddedRedis
from service.runtime import build_runtime, set_runtime
from tests.daytime import daytime_zone
from tests.reliability.scale import report, scaled
from tests.test_engine_worker import kill_hard, start_worker
from tests.test_launcher import wait_for
from tests.twilio_fixtures import FROM_NUMBER
from workers.reconciler import reconcile

FINAL = ("sent", "skipped", "failed")


def plan_nudges(runtime, specialist_id: int, count: int) -> list[tuple[int, datetime]]:
    now = datetime.now(UTC)
    zone = daytime_zone(now)
    with runtime.engine.begin() as conn:
        conn.execute(
            insert(Peer),
            [
                {
                    "id": 1000 + i,
                    "specialist_id": specialist_id,
                    "phone": f"+1212555{i:04d}",
                    "display_name": f"P{i}",
                    "timezone": zone,
                    "language": "en",
                    "consent": "opted_in",
                    "encouragement": "off",
                    "created_at": now,
                }
                for i in range(count)
            ],
        )
        conn.execute(
            insert(Goal),
            [
                {
                    "id": 1000 + i,
                    "peer_id": 1000 + i,
                    "text": "take a walk",
                    "position": 1,
                    "active": True,
                    "created_at": now,
                }
                for i in range(count)
            ],
        )
        # Each goal asks through its check-in schedule (planned far ahead: the rows below
        # stand for its due occurrences); a goal without one counts as paused.
        conn.execute(
            insert(Schedule),
            [
                {"goal_id": 1000 + i, "kind": "checkin", "days": "daily", "times": "09:00",
                 "active": True, "next_due_at": now + timedelta(days=1), "created_at": now}
                for i in range(count)
            ],
        )  # fmt: skip
        conn.execute(
            insert(OutboundMessage),
            [
                {
                    "peer_id": 1000 + i,
                    "to_phone": f"+1212555{i:04d}",
                    "kind": "checkin",
                    "goal_id": 1000 + i,
                    "due_at": now,
                    "status": PLANNED,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
    with runtime.session_factory() as session:
        return [
            tuple(row)
            for row in session.execute(select(OutboundMessage.id, OutboundMessage.due_at))
        ]


def statuses(runtime) -> Counter:
    with runtime.session_factory() as session:
        rows = session.execute(
            select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
        )
        return Counter({status: n for status, n in rows})


def settle(runtime, clock_offset: timedelta) -> None:
    """What the planner loop does after a fault: reconcile, as if some minutes later."""
    runtime.now = lambda: datetime.now(UTC) + clock_offset  # type: ignore[method-assign]
    reconcile(runtime)
    runtime.now = lambda: datetime.now(UTC)  # type: ignore[method-assign]


def drained(runtime, quiet: float = 3.0, limit: float = 60.0) -> None:
    """Wait until nothing is planned or being sent, or nothing was sent for ``quiet`` s
    while no job is waiting (a queued job means workers, perhaps still starting, have work).
    """
    deadline, last, still_since = time.monotonic() + limit, None, time.monotonic()
    while time.monotonic() < deadline:
        counts = statuses(runtime)
        if counts[PLANNED] == 0 and counts[SENDING] == 0:
            return
        if counts["sent"] != last or runtime.queue.count:
            last, still_since = counts["sent"], time.monotonic()
        elif time.monotonic() - still_since > quiet:
            return
        time.sleep(0.2)


def finish(runtime, worker_settings, fake, workers: list) -> Counter:
    """Let the workers drain, then do what the planner's reconciler does after a crash;
    return how many rows killed workers had left mid-send (before or after the hand-off).

    The reconciler only touches rows stuck in ``sending`` for minutes; the test
    jumps the clock instead of waiting, so it first stops every worker: a live
    worker's send must never look stuck.
    """
    recovered: Counter = Counter()
    for _ in range(5):
        drained(runtime)
        for worker in workers:
            kill_hard(worker)
        recovered += left_mid_send(runtime)
        settle(runtime, timedelta(minutes=6))  # stuck rows: sent if Twilio has them, else planned
        counts = statuses(runtime)
        if counts[PLANNED] == 0 and counts[SENDING] == 0:
            return recovered
        workers[:] = [start_worker(worker_settings, fake) for _ in range(2)]
    return recovered


def left_mid_send(runtime) -> Counter:
    """Rows in ``sending`` whose worker is dead: claimed only, or handed to the provider."""
    with runtime.session_factory() as session:
        handed = session.scalars(
            select(OutboundMessage.handed_at.is_not(None)).where(OutboundMessage.status == SENDING)
        )
        return Counter("after_hand_off" if h else "before_hand_off" for h in handed)


def resent_after_recovery(runtime) -> int:
    """Rows sent on a later attempt than their first claim: what recovery actually did."""
    with runtime.session_factory() as session:
        return session.scalar(
            select(func.count()).where(
                OutboundMessage.status == "sent", OutboundMessage.attempts > 1
            )
        )


def duplicates(fake) -> int:
    per_phone = Counter(m.to for m in fake.messages)
    return sum(n - 1 for n in per_phone.values() if n > 1)


def twilio_settings(settings, fake, redis_url: str):
    return settings.with_overrides(
        sms_gateway="twilio",
        twilio_account_sid="AC" + "1" * 32,
        twilio_from_number=FROM_NUMBER,
        twilio_api_base_url=fake.url,
        redis_url=redis_url,
        sms_max_per_second=1000.0,
    )


def test_sigkilled_workers_never_send_twice_and_lose_nothing(
    settings, engine_runtime, fake_twilio, specialist
):
    count = scaled(200, 2000)
    fake_twilio.latency = 0.05
    enqueue_sends(engine_runtime, plan_nudges(engine_runtime, specialist, count))
    worker_settings = twilio_settings(settings, fake_twilio, settings.redis_url)
    workers = [start_worker(worker_settings, fake_twilio) for _ in range(3)]
    rng, kills = random.Random(1), 0
    try:
        deadline = time.monotonic() + scaled(10, 60)  # kill for a while, then let it finish
        while statuses(engine_runtime)[PLANNED] and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 0.5))
            victim = rng.randrange(len(workers))
            kill_hard(workers[victim])
            kills += 1
            workers[victim] = start_worker(worker_settings, fake_twilio)
        recovered = finish(engine_runtime, worker_settings, fake_twilio, workers)
    finally:
        for worker in workers:
            kill_hard(worker)
    counts = statuses(engine_runtime)
    report(
        "crash",
        nudges=count,
        kills=kills,
        recovered_before_hand_off=recovered["before_hand_off"],
        recovered_after_hand_off=recovered["after_hand_off"],
        sent_on_a_later_attempt=resent_after_recovery(engine_runtime),
        sent=counts["sent"],
        skipped=counts["skipped"],
        failed=counts["failed"],
        at_provider=len(fake_twilio.messages),
        duplicates=duplicates(fake_twilio),
        unfinished=counts[PLANNED] + counts[SENDING],
    )
    assert duplicates(fake_twilio) == 0
    assert sum(counts[s] for s in FINAL) == count
    # Each text at the provider is a row recorded as sent, or one a crash left unconfirmed
    # (failed, flagged, never re-sent): at most once, and nothing silently lost.
    assert counts["sent"] <= len(fake_twilio.messages) <= counts["sent"] + counts["failed"]


def test_redis_lost_mid_run_loses_nothing_and_doubles_nothing(
    settings, fake_twilio, specialist, app, tmp_path
):
    count = scaled(150, 1000)
    fake_twilio.latency = 0.05
    server = EmbeddedRedis(tmp_path / "lost-redis")
    url = server.start()
    runtime = build_runtime(twilio_settings(settings, fake_twilio, url))
    set_runtime(runtime)
    worker_settings = twilio_settings(settings, fake_twilio, url)
    workers = []
    try:
        enqueue_sends(runtime, plan_nudges(runtime, specialist, count))
        workers = [start_worker(worker_settings, fake_twilio) for _ in range(2)]
        assert wait_for(lambda: statuses(runtime)["sent"] >= count // 4, 60)
        server.stop()  # Redis goes away mid-run, and its data with it
        Path(server.directory / "redis.rdb").unlink(missing_ok=True)
        for worker in workers:
            kill_hard(worker)
        server.start()
        runtime.redis.connection_pool.reset()
        workers = [start_worker(worker_settings, fake_twilio) for _ in range(2)]
        recovered = finish(runtime, worker_settings, fake_twilio, workers)
        counts = statuses(runtime)
        later = resent_after_recovery(runtime)
    finally:
        for worker in workers:
            kill_hard(worker)
        runtime.close()  # last: a query after it would open a connection nobody closes
        server.stop()
    report(
        "redis_lost",
        nudges=count,
        recovered_before_hand_off=recovered["before_hand_off"],
        recovered_after_hand_off=recovered["after_hand_off"],
        sent_on_a_later_attempt=later,
        sent=counts["sent"],
        skipped=counts["skipped"],
        failed=counts["failed"],
        duplicates=duplicates(fake_twilio),
        unfinished=counts[PLANNED] + counts[SENDING],
    )
    assert duplicates(fake_twilio) == 0
    assert sum(counts[s] for s in FINAL) == count
    # Each text at the provider is a row recorded as sent, or one a crash left unconfirmed
    # (failed, flagged, never re-sent): at most once, and nothing silently lost.
    assert counts["sent"] <= len(fake_twilio.messages) <= counts["sent"] + counts["failed"]
