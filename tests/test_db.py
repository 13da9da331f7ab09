from sqlalchemy import create_engine, inspect

from service import db
from service.models import Base


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
