"""``peernudge dev``: the whole service on one machine, started by one command.

Starts a Redis-compatible server (unless REDIS_URL is set), then the web app
(gunicorn), one RQ worker and the planner as child processes. Every child is
told by the kernel to die with the launcher, so nothing is left running even
if the launcher itself is killed with SIGKILL; Ctrl-C stops them in order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from service.private_files import restrict_new_files
from service.redis_server import EmbeddedRedis, die_with_parent
from service.settings import Settings

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Launcher:
    settings: Settings
    port: int
    host: str = "127.0.0.1"
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    redis: EmbeddedRedis | None = None

    def child_env(self, redis_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            REDIS_URL=redis_url,
            INSTANCE_DIR=str(self.settings.instance_dir),
            DATABASE_URL=self.settings.database_url,
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
        )
        if "PUBLIC_BASE_URL" not in os.environ:
            env["PUBLIC_BASE_URL"] = f"http://{self.host}:{self.port}"
        return env

    def start_redis(self) -> str:
        if self.settings.redis_url:
            return self.settings.redis_url
        self.redis = EmbeddedRedis(self.settings.instance_dir / "redis")
        return self.redis.start()

    def commands(self) -> dict[str, list[str]]:
        python = sys.executable
        return {
            "web": [
                python, "-m", "gunicorn", "peernudge.wsgi:app",
                "--bind", f"{self.host}:{self.port}",
                "--workers", "1", "--threads", "8", "--no-control-socket",
            ],
            "worker": [python, "-m", "peernudge.cli", "worker"],
            "replies": [python, "-m", "peernudge.cli", "worker", "--replies"],
            "planner": [python, "-m", "peernudge.cli", "planner"],
        }  # fmt: skip

    def start(self) -> None:
        env = self.child_env(self.start_redis())
        for name, command in self.commands().items():
            self.children[name] = subprocess.Popen(
                command,
                env=env,
                preexec_fn=die_with_parent,
                stdin=subprocess.DEVNULL,
                # Own process group: Ctrl-C reaches only the launcher, which then
                # stops the children in order (Redis last).
                process_group=0,
            )

    def pids(self) -> dict[str, int]:
        pids = {name: child.pid for name, child in self.children.items()}
        if self.redis is not None and self.redis.pid is not None:
            pids["redis"] = self.redis.pid
        return pids

    def watch(self) -> int:
        """Wait until a stop signal or a child exits; return the exit code."""
        while True:
            for name, child in self.children.items():
                code = child.poll()
                if code is not None:
                    click.echo(f"peernudge: {name} exited with {code}; stopping", err=True)
                    return 1
            time.sleep(0.5)

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self.redis is not None:
            self.redis.stop()


class StopRequested(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise StopRequested(signum)


def run_dev(settings: Settings, port: int, banner: list[str]) -> int:
    """Start everything, print where to look, and supervise until stopped."""
    restrict_new_files()  # inherited by Redis, the web app, the worker and the planner
    launcher = Launcher(settings, port)
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stop)
    # If whatever started us (make, a terminal) goes away, stop as if Ctrl-C was pressed.
    die_with_parent()
    code = 0
    try:
        launcher.start()
        for line in banner:
            click.echo(line)
        pid_file = settings.instance_dir / "dev.pids"
        pid_file.write_text(" ".join(f"{k}={v}" for k, v in launcher.pids().items()) + "\n")
        code = launcher.watch()
    except StopRequested:
        click.echo("peernudge: stopping")
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        launcher.stop()
        Path(settings.instance_dir / "dev.pids").unlink(missing_ok=True)
    return code
