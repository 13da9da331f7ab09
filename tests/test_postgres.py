"""The same code on PostgreSQL: migrations, the planner's SKIP LOCKED race, conversation, sending.

Runs against PEERNUDGE_TEST_POSTGRES_URL when set, else a throwaway server
started from the Debian postgresql package; skipped (with the reason) when
neither is available. CI installs postgresql, so these run there.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, inspect, select, update

from service import create_app, db
from service.models import Base, CheckIn, ConsentEvent, OutboundMessage, Schedule
from service.runtime import build_runtime, set_runtime
from tests.conftest import enrol, make_specialist
from tests.inbound_worker import post_text
from tests.signing import inbound_form
from workers.planner import plan_due
from workers.sender import send_message

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(settings, pg_url, clock):
    db.upgrade(pg_url)
    app = create_app(settings.with_overrides(database_url=pg_url))
    app.config.update(TESTING=True)
    runtime = app.extensions["peernudge"]
    runtime.now = clock
    set_runtime(runtime)
    yield app
    set_runtime(None)
    runtime.close()


def tables_and_current(url: str) -> tuple[set[str], bool]:
    engine = db.make_engine(url)
    try:
        return set(inspect(engine).get_table_names()), db.migrations_current(engine)
    finally:
        engine.dispose()


def report_indexes(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        found = inspect(engine)
        tables = ("outbound_messages", "check_ins", "moods")
        return {i["name"] for t in tables for i in found.get_indexes(t)}
    finally:
        engine.dispose()


def test_migrations_up_from_empty_down_step_by_step_and_up_again(pg_url):
    db.upgrade(pg_url)
    tables, current = tables_and_current(pg_url)
    assert set(Base.metadata.tables) <= tables and current
    assert {"ix_outbound_due", "ix_check_in_day_peer", "ix_mood_day"} <= report_indexes(pg_url)
    db.downgrade(pg_url, "-1")  # 0004: the answer-day indexes
    assert "ix_check_in_day" in report_indexes(pg_url)
    assert not {"ix_check_in_day_peer", "ix_mood_day"} & report_indexes(pg_url)
    db.downgrade(pg_url, "-1")  # 0003: the kept habit strengths
    tables, current = tables_and_current(pg_url)
    assert "habit_strengths" not in tables and "report_tallies" in tables and not current
    db.downgrade(pg_url, "-1")  # 0002: the report's range indexes
    tables, current = tables_and_current(pg_url)
    assert "peers" in tables and not current
    assert not {"ix_outbound_due", "ix_check_in_day"} & report_indexes(pg_url)
    db.downgrade(pg_url, "-1")  # 0001: everything
    tables, current = tables_and_current(pg_url)
    assert "peers" not in tables and not current
    db.upgrade(pg_url)
    assert tables_and_current(pg_url)[1]


def test_two_planners_racing_with_skip_locked_plan_each_occurrence_once(pg_app, clock):
    runtime = pg_app.extensions["peernudge"]
    owner = make_specialist(runtime, "jordan@example.org", "Jordan Rivera")
    for i in range(60):
        enrol(runtime, owner, phone=f"+1212555{i:04d}")
    with runtime.session_factory() as session, session.begin():
        session.execute(update(Schedule).values(next_due_at=clock.current))
    planners = [build_runtime(runtime.settings) for _ in range(2)]
    barrier, counts = threading.Barrier(2), []

    def run(planner):
        barrier.wait()
        counts.append(plan_due(planner, clock.current))

    threads = [threading.Thread(target=run, args=(p,)) for p in planners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with runtime.session_factory() as session:
        rows = session.scalar(select(func.count()).where(OutboundMessage.kind == "checkin"))
    assert rows == sum(counts) == 60
    for planner in planners:
        planner.close()


def test_conversation_and_sending_on_postgres(pg_app, clock):
    runtime = pg_app.extensions["peernudge"]
    client = pg_app.test_client()
    clock.set(clock.current.replace(hour=16))
    owner = make_specialist(runtime, "jordan@example.org", "Jordan Rivera")
    enrol(runtime, owner)
    with runtime.session_factory() as session:
        welcome = session.scalar(select(OutboundMessage.id))
    assert send_message(runtime, welcome) == "sent"
    assert send_message(runtime, welcome) == "not-planned"
    for sid, body in (
        ("SM" + "1" * 32, "DONE"),
        ("SM" + "1" * 32, "DONE"),
        ("SM" + "2" * 32, "STOP"),
    ):
        assert post_text(client, inbound_form(body, sid=sid)).status_code == 200
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count(CheckIn.id))) == 1
        kinds = session.scalars(select(ConsentEvent.kind).order_by(ConsentEvent.id)).all()
    assert kinds == ["opt_in", "opt_out"]


def test_a_text_that_loses_a_race_for_another_row_is_handled_again_not_dropped(pg_app):
    """On PostgreSQL two texts from one peer really run at once; the loser must not be lost.

    The test holds an uncommitted transaction that creates the peer's rotation rows,
    so the reply's own insert waits on it and then fails with a unique violation.
    """
    from service.conversation import handle_next
    from service.inbound import IncomingSms, store
    from service.messages import TEMPLATES_DIR
    from service.models import InboundMessage, MessageRotation

    runtime = pg_app.extensions["peernudge"]
    peer_id = enrol(runtime, make_specialist(runtime, "jordan@example.org", "Jordan"))
    with runtime.session_factory() as session:
        used = set(session.scalars(select(MessageRotation.kind)))
    kinds = [p.name for p in (TEMPLATES_DIR / "en").iterdir() if p.is_dir() and p.name not in used]
    answers: list = []
    with runtime.session_factory() as blocker, blocker.begin():
        blocker.add_all(
            MessageRotation(peer_id=peer_id, kind=kind, last_variant="1") for kind in kinds
        )
        blocker.flush()
        sms = IncomingSms("SM" + "7" * 32, "+12125550134", "+15005550006", "DONE")
        store(runtime, sms)
        thread = threading.Thread(
            target=lambda: answers.append(handle_next(runtime, sms.from_phone))
        )
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive(), "the text should be waiting on the uncommitted rows"
    thread.join(timeout=30)

    assert answers and answers[0] is not None and answers[0].reply_id is not None
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count(InboundMessage.id))) == 1
        assert session.scalar(select(InboundMessage.reply_body))
        assert session.scalar(select(func.count(CheckIn.id))) == 1
