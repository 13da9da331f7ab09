"""The planner: turn due schedules into nudge rows, then queue their sends.

Each tick selects only schedules with ``next_due_at <= now + lookahead`` (an
indexed column), so its cost follows what is due, not how many peers there
are. A nudge row per occurrence is inserted under UNIQUE (schedule,
occurrence); a second planner running at the same moment inserts nothing new.
"""

from __future__ import annotations

import logging
import time as clock
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import metrics, report_rollup
from service.flags import refresh_flags
from service.inbound import requeue_waiting
from service.models import PLANNED, SKIPPED, Goal, OutboundMessage, Peer, Schedule
from service.queueing import enqueue_sends
from service.recurrence import next_occurrence, recurrence
from service.runtime import Runtime
from workers.alerts import escalate
from workers.digest import send_digests
from workers.reconciler import reconcile, requeue_planned

log = logging.getLogger(__name__)

BATCH_SIZE = 500
INSERT_CHUNK = 1000
FLAG_EVERY_TICKS = 60


def plan_due(runtime: Runtime, now: datetime | None = None) -> int:
    """One planner pass; return how many nudge rows it inserted."""
    now = now or runtime.now()
    horizon = now + timedelta(seconds=runtime.settings.planner_lookahead_seconds)
    total = 0
    while True:
        with runtime.session_factory() as session, session.begin():
            advanced, inserted = plan_batch(runtime, session, now, horizon)
        enqueue_sends(runtime, [(row, due) for row, due, status in inserted if status == PLANNED])
        count_planned(runtime, inserted)
        total += len(inserted)
        if advanced == 0:
            return total


def count_planned(runtime: Runtime, inserted: list[tuple[int, datetime, str]]) -> None:
    statuses = Counter(status for _row, _due, status in inserted)
    for status, number in statuses.items():
        metrics.count(runtime.redis, "peernudge_nudges_planned", number, status=status)
    if statuses[SKIPPED]:
        metrics.count(
            runtime.redis, "peernudge_nudges_skipped", statuses[SKIPPED], reason="missed_window"
        )


def due_schedules(session: Session, horizon: datetime) -> list:
    """Due schedules with what planning needs of their peer, oldest first, one batch."""
    query = (
        select(
            Schedule.id,
            Schedule.goal_id,
            Schedule.kind,
            Schedule.days,
            Schedule.times,
            Schedule.next_due_at,
            Peer.id.label("peer_id"),
            Peer.phone,
            Peer.timezone,
        )
        .join(Goal, Goal.id == Schedule.goal_id)
        .join(Peer, Peer.id == Goal.peer_id)
        .where(Schedule.active, Goal.active, Schedule.next_due_at <= horizon)
        .order_by(Schedule.next_due_at)
        .limit(BATCH_SIZE)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Schedule)
    return list(session.execute(query))


def plan_batch(
    runtime: Runtime, session: Session, now: datetime, horizon: datetime
) -> tuple[int, list[tuple[int, datetime, str]]]:
    """Insert rows for one batch of due schedules and advance them, in two statements.

    Returns how many schedules were advanced and the rows this planner inserted.
    """
    grace = timedelta(minutes=runtime.settings.missed_grace_minutes)
    schedules = due_schedules(session, horizon)
    rows, advances = [], []
    for schedule in schedules:
        rule, zone = recurrence(schedule.days, schedule.times), ZoneInfo(schedule.timezone)
        occurrence = schedule.next_due_at
        while occurrence <= horizon:
            status = SKIPPED if occurrence < now - grace else PLANNED
            rows.append(nudge_row(schedule, occurrence, status, now))
            occurrence = next_occurrence(rule, zone, occurrence)
        advances.append({"id": schedule.id, "next_due_at": occurrence})
    inserted = insert_nudges(session, rows)
    if advances:
        session.execute(update(Schedule), advances)
    return len(schedules), inserted


def nudge_row(schedule, occurrence: datetime, status: str, now: datetime) -> dict:
    return {
        "peer_id": schedule.peer_id,
        "to_phone": schedule.phone,
        "kind": schedule.kind,
        "schedule_id": schedule.id,
        "goal_id": schedule.goal_id,
        "occurrence": occurrence,
        "due_at": occurrence,
        "status": status,
        "skip_reason": "missed_window" if status == SKIPPED else None,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def insert_nudges(session: Session, rows: list[dict]) -> list[tuple[int, datetime, str]]:
    """Insert rows; those another planner already inserted are skipped by the constraint."""
    if not rows:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table, inserted = OutboundMessage.__table__, []
    for first in range(0, len(rows), INSERT_CHUNK):  # SQLite caps variables per statement
        statement = (
            insert(table)
            .values(rows[first : first + INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=["schedule_id", "occurrence"])
            .returning(table.c.id, table.c.due_at, table.c.status)
        )
        inserted += [(row.id, row.due_at, row.status) for row in session.execute(statement)]
    return inserted


def run_forever(runtime: Runtime, interval: int | None = None) -> None:
    """The planner loop: plan, reconcile, sleep until the next minute."""
    interval = interval or runtime.settings.planner_interval_seconds
    log.info("planner running every %ss", interval)
    # On start, queue everything already due (e.g. welcome texts planned while Redis was down).
    requeue_planned(runtime, runtime.now(), stale_after=timedelta(0))
    requeue_waiting(runtime, runtime.now(), stale_after=timedelta(0))
    ticks = 0
    while True:
        started = clock.monotonic()
        try:
            escalate(runtime)  # urgent alerts first: a person may be waiting
            send_digests(runtime)
            planned = plan_due(runtime)
            fixed = reconcile(runtime)
            if ticks % FLAG_EVERY_TICKS == 0:
                hourly(runtime)
            ticks += 1
            if planned or fixed:
                log.info("planner: %s nudges planned, %s reconciled", planned, fixed)
        except Exception:
            log.exception("planner pass failed; trying again next tick")
        clock.sleep(max(1.0, interval - (clock.monotonic() - started)))


def hourly(runtime: Runtime) -> int:
    """What changes slowly: silence and little progress flags, and the report's tallies
    for one more final day (a second or two at 100,000 peers, so alerts and nudges
    are never held up; ``peernudge rollup-reports`` catches up a backlog). Returns
    the days rolled up."""
    refresh_flags(runtime)
    return roll_up_reports(runtime, max_days=1)


def roll_up_reports(runtime: Runtime, max_days: int = report_rollup.CHUNK_DAYS) -> int:
    """Keep the program report's tallies for the next final days (``peernudge
    rollup-reports``); a run that loses the race for a day to another one writes nothing."""
    try:
        with runtime.session_factory() as session, session.begin():
            return report_rollup.roll_up(session, runtime.settings, runtime.now(), max_days)
    except IntegrityError:
        log.info("report roll-up: another planner took these days")
        return 0
