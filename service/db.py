"""Database engine, sessions and migrations.

The engine is built by :func:`make_engine` in the app factory or a worker's
start-up, never at import. SQLite runs in WAL mode with a busy timeout so the
web app, the worker and the planner can share one file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from service.private_files import create_private_empty_file, private_dir

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine for the URL; SQLite gets the pragmas concurrent processes need.

    Bound parameters are message bodies, goals, password and token hashes: an
    error (and its traceback in a log) names the statement but never its values.
    """
    kwargs.setdefault("hide_parameters", True)
    if database_url.startswith("sqlite"):
        _ensure_sqlite_dir(database_url)
        engine = create_engine(
            database_url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        _serialize_sqlite_transactions(engine, database_url)
        return engine
    engine = create_engine(database_url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "connect", _postgresql_settings)
    return engine


def _postgresql_settings(dbapi_connection: Any, _record: Any) -> None:
    """No JIT compilation: the service's statements are short, and on the program
    report's aggregates at 100,000 peers compiling took longer than running
    (2.5 s of a 3.1 s query; bench/reports.py)."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


def _ensure_sqlite_dir(database_url: str) -> None:
    """A new database file is created 0600 in a 0700 folder, before SQLite opens it:
    SQLite gives its -wal and -shm files the database file's mode."""
    path = _sqlite_path(database_url)
    if path is not None and not path.startswith("file:"):
        path = path.split("?", 1)[0]
        private_dir(Path(path).parent)
        create_private_empty_file(Path(path))


def _serialize_sqlite_transactions(engine: Engine, database_url: str) -> None:
    """One SQLite write transaction at a time, across threads and processes.

    pysqlite's own BEGIN defers locks, so a read-then-write transaction could
    deadlock against another writer: BEGIN IMMEDIATE takes the lock up front.
    Waiters queue on locks that wake them the moment the holder commits (a
    Python lock between threads, ``flock`` on a file next to the database
    between processes) instead of on SQLite's busy handler, whose growing
    sleeps add tens to hundreds of milliseconds when web, worker and planner
    processes write at once.
    """
    lock = threading.RLock()
    file_lock = FileLock(_sqlite_path(database_url))

    def begin(conn: Any) -> None:
        lock.acquire()
        try:
            file_lock.acquire()
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            file_lock.release()
            lock.release()
            raise

    def end(conn: Any) -> None:
        with contextlib.suppress(RuntimeError):  # released already (the BEGIN itself failed)
            file_lock.release()
            lock.release()

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)


class FileLock:
    """An exclusive ``flock`` on ``<database>.lock``, opened once per process.

    flock belongs to an open file, which a forked child (an RQ work horse) would
    share with its parent, so the file is opened again in each new process.
    The caller's thread lock makes sure one thread per process holds it.
    """

    def __init__(self, database_path: str | None) -> None:
        self.path = f"{database_path}.lock" if database_path else None
        self.fd: int | None = None
        self.pid = 0
        self.depth = 0  # the thread lock is re-entrant, so this is too

    def acquire(self) -> None:
        if self.path is None:
            return
        if self.pid != os.getpid():
            self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            self.depth = 0
        if self.depth == 0:
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # type: ignore[arg-type]
        self.depth += 1

    def release(self) -> None:
        if self.depth > 0 and self.pid == os.getpid():
            self.depth -= 1
            if self.depth == 0:
                fcntl.flock(self.fd, fcntl.LOCK_UN)  # type: ignore[arg-type]


def _sqlite_path(database_url: str) -> str | None:
    path = database_url.split(":///", 1)[-1]
    return None if not path or path == ":memory:" else path


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see make_engine).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


def insert_skipping_duplicates(
    bind: Connection | Session, table: Table, rows: list[dict], unique: list[str]
) -> list[int]:
    """INSERT rows, skipping those a unique constraint on ``unique`` already holds;
    the ids of the rows inserted. One statement on SQLite and on PostgreSQL."""
    dialect = bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(table).values(rows).on_conflict_do_nothing(index_elements=unique)
        .returning(table.c.id)
    )  # fmt: skip
    return list(bind.scalars(statement))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def migrations_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == set(script.get_heads())
