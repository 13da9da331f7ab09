"""A small Twilio-compatible HTTP server on loopback, for tests and benchmarks.

It speaks just enough of the Messages API for the official ``twilio`` client:
create (POST .../Messages.json), fetch (GET .../Messages/{sid}.json) and list
(GET .../Messages.json?To=...). It records every request, and can be told to
answer with a chosen error (HTTP status and Twilio code), after a delay, or to
hold the next create open until the test releases it (``hold_next``), so a test
can kill the sender at exactly that moment.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class SentMessage:
    sid: str
    to: str
    body: str
    params: dict[str, str]
    created: datetime
    status: str = "queued"


@dataclass
class FakeTwilio:
    """Start with ``start()``; point TWILIO_API_BASE_URL at ``url``."""

    latency: float = 0.0
    messages: list[SentMessage] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Queue of (http status, twilio code) answers for the next creates; empty = success.
    failures: deque[tuple[int, int]] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # hold_next(): the next create waits (accepted or not) until release() is called.
    hold: str | None = None
    held: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]  # type: ignore[union-attr]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                self.respond(*fake.create(self.path, form))

            def do_GET(self) -> None:
                self.respond(*fake.read(self.path))

            def respond(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed mid-request: exactly what some tests do

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many clients connect at once in the throughput bench

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def fail_next(self, status: int, code: int, times: int = 1) -> None:
        for _ in range(times):
            self.failures.append((status, code))

    def hold_next(self, accept: bool) -> None:
        """Hold the next create open until ``release()``: after accepting the message
        (the answer is what is late), or before (Twilio never takes it: when released,
        it is dropped unrecorded, as when the sender died mid-request)."""
        self.held.clear()
        self.released.clear()
        self.hold = "accepted" if accept else "not-accepted"

    def release(self) -> None:
        self.released.set()

    def _held(self, hold: str | None) -> bool:
        """Wait while held; True when the held message must be dropped."""
        if hold is None:
            return False
        self.held.set()
        self.released.wait(timeout=120)
        return hold == "not-accepted"

    def create(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Accept (and record) at once, then answer after ``latency``, like a slow provider."""
        with self.lock:
            self.requests.append(("POST", path))
            hold, self.hold = self.hold, None
        if self._held(hold if hold == "not-accepted" else None):
            return 500, {"code": 20500, "message": "dropped while held", "status": 500}
        with self.lock:
            failure = self.failures.popleft() if self.failures else None
            if failure is None:
                sid = f"SM{next(self._ids):032x}"
                message = SentMessage(
                    sid, form.get("To", ""), form.get("Body", ""), form, datetime.now(UTC)
                )
                self.messages.append(message)
        self._held(hold if hold == "accepted" else None)
        if self.latency:
            time.sleep(self.latency)
        if failure is not None:
            status, code = failure
            return status, {"code": code, "message": f"fake error {code}", "status": status}
        return 201, self.resource(message)

    def read(self, path: str) -> tuple[int, dict[str, Any]]:
        parsed = urlparse(path)
        with self.lock:
            self.requests.append(("GET", path))
            if parsed.path.endswith("/Messages.json"):
                to = parse_qs(parsed.query).get("To", [None])[0]
                found = [m for m in self.messages if to is None or m.to == to]
                return 200, {
                    "messages": [self.resource(m) for m in found],
                    "end": 0,
                    "next_page_uri": None,
                    "page": 0,
                    "page_size": 50,
                }
            sid = parsed.path.rsplit("/", 1)[-1].removesuffix(".json")
            if parsed.path.endswith(f"/Accounts/{sid}.json"):
                return 200, {"sid": sid, "status": "active", "friendly_name": "fake"}
            for message in self.messages:
                if message.sid == sid:
                    return 200, self.resource(message)
        return 404, {"code": 20404, "message": "not found", "status": 404}

    def resource(self, message: SentMessage) -> dict[str, Any]:
        return {
            "sid": message.sid,
            "to": message.to,
            "from": message.params.get("From"),
            "body": message.body,
            "status": message.status,
            "error_code": None,
            "date_created": format_datetime(message.created),
            "date_sent": format_datetime(message.created),
            "messaging_service_sid": message.params.get("MessagingServiceSid"),
        }

    def sent_to(self, to: str) -> list[SentMessage]:
        with self.lock:
            return [m for m in self.messages if m.to == to]
