"""The same code on PostgreSQL: migrations, the planner's SKIP LOCKED race, conversation, sending.

Runs against PEERNUDGE_TEST_POSTGRES_URL when set, else a throwaway server
started from the Debian postgresql package; skipped (with the reason) when
neither is available. CI installs postgresql, so these run there.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, inspect, select, text, update

from service import create_app, db
from service.models import Base, CheckIn, ConsentEvent, OutboundMessage, Schedule
from service.pgtemp import TemporaryPostgres, pg_bin
from service.runtime import build_runtime, set_runtime
from tests.conftest import enrol, make_specialist
from tests.signing import inbound_form, signed_post
from workers.planner import plan_due
from workers.sender import send_message

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    url = os.environ.get("PEERNUDGE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if pg_bin() is None:
        pytest.skip(
            "PostgreSQL tests skipped: no server binaries (apt-get install postgresql) "
            "and PEERNUDGE_TEST_POSTGRES_URL is not set"
        )
    with TemporaryPostgres() as started:
        yield started


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for this test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


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


def test_migrations_up_from_empty_down_one_step_and_up_again(pg_url):
    db.upgrade(pg_url)
    tables, current = tables_and_current(pg_url)
    assert set(Base.metadata.tables) <= tables and current
    db.downgrade(pg_url, "-1")
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
        assert signed_post(client, "/sms/inbound", inbound_form(body, sid=sid)).status_code == 200
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count(CheckIn.id))) == 1
        kinds = session.scalars(select(ConsentEvent.kind).order_by(ConsentEvent.id)).all()
    assert kinds == ["opt_in", "opt_out"]
