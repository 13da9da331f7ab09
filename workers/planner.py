"""The planner: turn due schedules into nudge rows, then queue their sends.

Each tick selects only schedules with ``next_due_at <= now + lookahead`` (an
indexed column), so its cost follows what is due, not how many peers there
are. A nudge row per occurrence is inserted under UNIQUE (schedule,
occurrence); a second planner running at the same moment inserts nothing new.
"""

from __future__ import annotations

import logging
import time as clock
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.models import PLANNED, SKIPPED, Goal, OutboundMessage, Peer, Schedule
from service.recurrence import next_occurrence, recurrence
from service.runtime import Runtime
from workers.enqueue import enqueue_sends

log = logging.getLogger(__name__)

BATCH_SIZE = 500
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
        total += len(inserted)
        if advanced == 0:
            return total


def due_schedules(session: Session, horizon: datetime) -> list[Schedule]:
    query = (
        select(Schedule)
        .join(Goal, Goal.id == Schedule.goal_id)
        .where(Schedule.active, Goal.active, Schedule.next_due_at <= horizon)
        .order_by(Schedule.next_due_at)
        .limit(BATCH_SIZE)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Schedule)
    return list(session.scalars(query))


def plan_batch(
    runtime: Runtime, session: Session, now: datetime, horizon: datetime
) -> tuple[int, list[tuple[int, datetime, str]]]:
    """Insert rows for one batch of due schedules and advance them.

    Returns how many schedules were advanced and the rows this planner inserted.
    """
    grace = timedelta(minutes=runtime.settings.missed_grace_minutes)
    inserted: list[tuple[int, datetime, str]] = []
    schedules = due_schedules(session, horizon)
    for schedule in schedules:
        goal = schedule.goal
        peer = session.get(Peer, goal.peer_id)
        zone = ZoneInfo(peer.timezone)
        rule = recurrence(schedule.days, schedule.times)
        while schedule.next_due_at is not None and schedule.next_due_at <= horizon:
            occurrence = schedule.next_due_at
            status = SKIPPED if occurrence < now - grace else PLANNED
            row_id = insert_nudge(session, schedule, peer, occurrence, status, now)
            if row_id is not None:
                inserted.append((row_id, occurrence, status))
            schedule.next_due_at = next_occurrence(rule, zone, occurrence)
    return len(schedules), inserted


def insert_nudge(
    session: Session, schedule: Schedule, peer: Peer, occurrence: datetime, status: str,
    now: datetime,
) -> int | None:  # fmt: skip
    """Insert one row for an occurrence; None when another planner already did."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {
        "peer_id": peer.id,
        "to_phone": peer.phone,
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
    statement = (
        insert(OutboundMessage.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["schedule_id", "occurrence"])
        .returning(OutboundMessage.__table__.c.id)
    )
    return session.execute(statement).scalar()


def run_forever(runtime: Runtime, interval: int | None = None) -> None:
    """The planner loop: plan, reconcile, sleep until the next minute."""
    from workers.reconciler import reconcile, requeue_planned

    interval = interval or runtime.settings.planner_interval_seconds
    log.info("planner running every %ss", interval)
    from service.flags import refresh_flags

    # On start, queue everything already due (e.g. welcome texts planned while Redis was down).
    requeue_planned(runtime, runtime.now(), stale_after=timedelta(0))
    ticks = 0
    while True:
        started = clock.monotonic()
        try:
            planned = plan_due(runtime)
            fixed = reconcile(runtime)
            if ticks % FLAG_EVERY_TICKS == 0:
                refresh_flags(runtime)  # silence and little progress change slowly
            ticks += 1
            if planned or fixed:
                log.info("planner: %s nudges planned, %s reconciled", planned, fixed)
        except Exception:
            log.exception("planner pass failed; trying again next tick")
        clock.sleep(max(1.0, interval - (clock.monotonic() - started)))
