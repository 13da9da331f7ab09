"""Planner benchmark: plan a whole day for 100,000 peers; an idle tick over 1,000,000 schedules.

Baseline, in the same run and database: a bare bulk INSERT of the same nudge
rows (what planning costs if it did nothing but write them). Redis is left out
(runtime without REDIS_URL), so this measures the database side of planning.

Run: .venv/bin/python -m bench.planner [--peers 100000] [--idle-schedules 1000000]
     [--database-url postgresql+psycopg://...]   (a scratch database: tables are dropped)
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, text

from bench.common import header, runtime_for, scratch_settings, table
from service import db
from service.models import Base, Goal, OutboundMessage, Peer, Schedule, Specialist
from service.recurrence import next_occurrence, recurrence
from workers.planner import plan_due

DAY_START = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # midnight in New York
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]


def populate(runtime, peers: int, rng: random.Random, far_future: bool = False) -> int:
    """Insert peers with 1-3 daily schedules each (bulk, for set-up speed); return schedules."""
    engine = runtime.engine
    with engine.begin() as conn:
        conn.execute(
            insert(Specialist),
            [
                {
                    "email": "b@example.org",
                    "name": "B",
                    "password_hash": "x",
                    "role": "specialist",
                    "is_active": True,
                    "created_at": DAY_START,
                }
            ],
        )
        batch, schedules = 20_000, 0
        for first in range(0, peers, batch):
            ids = range(first + 1, min(peers, first + batch) + 1)
            conn.execute(insert(Peer), [peer_row(i) for i in ids])
            conn.execute(
                insert(Goal),
                [
                    {
                        "id": i,
                        "peer_id": i,
                        "text": "walk",
                        "position": 1,
                        "active": True,
                        "created_at": DAY_START,
                    }
                    for i in ids
                ],
            )
            rows = [schedule_row(i, rng, far_future) for i in ids for _ in range(rng.randint(1, 3))]
            conn.execute(insert(Schedule), rows)
            schedules += len(rows)
    return schedules


def peer_row(i: int) -> dict:
    return {
        "id": i,
        "specialist_id": 1,
        "phone": f"+1212{i:07d}",
        "display_name": f"P{i}",
        "timezone": ZONES[i % len(ZONES)],
        "language": "en",
        "consent": "opted_in",
        "encouragement": "2x-week",
        "created_at": DAY_START,
    }


def schedule_row(goal_id: int, rng: random.Random, far_future: bool) -> dict:
    at = f"{rng.randint(8, 19):02d}:{rng.choice(['00', '15', '30', '45'])}"
    zone = ZONES[goal_id % len(ZONES)]
    from zoneinfo import ZoneInfo

    due = next_occurrence(recurrence("daily", at), ZoneInfo(zone), DAY_START)
    if far_future:
        due += timedelta(days=365)
    return {
        "goal_id": goal_id,
        "kind": "checkin",
        "days": "daily",
        "times": at,
        "active": True,
        "next_due_at": due,
        "created_at": DAY_START,
    }


def bulk_insert_baseline(runtime) -> tuple[int, float]:
    """Insert one nudge row per due schedule, nothing else; return (rows, seconds)."""
    with runtime.session_factory() as session:
        due = session.execute(
            select(Schedule.id, Goal.peer_id, Schedule.next_due_at).join(
                Goal, Goal.id == Schedule.goal_id
            )
        ).all()
    rows = [
        {
            "peer_id": p,
            "to_phone": "+12120000000",
            "kind": "checkin",
            "schedule_id": s,
            "occurrence": due_at,
            "due_at": due_at,
            "status": "planned",
            "attempts": 0,
            "created_at": DAY_START,
            "updated_at": DAY_START,
        }
        for s, p, due_at in due
    ]
    started = time.perf_counter()
    with runtime.engine.begin() as conn:
        for first in range(0, len(rows), 5000):
            conn.execute(insert(OutboundMessage), rows[first : first + 5000])
    seconds = time.perf_counter() - started
    with runtime.engine.begin() as conn:
        conn.execute(delete(OutboundMessage))
    return len(rows), seconds


def plan_day(runtime) -> tuple[int, float]:
    started = time.perf_counter()
    planned = plan_due(runtime, DAY_START)
    return planned, time.perf_counter() - started


def idle_tick(runtime, repeats: int = 5) -> float:
    """Median seconds of a planner tick when nothing is due."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        assert plan_due(runtime, DAY_START) == 0
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def rate(count: int, seconds: float, what: str) -> str:
    return f"{count:,} {what} in {seconds:.1f} s = {count / seconds:,.0f}/s"


def reset(runtime, url: str) -> None:
    if url.startswith("postgresql"):
        Base.metadata.drop_all(runtime.engine)
        with runtime.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.upgrade(url)


def run(database_url: str | None, peers: int, idle_schedules: list[int]) -> list[dict]:
    rows = []
    overrides = {"database_url": database_url} if database_url else {}
    with scratch_settings(planner_lookahead_seconds=86_400, **overrides) as settings:
        runtime = runtime_for(settings)
        reset(runtime, settings.database_url)
        label = settings.database_url.split(":", 1)[0]
        schedules = populate(runtime, peers, random.Random(7))
        baseline_rows, baseline_s = bulk_insert_baseline(runtime)
        planned, plan_s = plan_day(runtime)
        rows.append(
            {
                "database": label,
                "measure": f"plan a day: {peers:,} peers, {schedules:,} schedules",
                "result": rate(planned, plan_s, "nudges"),
                "baseline (bare bulk INSERT)": rate(baseline_rows, baseline_s, "rows"),
            }
        )
        runtime.close()
    for count in idle_schedules:
        with scratch_settings(**overrides) as settings:
            runtime = runtime_for(settings)
            reset(runtime, settings.database_url)
            total = populate(runtime, count // 2, random.Random(11), far_future=True)
            tick = idle_tick(runtime)
            rows.append(
                {
                    "database": label,
                    "measure": f"idle tick, {total:,} schedules",
                    "result": f"{tick * 1000:.1f} ms",
                    "baseline (bare bulk INSERT)": "-",
                }
            )
            runtime.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=int, default=100_000)
    parser.add_argument("--idle-schedules", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL")
    args = parser.parse_args()
    header("Planner")
    if args.postgres:
        from service.pgtemp import TemporaryPostgres

        with TemporaryPostgres(durable=True) as url:
            table(run(url, args.peers, args.idle_schedules))
    else:
        table(run(args.database_url, args.peers, args.idle_schedules))


if __name__ == "__main__":
    main()
