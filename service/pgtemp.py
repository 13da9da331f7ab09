"""A throwaway PostgreSQL server for tests and benchmarks (not used in production).

Runs ``initdb`` and ``pg_ctl`` from the Debian package into a temporary folder,
listening on a loopback port. As root it runs them as the ``postgres`` user,
because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryPostgres:
    """``with TemporaryPostgres() as url:`` gives a postgresql+psycopg:// URL."""

    def __init__(self, durable: bool = False) -> None:
        self.durable = durable  # tests turn fsync off; benchmarks keep the defaults
        self.bin = pg_bin()
        self.directory = Path(tempfile.mkdtemp(prefix="peernudge-pg-"))
        self.port = _free_port()

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def __enter__(self) -> str:
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        data = self.directory / "data"
        self._run("initdb", "-D", str(data), "-U", "peernudge", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        options += " -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off"
        self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(self.directory / "log"),
            "-w",
            "-o",
            options,
            "start",
        )
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "peernudge", "peernudge"
        )
        return f"postgresql+psycopg://peernudge@127.0.0.1:{self.port}/peernudge"

    def __exit__(self, *exc: object) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
