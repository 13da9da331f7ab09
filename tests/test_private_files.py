"""The instance folder and the files in it are readable by the service's user only."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from service import db
from service.demo import demo_password
from service.settings import load_settings


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """A login shell's 022, under which plain file creation is world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_sqlite_database_and_its_wal_and_shm_are_0600_in_a_0700_folder(tmp_path, usual_umask):
    instance = tmp_path / "new" / "instance"
    engine = db.make_engine(f"sqlite:///{instance / 'peernudge.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE phones (number TEXT)"))
        connection.execute(text("INSERT INTO phones VALUES ('+12125550134')"))
    names = ("peernudge.db", "peernudge.db-wal", "peernudge.db-shm", "peernudge.db.lock")
    with engine.connect():  # an open connection keeps the -wal and -shm files
        files = {name: mode(instance / name) for name in names}
    engine.dispose()
    assert files == dict.fromkeys(files, 0o600)
    assert (mode(tmp_path / "new"), mode(instance)) == (0o700, 0o700)


def test_the_secret_key_and_demo_password_are_created_private(tmp_path, usual_umask):
    instance = tmp_path / "instance"
    settings = load_settings({"INSTANCE_DIR": str(instance)})
    password = demo_password(settings)
    assert mode(instance) == 0o700
    assert (mode(instance / "secret_key"), mode(instance / "demo-password")) == (0o600, 0o600)
    assert load_settings({"INSTANCE_DIR": str(instance)}).secret_key == settings.secret_key
    assert demo_password(settings) == password
    assert [p.name for p in instance.iterdir() if p.name.endswith(".tmp")] == []


def test_an_instance_folder_an_older_version_left_open_is_closed(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    load_settings({"INSTANCE_DIR": str(instance)})
    assert mode(instance) == 0o700


def test_every_cli_command_runs_with_a_private_umask(tmp_path):
    """The CLI is the entry point of the worker, the planner and `peernudge dev`."""
    script = (
        "import os; from peernudge.cli import cli; "
        "cli.main(['db', 'upgrade'], standalone_mode=False); print(oct(os.umask(0)))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env["INSTANCE_DIR"] = str(tmp_path / "instance")
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, umask=0o022, capture_output=True, text=True
    )
    assert result.stdout.split()[-1] == "0o77", result.stderr
    assert mode(tmp_path / "instance" / "peernudge.db") == 0o600


def test_the_wsgi_entry_point_sets_a_private_umask(tmp_path, redis_url):
    script = "import os, peernudge.wsgi; print(oct(os.umask(0)))"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), REDIS_URL=redis_url)
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, umask=0o022, capture_output=True, text=True
    )
    assert result.stdout.split()[-1] == "0o77", result.stderr


def test_the_wsgi_entry_point_compiles_the_crisis_patterns_before_the_first_text(
    tmp_path, redis_url
):
    """The webhook reads each text for crisis words; a web process that compiled the
    patterns on its first text stalled that request (and the ones behind it)."""
    script = (
        "import peernudge.wsgi; from service.understanding.patterns import compiled; "
        "print(compiled.cache_info().currsize)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), REDIS_URL=redis_url)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert int(result.stdout.split()[-1]) >= 3, result.stderr  # [not], [clear], [possible]
