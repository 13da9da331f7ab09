"""Load: many concurrent signed webhook requests against gunicorn on loopback.

Zero errors and nothing lost: every MessageSid sent is stored exactly once.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from service.models import InboundMessage
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.reliability.scale import report, scaled
from tests.signing import inbound_form
from tests.test_launcher import free_port, healthy, wait_for


def serve(settings, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "INSTANCE_DIR": str(settings.instance_dir),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEY": settings.secret_key,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [
            str(gunicorn),
            "peernudge.wsgi:app",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "16",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_concurrent_signed_webhooks_lose_nothing(settings, runtime, peer):
    clients, seconds = scaled(50, 200), scaled(8, 60)
    port = free_port()
    server = serve(settings, port)
    validator = RequestValidator(TEST_AUTH_TOKEN)
    sent: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client_loop(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = 0
        while time.monotonic() < deadline:
            sid = f"SM{n:04d}{i:028d}"
            form = inbound_form(f"note {i}", sid=sid)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": validator.compute_signature(
                    f"{PUBLIC_BASE_URL}/sms/inbound", form
                ),
            }
            try:
                conn.request("POST", "/sms/inbound", urlencode(form), headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok, response = False, error
            with lock:
                (sent if ok else errors).append(sid if ok else repr(response))
            i += 1
        conn.close()

    try:
        assert wait_for(lambda: healthy(port), 30)
        threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    with runtime.session_factory() as session:
        stored = session.scalar(select(func.count(InboundMessage.id)))
        distinct = session.scalar(select(func.count(func.distinct(InboundMessage.provider_id))))
    report(
        "load",
        clients=clients,
        seconds=seconds,
        requests=len(sent) + len(errors),
        errors=len(errors),
        stored=stored,
        lost=len(sent) - stored,
    )
    assert errors == []
    assert stored == distinct == len(sent)
