"""A PostgreSQL server for the tests that need one, and a fresh database per test.

PEERNUDGE_TEST_POSTGRES_URL names a server to use; otherwise a throwaway one is
started from the Debian postgresql package; without either the tests that ask
for it are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from service import db
from service.db import make_engine
from service.pgtemp import TemporaryPostgres, pg_bin


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


def database_on(server: str, name: str) -> str:
    return server.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def scratch_database(server: str, template: str | None = None) -> Iterator[str]:
    """A new database on the server (a copy of ``template`` if given), dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        yield database_on(server, name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for this test."""
    with scratch_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_template(postgres_server: str) -> Iterator[str]:
    """A database with the schema applied once, for tests to copy (much faster than migrating)."""
    with scratch_database(postgres_server) as url:
        db.upgrade(url)
        make_engine(url).dispose()
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def migrated_pg_url(postgres_server: str, migrated_template: str) -> Iterator[str]:
    """A fresh database with the current schema."""
    with scratch_database(postgres_server, template=migrated_template) as url:
        yield url
