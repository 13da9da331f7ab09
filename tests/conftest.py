"""Shared fixtures: a real Valkey server for the session, a fresh SQLite per test.

Nothing of our own is mocked. The clock is injectable (``clock``), Twilio is
faked only at its HTTP edge (``tests/fake_twilio.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis

from service import create_app, db
from service.models import Specialist
from service.passwords import hash_password
from service.redis_server import EmbeddedRedis
from service.runtime import Runtime, set_runtime
from service.settings import Settings

pytest_plugins = ["tests.twilio_fixtures", "tests.postgres_fixtures", "tests.smtp_server"]

TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://peernudge.example.org"


@dataclass
class Clock:
    """A settable clock the runtime reads instead of the wall clock."""

    current: datetime = field(default_factory=lambda: datetime(2026, 6, 15, 16, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("valkey"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    connection = Redis.from_url(redis_server.url)
    connection.flushall()
    connection.close()
    yield redis_server.url


# PEERNUDGE_TEST_DATABASE=postgresql runs the tests on PostgreSQL (CI does both passes).
TEST_DATABASE = os.environ.get("PEERNUDGE_TEST_DATABASE", "sqlite")
# Modules that touch no database (the reader, the templates, pure helpers) run in the
# SQLite pass only: the PostgreSQL pass deselects them rather than repeat them.
DATABASE_FREE = {
    "test_architecture", "test_makefile", "test_passwords", "test_phones",
    "test_request_input", "test_templates", "test_understanding",
    "test_understanding_commands", "test_understanding_corpus", "test_understanding_model",
}  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DATABASE == "sqlite":
        return
    repeated = [item for item in items if item.module.__name__.rsplit(".", 1)[-1] in DATABASE_FREE]
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = [item for item in items if item not in repeated]


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database for the test: SQLite, or PostgreSQL when selected."""
    if TEST_DATABASE == "postgresql":
        return request.getfixturevalue("migrated_pg_url")
    url = f"sqlite:///{tmp_path / 'test.db'}"
    db.upgrade(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, database_url: str) -> Settings:
    return Settings(
        instance_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-key-not-for-production",
        twilio_auth_token=TEST_AUTH_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        program_name="Wellness Line",
        login_rate_limit=False,
        sms_max_per_second=1000.0,  # the rate limiter has its own tests; do not slow the rest
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, clock: Clock):
    app = create_app(settings)
    app.config.update(TESTING=True)
    runtime: Runtime = app.extensions["peernudge"]
    runtime.now = clock  # type: ignore[method-assign]
    set_runtime(runtime)
    yield app
    set_runtime(None)
    runtime.close()


@pytest.fixture
def make_app() -> Iterator:
    """Build extra apps (other settings) in a test; each is closed afterwards."""
    apps = []

    def build(settings: Settings):
        apps.append(create_app(settings))
        return apps[-1]

    yield build
    for built in apps:
        built.extensions["peernudge"].close()


@pytest.fixture
def runtime(app) -> Runtime:
    return app.extensions["peernudge"]


@pytest.fixture
def client(app):
    return app.test_client()


def make_specialist(runtime: Runtime, email: str, name: str, role: str = "specialist") -> int:
    with db.transaction(runtime.session_factory) as session:
        person = Specialist(
            email=email, name=name, password_hash=hash_password("correct horse battery"), role=role
        )
        session.add(person)
        session.flush()
        return person.id


@pytest.fixture
def specialist(runtime: Runtime) -> int:
    """The owner of the peers in a test: Jordan."""
    return make_specialist(runtime, "jordan@example.org", "Jordan Rivera")


@pytest.fixture
def outsider(runtime: Runtime) -> int:
    """Another program's specialist, who must see none of Jordan's peers."""
    return make_specialist(runtime, "casey@example.org", "Casey Morgan")


def sign_in(client, email: str = "jordan@example.org", password: str = "correct horse battery"):
    """Sign in through the real login form, CSRF token and all."""
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    token = token.split('"')[0]
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def enrol(
    runtime: Runtime,
    specialist_id: int,
    phone: str = "+12125550134",
    name: str = "Sam",
    goal: str = "take a 20 minute walk",
    days: str = "daily",
    times: str = "09:00",
    tz: str | None = "America/New_York",
    language: str = "en",
    encouragement: str = "off",
    summary_day: str = "off",
) -> int:
    """Enrol a peer through the same code path the CLI and dashboard use.

    Encouragement and the weekly summary are off unless a test asks, so a test
    sees only the check-in schedule it is about.
    """
    from service.peers import Enrolment, enrol_peer

    with db.transaction(runtime.session_factory) as session:
        owner = session.get(Specialist, specialist_id)
        peer = enrol_peer(
            session,
            runtime.settings,
            owner,
            Enrolment(
                phone,
                name,
                goal,
                days,
                times,
                tz,
                language,
                encouragement=encouragement,
                summary_day=summary_day,
            ),
            runtime.now(),
        )
        return peer.id


@pytest.fixture
def peer(runtime: Runtime, specialist: int) -> int:
    """Sam, enrolled by Jordan, New York, daily check-in at 09:00."""
    return enrol(runtime, specialist)
