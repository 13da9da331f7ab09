"""`make run` on a fresh clone says what it is doing before the slow part starts."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def make_run(venv: Path, python: str = "python3") -> list[str]:
    """`make run` with a venv at ``venv``; the lines it printed (it fails on purpose)."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"VENV={venv}", f"PYTHON={python}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0  # the stand-in python below stops it before any install
    return result.stdout.splitlines()


def test_creating_the_venv_is_announced_first(tmp_path):
    lines = make_run(tmp_path / "venv", python="false")
    assert lines[0] == f"Creating the virtual environment in {tmp_path / 'venv'}..."


def test_the_dependency_install_is_announced_before_it_starts(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    stand_in = venv / "bin" / "python"  # a venv that exists, with a python that fails
    stand_in.write_text("#!/bin/sh\nexit 3\n")
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IEXEC)
    lines = make_run(venv)
    assert lines[0].startswith(f"Installing PeerNudge and its dependencies into {venv}")
    assert "-m pip install" in lines[1]
