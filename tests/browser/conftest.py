"""The whole service (``peernudge dev``: web, worker, planner, embedded Redis) for a browser.

Browser tests run when Chromium is at /usr/bin/chromium (Debian's ``chromium``
package; CI installs it). With ``PEERNUDGE_BROWSER_TESTS=1`` a missing browser
is an error, not a skip, so CI cannot silently lose these tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

CHROMIUM = Path("/usr/bin/chromium")
REQUIRED = os.environ.get("PEERNUDGE_BROWSER_TESTS") == "1"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT_MS = 20_000


def browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    reason = browser_missing()
    if reason and REQUIRED:
        pytest.fail(f"PEERNUDGE_BROWSER_TESTS=1 but {reason}")
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``peernudge dev`` on a free port with its own instance folder; (base URL, password)."""
    instance = tmp_path_factory.mktemp("browser-instance")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env |= {"INSTANCE_DIR": str(instance), "PORT": str(port), "LOGIN_RATE_LIMIT": "false"}
    log = (instance / "dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "peernudge.cli", "dev", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not healthy(base):
            assert process.poll() is None, (instance / "dev.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "peernudge dev did not become healthy"
            time.sleep(0.2)
        yield base, (instance / "demo-password").read_text().strip()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).ok
    except requests.RequestException:
        return False


@contextmanager
def signed_in_page(chromium, service: tuple[str, str], width: int, height: int = 900) -> Iterator:
    """A page at ``width`` px (a phone below 600), signed in as the demo specialist; the
    caseload is showing. Waits are long for slow CI machines, never fixed sleeps."""
    from playwright.sync_api import expect

    from service.demo import DEMO_EMAIL

    base, password = service
    context = chromium.new_context(
        viewport={"width": width, "height": height}, is_mobile=width < 600
    )
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        page.get_by_label("Email").fill(DEMO_EMAIL)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Caseload")).to_be_visible()
        yield page
    finally:
        context.close()
