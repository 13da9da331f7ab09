"""``peernudge dev`` starts everything and leaves nothing behind."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][0] != "Z"


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def launched(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "peernudge.cli", "dev"],
        env=env,
        umask=0o022,  # a usual login shell's: the launcher must not rely on it
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pid_file = tmp_path / "instance" / "dev.pids"
    assert wait_for(pid_file.exists), "launcher did not start"
    pids = {k: int(v) for k, v in (item.split("=") for item in pid_file.read_text().split())}
    yield process, port, pids
    if process.poll() is None:
        process.kill()
    process.wait()
    process.stdout.close()


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_dev_starts_every_part_and_ctrl_c_stops_them_all(launched):
    process, port, pids = launched
    assert set(pids) == {"web", "worker", "replies", "planner", "redis"}
    assert wait_for(lambda: healthy(port)), "the web app never became healthy"
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=30)[0]
    assert "Demo login:" in output and f"http://127.0.0.1:{port}/simulator/" in output
    assert wait_for(lambda: not any(alive(pid) for pid in pids.values()), 15), pids


def umask_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("Umask:")[1].split()[0], 8)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_instance_folder_and_everything_in_it_are_private(launched, tmp_path):
    _, port, pids = launched
    assert wait_for(lambda: healthy(port))
    instance = tmp_path / "instance"
    assert {name: umask_of(pid) for name, pid in pids.items()} == dict.fromkeys(pids, 0o077)
    assert mode(instance) == 0o700
    files = ["peernudge.db", "peernudge.db-wal", "peernudge.db-shm", "secret_key", "demo-password"]
    assert {name: mode(instance / name) for name in files} == dict.fromkeys(files, 0o600)
    assert mode(instance / "redis") == 0o700


def test_children_die_with_a_killed_launcher(launched):
    process, port, pids = launched
    assert wait_for(lambda: healthy(port))
    process.kill()  # SIGKILL: no handler runs in the launcher
    process.wait()
    assert wait_for(lambda: not any(alive(pid) for pid in pids.values()), 20), pids


def test_everything_stops_when_whatever_started_the_launcher_dies(tmp_path):
    """`make run` killed (or its terminal closed): the launcher must not linger."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(port))
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; subprocess.Popen([sys.executable, '-m', "
            "'peernudge.cli', 'dev'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "time.sleep(600)",
        ],
        env=env,
    )
    pid_file = tmp_path / "instance" / "dev.pids"
    assert wait_for(pid_file.exists)
    pids = {k: int(v) for k, v in (item.split("=") for item in pid_file.read_text().split())}
    assert wait_for(lambda: healthy(port))
    launcher = next(
        int(p.name)
        for p in Path("/proc").glob("[0-9]*")
        if (p / "cmdline").exists()
        and b"peernudge.cli\x00dev" in (p / "cmdline").read_bytes()
        and int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent.pid
    )
    parent.kill()
    parent.wait()
    assert wait_for(lambda: not alive(launcher) and not any(alive(p) for p in pids.values()), 30)
