"""Two years of daily and weekly schedules across ten time zones, through the planner.

Every occurrence must be planned exactly once, at the chosen local wall time,
across every daylight-saving change in between.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from service import db
from service.models import Goal, OutboundMessage, Schedule
from service.peers import add_schedule
from service.recurrence import parse_days
from service.runtime import build_runtime
from tests.conftest import enrol
from tests.reliability.scale import report, scaled
from workers.planner import plan_due

ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Santiago",
    "America/Havana",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Casablanca",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
]
START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(hours=6)


def expected_dates(zone: ZoneInfo, weekdays: set[int], first: date, last: date) -> list[date]:
    days = (last - first).days + 1
    return [d for d in (first + timedelta(n) for n in range(days)) if d.weekday() in weekdays]


def test_two_years_of_schedules_fire_once_per_local_occurrence(settings, specialist):
    days = scaled(730, 730)
    sweep = build_runtime(settings.with_overrides(redis_url=None, planner_lookahead_seconds=21_600))
    now = START
    sweep.now = lambda: now  # type: ignore[method-assign]
    for i, zone in enumerate(ZONES):
        peer = enrol(sweep, specialist, phone=f"+1212555{i:04d}", tz=zone, times="09:00")
        with db.transaction(sweep.session_factory) as session:
            goal = session.scalar(select(Goal).where(Goal.peer_id == peer))
            anytime = (datetime.min.time(), datetime.max.time())
            add_schedule(session, goal, "mon", "19:45", zone, now, anytime)
    end = START + timedelta(days=days)
    while now < end:
        plan_due(sweep, now)
        now += STEP
    with sweep.session_factory() as session:
        rows = session.execute(
            select(Schedule, OutboundMessage.occurrence).join(
                OutboundMessage, OutboundMessage.schedule_id == Schedule.id
            )
        ).all()
        schedules = {s.id: s for s, _ in rows}
        zones = {s.id: s.goal.peer.timezone for s in schedules.values()}
    sweep.close()
    by_schedule: dict[int, list[datetime]] = {}
    for schedule, occurrence in rows:
        by_schedule.setdefault(schedule.id, []).append(occurrence)
    problems = 0
    for schedule_id, occurrences in by_schedule.items():
        zone = ZoneInfo(zones[schedule_id])
        schedule = schedules[schedule_id]
        local = [o.astimezone(zone) for o in occurrences]
        wall = {t.strftime("%H:%M") for t in local}
        duplicates = [d for d, n in Counter(t.date() for t in local).items() if n > 1]
        weekdays = set(parse_days(schedule.days)[1])
        first = START.astimezone(zone).date() + timedelta(days=1)
        last = (end - timedelta(days=1)).astimezone(zone).date()
        expected = expected_dates(zone, weekdays, first, last)
        got = sorted({t.date() for t in local if first <= t.date() <= last})
        assert wall == {schedule.times}, (zones[schedule_id], wall)
        assert not duplicates, (zones[schedule_id], duplicates[:3])
        assert got == expected, (zones[schedule_id], set(expected) ^ set(got))
        problems += len(duplicates)
    report("dst_sweep", zones=len(ZONES), days=days, nudges=len(rows), duplicates=problems)
    sweep.close()
