"""Shared pieces for the benchmarks: a scratch instance, servers, signing, tables."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from twilio.request_validator import RequestValidator

from service import db
from service.models import Specialist
from service.passwords import hash_password
from service.peers import Enrolment, enrol_peer
from service.runtime import Runtime, build_runtime
from service.settings import Settings

AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://bench.peernudge.example"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> str:
    cpu = "unknown cpu"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}"


def header(title: str) -> None:
    print(f"# {title}")
    print(f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; machine: {machine()}")


def table(rows: list[dict[str, object]]) -> None:
    """Print rows as a Markdown table."""
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")


@contextmanager
def scratch_settings(**overrides: object) -> Iterator[Settings]:
    """A migrated SQLite database in a temporary instance folder."""
    with tempfile.TemporaryDirectory(prefix="peernudge-bench-") as directory:
        path = Path(directory)
        url = overrides.pop("database_url", None) or f"sqlite:///{path / 'bench.db'}"
        db.upgrade(str(url))
        values: dict[str, object] = {
            "redis_url": None,
            "secret_key": "bench-secret-key-0123456789",
            "twilio_auth_token": AUTH_TOKEN,
            "public_base_url": PUBLIC_BASE_URL,
        }
        yield Settings(instance_dir=path, database_url=str(url), **(values | overrides))  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process load these settings."""
    env = dict(os.environ)
    env.update(
        INSTANCE_DIR=str(settings.instance_dir),
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        LOG_LEVEL="WARNING",
    )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


def enrol_demo_peers(runtime: Runtime, count: int, prefix: str = "+1212555") -> list[str]:
    """Enrol ``count`` peers with one daily goal; return their phone numbers."""
    phones = [f"{prefix}{i:04d}" for i in range(count)]
    with db.transaction(runtime.session_factory) as session:
        owner = Specialist(
            email="bench@example.org", name="Bench", password_hash=hash_password("x")
        )
        session.add(owner)
        session.flush()
        for i, phone in enumerate(phones):
            enrolment = Enrolment(
                phone, f"Peer{i}", "take a walk", "daily", "09:00", "America/New_York"
            )
            enrol_peer(session, runtime.settings, owner, enrolment, runtime.now())
    return phones


def sign(path: str, form: dict[str, str]) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE_URL}{path}", form)


@contextmanager
def gunicorn(app: str, env: dict[str, str], workers: int = 2, threads: int = 4) -> Iterator[str]:
    """Serve a WSGI app on a free loopback port; yield its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError as error:
            if getattr(error, "code", None):  # an HTTP error still means it is up
                return
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def runtime_for(settings: Settings) -> Runtime:
    return build_runtime(settings)
