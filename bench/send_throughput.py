"""Send throughput: nudges/s from planned to sent, through RQ and the real twilio client.

The provider is a local Twilio-compatible server that answers after 200 ms.
Baselines in the same run: the ceiling (requests in flight / 0.2 s) and a plain
loop of the twilio client with the same concurrency and no queue or database.

Run: .venv/bin/python -m bench.send_throughput [--nudges 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.common import header, runtime_for, scratch_settings, settings_env, table
from service.gateways.twilio import TwilioGateway
from service.models import PLANNED, Goal, OutboundMessage, Peer, Schedule, Specialist
from service.pgtemp import TemporaryPostgres
from service.queueing import enqueue_sends
from service.redis_server import EmbeddedRedis
from tests.daytime import daytime_zone
from tests.fake_twilio import FakeTwilio
from workers.sender import BATCH_THREADS

LATENCY = 0.2
FROM = "+15005550006"


def plan_rows(runtime, count: int) -> list[tuple[int, datetime]]:
    now = datetime.now(UTC)
    zone = daytime_zone(now)
    with runtime.engine.begin() as conn:
        conn.execute(
            insert(Specialist),
            [
                {
                    "id": 1,
                    "email": "b@x.org",
                    "name": "B",
                    "password_hash": "x",
                    "role": "specialist",
                    "is_active": True,
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            insert(Peer),
            [
                {
                    "id": i,
                    "specialist_id": 1,
                    "phone": f"+1212{i:07d}",
                    "display_name": f"P{i}",
                    "timezone": zone,
                    "language": "en",
                    "consent": "opted_in",
                    "encouragement": "off",
                    "created_at": now,
                }
                for i in range(1, count + 1)
            ],
        )
        conn.execute(
            insert(Goal),
            [
                {
                    "id": i,
                    "peer_id": i,
                    "text": "take a walk",
                    "position": 1,
                    "active": True,
                    "created_at": now,
                }
                for i in range(1, count + 1)
            ],
        )
        # Each goal asks through a check-in schedule; one without any counts as paused.
        conn.execute(
            insert(Schedule),
            [
                {"goal_id": i, "kind": "checkin", "days": "daily", "times": "09:00",
                 "active": True, "next_due_at": now + timedelta(days=1), "created_at": now}
                for i in range(1, count + 1)
            ],
        )  # fmt: skip
        conn.execute(
            insert(OutboundMessage),
            [
                {
                    "peer_id": i,
                    "to_phone": f"+1212{i:07d}",
                    "kind": "checkin",
                    "goal_id": i,
                    "due_at": now,
                    "status": PLANNED,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, count + 1)
            ],
        )
    with runtime.session_factory() as session:
        return [
            (row.id, row.due_at)
            for row in session.execute(select(OutboundMessage.id, OutboundMessage.due_at))
        ]


def sent_count(runtime) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).where(OutboundMessage.status == "sent"))


def pipeline(
    count: int, workers: int, fake: FakeTwilio, redis_url: str, database_url: str | None
) -> tuple[float, int]:
    extra = {"database_url": database_url} if database_url else {}
    with scratch_settings(
        **extra,
        redis_url=redis_url,
        sms_gateway="twilio",
        twilio_account_sid="AC" + "1" * 32,
        twilio_from_number=FROM,
        twilio_api_base_url=fake.url,
        sms_max_per_second=10_000.0,
    ) as settings:
        runtime = runtime_for(settings)
        rows = plan_rows(runtime, count)
        env = settings_env(settings) | {
            "SMS_GATEWAY": "twilio",
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_FROM_NUMBER": FROM,
            "TWILIO_API_BASE_URL": fake.url,
            "SMS_MAX_PER_SECOND": "10000",
        }
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "peernudge.cli", "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        time.sleep(3)  # let the workers start before the clock does
        started = time.perf_counter()
        enqueue_sends(runtime, rows)
        while sent_count(runtime) < count and time.perf_counter() - started < 600:
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        done = sent_count(runtime)
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        runtime.close()
    return elapsed, done


def plain_loop(count: int, concurrency: int, fake: FakeTwilio) -> float:
    with scratch_settings(
        sms_gateway="twilio",
        twilio_account_sid="AC" + "1" * 32,
        twilio_from_number=FROM,
        twilio_api_base_url=fake.url,
    ) as settings:
        gateway = TwilioGateway(settings)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(
                pool.map(
                    lambda i: gateway.send_sms(f"+1313{i:07d}", "Hi, checking in.", None),
                    range(count),
                )
            )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nudges", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    header(f"Send throughput: provider answers after {LATENCY * 1000:.0f} ms")
    in_flight = args.workers * BATCH_THREADS
    fake = FakeTwilio(latency=LATENCY).start()
    with tempfile.TemporaryDirectory() as directory:
        server = EmbeddedRedis(Path(directory))
        try:
            redis_url = server.start()
            if args.database == "postgres":
                with TemporaryPostgres(durable=True) as database_url:
                    elapsed, done = pipeline(
                        args.nudges, args.workers, fake, redis_url, database_url
                    )
            else:
                elapsed, done = pipeline(args.nudges, args.workers, fake, redis_url, None)
        finally:
            server.stop()
    loop_elapsed = plain_loop(args.nudges, in_flight, fake)
    fake.stop()
    ours, loop = done / elapsed, args.nudges / loop_elapsed
    table(
        [
            {
                "path": f"PeerNudge on {args.database}: planned -> sent "
                f"({args.workers} RQ workers x {BATCH_THREADS} threads)",
                "nudges": done,
                "seconds": f"{elapsed:.1f}",
                "nudges/s": f"{ours:.0f}",
            },
            {
                "path": f"baseline: plain twilio client loop, {in_flight} threads, no queue or DB",
                "nudges": args.nudges,
                "seconds": f"{loop_elapsed:.1f}",
                "nudges/s": f"{loop:.0f}",
            },
            {
                "path": f"ceiling: {in_flight} requests in flight / {LATENCY} s",
                "nudges": "-",
                "seconds": "-",
                "nudges/s": f"{in_flight / LATENCY:.0f}",
            },
        ]
    )
    print(f"\nPeerNudge / plain loop: {ours / loop:.2f} (target >= 0.7); target >= 100 nudges/s")


if __name__ == "__main__":
    main()
