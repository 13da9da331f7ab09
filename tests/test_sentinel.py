"""Redis through Sentinel: the processes find the master by asking the sentinels."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from service import create_app
from service.doctor import diagnose
from service.redis_server import server_binary
from service.runtime import build_runtime


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_ping(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            with Redis(port=port, socket_connect_timeout=0.5) as connection:
                if connection.ping():
                    return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A master on a loopback port and one sentinel watching it as "mymaster"."""
    master_port, sentinel_port = free_port(), free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor mymaster 127.0.0.1 {master_port} 1\n"
    )
    binary = server_binary()
    processes = [
        subprocess.Popen(
            [binary, "--port", str(master_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--dir", str(tmp_path), "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL,
        ),
        subprocess.Popen([binary, str(config), "--sentinel"], stdout=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        wait_for_ping(master_port)
        wait_for_ping(sentinel_port)
        yield master_port, sentinel_port
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def test_processes_reach_the_master_the_sentinels_name(settings, sentinel):
    master_port, sentinel_port = sentinel
    sentinel_settings = settings.with_overrides(
        redis_url=None, redis_sentinels=(("127.0.0.1", sentinel_port),)
    )
    runtime = build_runtime(sentinel_settings)
    try:
        runtime.queue.enqueue("workers.sender.send_nudge", 7, job_id="send-7")
        with Redis(port=master_port) as master:
            assert master.exists("rq:job:send-7")  # the job landed on the real master
        redis_finding = next(f for f in diagnose(runtime) if f.check == "redis")
        assert redis_finding.level == "ok"
        assert f"127.0.0.1:{master_port}" in redis_finding.detail
    finally:
        runtime.close()

    app = create_app(sentinel_settings)
    try:
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        app.extensions["peernudge"].close()
