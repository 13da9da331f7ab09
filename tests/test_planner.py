"""The planner: one row per occurrence, safe to run twice, catches up honestly."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError

from service.models import PLANNED, SKIPPED, OutboundMessage, Schedule
from service.runtime import build_runtime
from tests.conftest import enrol
from workers.planner import plan_due


def due_at_nine(runtime, clock) -> None:
    """Sam's next check-in: 09:00 New York today (13:00 UTC); the clock just before it."""
    with runtime.session_factory() as session, session.begin():
        session.execute(update(Schedule).values(next_due_at=clock.current.replace(hour=13)))
    clock.set(clock.current.replace(hour=12, minute=59))


def checkins(runtime) -> list[OutboundMessage]:
    with runtime.session_factory() as session:
        return session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.kind == "checkin")
            .order_by(OutboundMessage.occurrence)
        ).all()


def test_each_occurrence_becomes_one_planned_row_and_the_schedule_advances(runtime, peer, clock):
    due_at_nine(runtime, clock)
    assert plan_due(runtime, clock.current) == 1
    (row,) = checkins(runtime)
    assert (row.status, row.occurrence) == (PLANNED, clock.current.replace(hour=13, minute=0))
    with runtime.session_factory() as session:
        assert session.scalar(select(Schedule.next_due_at)) == row.occurrence + timedelta(days=1)
    assert plan_due(runtime, clock.current) == 0  # nothing new until tomorrow


def test_nothing_is_planned_before_it_is_within_the_lookahead(runtime, peer, clock):
    clock.set(clock.current.replace(hour=10))  # 06:00 in New York, three hours early
    assert plan_due(runtime, clock.current) == 0
    assert checkins(runtime) == []


def test_two_planners_racing_insert_each_occurrence_once(settings, runtime, specialist, clock):
    for i in range(40):
        enrol(runtime, specialist, phone=f"+1212555{i:04d}")
    with runtime.session_factory() as session, session.begin():
        session.execute(update(Schedule).values(next_due_at=clock.current))
    planners = [build_runtime(settings) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run(planner_runtime):
        barrier.wait()
        results.append(plan_due(planner_runtime, clock.current))

    threads = [threading.Thread(target=run, args=(p,)) for p in planners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = checkins(runtime)
    assert len(rows) == 40 == sum(results)
    assert len({(r.schedule_id, r.occurrence) for r in rows}) == 40
    for planner_runtime in planners:
        planner_runtime.close()


def test_the_unique_constraint_refuses_a_second_row_for_an_occurrence(runtime, peer, clock):
    due_at_nine(runtime, clock)
    plan_due(runtime, clock.current)
    (row,) = checkins(runtime)
    with pytest.raises(IntegrityError), runtime.session_factory() as session, session.begin():
        session.add(
            OutboundMessage(
                peer_id=row.peer_id,
                to_phone=row.to_phone,
                kind="checkin",
                schedule_id=row.schedule_id,
                occurrence=row.occurrence,
            )
        )
    assert len(checkins(runtime)) == 1


def test_a_planner_down_for_hours_records_missed_occurrences_and_does_not_send_them(
    runtime, peer, clock
):
    with runtime.session_factory() as session, session.begin():
        session.execute(update(Schedule).values(times="09:00,10:00,11:00,14:00"))
        session.execute(update(Schedule).values(next_due_at=clock.current.replace(hour=13)))
    clock.set(clock.current.replace(hour=15, minute=20))  # 11:20 in New York: down since 09:00
    plan_due(runtime, clock.current)
    outcome = {r.occurrence.hour: (r.status, r.skip_reason) for r in checkins(runtime)}
    assert outcome == {
        13: (SKIPPED, "missed_window"),  # 09:00, 2h20 late
        14: (SKIPPED, "missed_window"),  # 10:00, 1h20 late
        15: (PLANNED, None),  # 11:00, 20 minutes late: inside the 30-minute grace
    }


def test_a_tick_touches_only_due_schedules(runtime, specialist, clock, settings):
    for i in range(30):
        enrol(runtime, specialist, phone=f"+1212555{i:04d}")
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", record)
    clock.set(clock.current.replace(hour=10))  # nothing due for hours
    assert plan_due(runtime, clock.current) == 0
    event.remove(runtime.engine, "before_cursor_execute", record)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1  # one indexed query, whatever the number of peers
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count(Schedule.id))) == 30
