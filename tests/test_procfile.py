"""Every Procfile target names something that imports and starts."""

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.test_launcher import free_port, healthy, wait_for

ROOT = Path(__file__).resolve().parent.parent


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_procfile_has_web_workers_and_planner():
    assert set(procfile()) == {"web", "worker", "replies", "planner"}
    assert procfile()["replies"].endswith("worker --replies")  # texts never wait behind nudges


def start(command: str, env: dict[str, str]) -> subprocess.Popen:
    """Run a target as Procfile runners do: through a shell, with the venv on PATH."""
    return subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_each_procfile_target_starts_and_keeps_running(tmp_path, redis_url):
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "REDIS_URL": redis_url}
    env["PORT"] = str(port := free_port())
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'procfile.db'}"
    from service import db

    db.upgrade(env["DATABASE_URL"])
    processes = {name: start(command, env) for name, command in procfile().items()}
    try:
        assert wait_for(lambda: healthy(port)), "web never answered /healthz"
        time.sleep(1)
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited: {process.stdout.read()}"
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=20)
            process.stdout.close()
