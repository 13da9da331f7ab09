import json
import logging

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from service import db
from service.logs import MaskingJsonFormatter, MaskingTextFormatter
from service.models import Base
from tests.conftest import TEST_DATABASE


def test_migrations_create_every_table_on_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    db.upgrade(url)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert db.migrations_current(db.make_engine(url))


def test_migrations_match_the_models(tmp_path):
    """A model change without a migration would make this fail."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'compare.db'}"
    db.upgrade(url)
    with create_engine(url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_downgrade_to_empty_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    db.upgrade(url)
    db.downgrade(url, "base")
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}
    db.upgrade(url)
    assert db.migrations_current(db.make_engine(url))


SECRET = "correct-horse-secret-value"


def failing_insert(database_url: str) -> IntegrityError:
    """The same row twice: a unique violation whose values are the secret."""
    engine = db.make_engine(database_url)
    insert = text(
        "INSERT INTO specialists (email, name, password_hash, timezone, role, is_active,"
        " created_at) VALUES (:e, :n, :p, 'UTC', 'specialist', true, CURRENT_TIMESTAMP)"
    )
    values = {"e": SECRET + "@example.org", "n": SECRET, "p": SECRET}
    try:
        with pytest.raises(IntegrityError) as error, engine.begin() as connection:
            connection.execute(insert, values)
            connection.execute(insert, values)
    finally:
        engine.dispose()
    return error.value


@pytest.mark.parametrize("formatter", [MaskingTextFormatter(), MaskingJsonFormatter()])
def test_a_failing_statement_logs_none_of_its_bound_parameters(settings, caplog, formatter):
    """Database errors end up in logs and tracebacks; their values must not."""
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    error = failing_insert(settings.database_url)
    record = logging.LogRecord("service", logging.ERROR, __file__, 1, "db", (), (
        type(error), error, error.__traceback__))  # fmt: skip
    logged = formatter.format(record)
    assert "INSERT INTO specialists" in logged
    assert SECRET not in logged
    assert "INSERT INTO specialists" in caplog.text  # the engine's own statement log
    assert SECRET not in caplog.text


def test_a_postgresql_detail_line_is_hidden_in_messages_too():
    message = "boom\nDETAIL:  Key (email)=(x@example.org) already exists.\nmore"
    record = logging.LogRecord(
        "service", logging.ERROR, __file__, 1, "failed: %s", (message,), None
    )
    text_line = MaskingTextFormatter().format(record)
    json_line = json.loads(MaskingJsonFormatter().format(record))["message"]
    for logged in (text_line, json_line):
        assert "x@example.org" not in logged
        assert logged.endswith("Key (email)=(values hidden)\nmore")


@pytest.mark.skipif(
    TEST_DATABASE != "postgresql",
    reason="a PostgreSQL setting; the PostgreSQL pass",
)
def test_postgresql_connections_do_not_compile_queries(database_url):
    """JIT compiling cost the program report more than it saved (bench/reports.py)."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SHOW jit")) == "off"
            connection.rollback()
        with engine.connect() as connection:  # a connection back from the pool keeps it
            assert connection.scalar(text("SHOW jit")) == "off"
    finally:
        engine.dispose()
