"""Webhook benchmark: POST /sms/inbound (signed DONE replies) against the durable minimum.

Three servers, same gunicorn settings, same run, same database:
- a bare Flask route returning TwiML (what the web stack alone costs);
- the **durable minimum** (``bench/durable_app.py``): validate the signature,
  INSERT the text under its unique MessageSid, commit, answer empty TwiML;
- PeerNudge, with its ``peernudge worker --replies`` processes handling the
  texts and sending the answers through the twilio client to a local
  Twilio-compatible server.

Each is measured twice: latency at a fixed rate (open loop, from each request's
scheduled start, so queueing cannot hide), then throughput with wrk (closed
loop, 32 connections). For PeerNudge the fixed-rate part also times the whole
effect, from the text's scheduled send to its reply reaching the provider: every
text comes from a different peer, one in 50 carries crisis words (timed
apart), and enough peers are enrolled that none reaches the loop guard.

Run: .venv/bin/python -m bench.webhook [--database postgres] [--seconds 15] [--rate 100]
Needs `wrk` (Debian package) for the throughput part.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlparse

from sqlalchemy import func, select

from bench import durable_app
from bench.common import (
    enrol_demo_peers,
    gunicorn,
    header,
    percentile,
    runtime_for,
    scratch_settings,
    settings_env,
    sign,
    table,
)
from service.models import InboundMessage
from service.pgtemp import TemporaryPostgres
from service.redis_server import EmbeddedRedis
from tests.fake_twilio import FakeTwilio

WRK_THREADS = 2
WRK_CONNECTIONS = 32
HERE = Path(__file__).resolve().parent
CRISIS_EVERY = 50
CRISIS_WORDS = "I cant do this anymore, I want to end my life"
FROM_NUMBER = "+15005550006"


def signed_requests(phones: list[str], count: int, tag: str, crisis_every: int = 0):
    """``count`` distinct webhooks, each (signature, urlencoded body, from, crisis?)."""
    result = []
    for i in range(count):
        crisis = bool(crisis_every) and i % crisis_every == crisis_every - 1
        form = {
            "MessageSid": f"SM{tag}{i:030x}",  # tag: two hex digits, a real SID's shape
            "AccountSid": "AC" + "1" * 32,
            "From": phones[i % len(phones)],
            "To": FROM_NUMBER,
            "Body": CRISIS_WORDS if crisis else "DONE",
            "NumMedia": "0",
        }
        result.append((sign("/sms/inbound", form), urlencode(form), form["From"], crisis))
    return result


def run_wrk(base: str, requests: list[tuple[str, str]], seconds: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        handle.writelines(f"{sig}\t{body}\n" for sig, body, *_ in requests)
    env = {"PEERNUDGE_WRK_REQUESTS": handle.name, "PEERNUDGE_WRK_THREADS": str(WRK_THREADS)}
    output = subprocess.run(
        [
            "wrk",
            "-t",
            str(WRK_THREADS),
            "-c",
            str(WRK_CONNECTIONS),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(HERE / "wrk_signed.lua"),
            base,
        ],
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(handle.name).unlink()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": wrk_latency(output, "50%"),
        "p99": wrk_latency(output, "99%"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def wrk_latency(output: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def fixed_rate(base: str, requests: list, rate: int, seconds: int):
    """Send at ``rate``/s for ``seconds``; latency counted from each scheduled start.

    Returns the latencies and, per sender, the wall-clock time its text was due."""
    target = urlparse(base)
    local = threading.local()
    latencies: list[float] = []
    due: dict[str, float] = {}
    failures = 0
    lock = threading.Lock()

    def connection() -> http.client.HTTPConnection:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(target.hostname, target.port, timeout=20)
        return local.conn

    def send(scheduled: float, signature: str, body: str) -> None:
        nonlocal failures
        try:
            conn = connection()
            conn.request(
                "POST",
                "/sms/inbound",
                body,
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                },
            )
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            local.__dict__.pop("conn", None)
            ok = False
        with lock:
            latencies.append((time.perf_counter() - scheduled) * 1000)
            failures += not ok

    total = min(rate * seconds, len(requests))
    start = time.perf_counter() + 0.2
    offset = time.time() - time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            signature, body, phone, _ = requests[i]
            due[phone] = scheduled + offset
            pool.submit(send, scheduled, signature, body)
    return {
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "errors": failures,
        "due": due,
    }


def effect_times(fake: FakeTwilio, due: dict[str, float], crisis: set[str], timeout: float = 60):
    """Seconds from each text's scheduled send to its reply at the provider."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answered = {m.to: m.created.timestamp() for m in list(fake.messages) if m.to in due}
        if len(answered) == len(due):
            break
        time.sleep(0.5)
    answered = {}
    for message in list(fake.messages):
        if message.to in due:
            answered.setdefault(message.to, message.created.timestamp())
    times = {phone: answered[phone] - due[phone] for phone in due if phone in answered}
    crisis_times = [times[phone] for phone in crisis if phone in times]
    return {
        "answered": len(times),
        "sent": len(due),
        "within_2s": sum(t <= 2 for t in times.values()) / max(1, len(due)),
        "p99": percentile(list(times.values()), 99) if times else float("nan"),
        "crisis_p99": percentile(crisis_times, 99) if crisis_times else float("nan"),
        "crisis_within_1s": sum(times.get(p, 99) <= 1 for p in crisis) / max(1, len(crisis)),
    }


@contextmanager
def handlers(env: dict[str, str], count: int):
    """``peernudge worker --replies`` processes: they handle the stored texts."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "peernudge.cli", "worker", "--replies"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        time.sleep(2)  # imports and warm-up before the first text
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def measure(app: str, env: dict[str, str], paced_requests, wrk_requests, args):
    with gunicorn(app, env, workers=args.workers, threads=args.threads) as base:
        paced = fixed_rate(base, paced_requests, args.rate, args.seconds)
        loaded = run_wrk(base, wrk_requests, args.seconds) if shutil.which("wrk") else None
    return {"loaded": loaded, "paced": paced}


@contextmanager
def database(kind: str):
    """A URL for a throwaway database: SQLite in the scratch folder, or a PostgreSQL."""
    if kind == "postgres":
        with TemporaryPostgres(durable=True) as url:
            yield url
    else:
        yield None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=int, default=None, help="fixed rate (100 SQLite, 300 PG)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per process")
    parser.add_argument("--handlers", type=int, default=2, help="worker --replies processes")
    args = parser.parse_args()
    args.rate = args.rate or (300 if args.database == "postgres" else 100)
    header(
        f"Webhook on {args.database}: POST /sms/inbound, gunicorn {args.workers} x "
        f"{args.threads} threads, {args.handlers} reply workers, loopback"
    )
    paced_count = args.rate * args.seconds
    wrk_count = 2 * max(30_000, 1500 * args.seconds)
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        redis = EmbeddedRedis(directory)
        redis_url = redis.start()
        stack.callback(redis.stop)
        fake = FakeTwilio(latency=0.05).start()
        stack.callback(fake.stop)
        url = stack.enter_context(database(args.database))
        settings = stack.enter_context(scratch_settings(**({"database_url": url} if url else {})))
        durable_app.create_table(settings.database_url)
        runtime = runtime_for(settings)
        # Every paced text from its own peer; wrk's texts spread so none reaches the guard.
        phones = enrol_demo_peers(runtime, paced_count + wrk_count // 20)
        runtime.close()
        paced_phones, wrk_phones = phones[:paced_count], phones[paced_count:]
        env = settings_env(settings) | {
            "REDIS_URL": redis_url,
            "SMS_GATEWAY": "twilio",
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE_URL": fake.url,
            "SMS_MAX_PER_SECOND": "1000",
            "DB_POOL_SIZE": "8",
        }
        results = {}
        for name, app, tag in (
            ("bare Flask route", "bench.bare_app:app", "b"),
            ("durable minimum (baseline)", "bench.durable_app:app", "d"),
        ):
            results[name] = measure(
                app, env, signed_requests(paced_phones, paced_count, tag + "1"),
                signed_requests(wrk_phones, wrk_count, tag + "2"), args,
            )  # fmt: skip
        paced = signed_requests(paced_phones, paced_count, "a1", CRISIS_EVERY)
        crisis = {phone for _, _, phone, is_crisis in paced if is_crisis}
        with handlers(env, args.handlers):
            result = measure(
                "peernudge.wsgi:app", env, paced, signed_requests(wrk_phones, wrk_count, "a2"), args
            )
            effect = effect_times(fake, result["paced"]["due"], crisis)
        results["PeerNudge, reply workers on the same cores"] = result
        # The webhook alone (texts stored, nobody handling them yet), then how fast the
        # reply workers work through what it stored.
        results["PeerNudge /sms/inbound"] = measure(
            "peernudge.wsgi:app", env, signed_requests(paced_phones, paced_count, "c1"),
            signed_requests(wrk_phones, wrk_count, "c2"), args,
        )  # fmt: skip
        drained = drain_rate(settings, env, args.handlers)
    report(results, effect, drained, args)


def drain_rate(settings, env: dict[str, str], count: int, seconds: int = 30) -> float:
    """Texts handled (read, applied, answered at the provider) per second by the reply
    workers alone, working through a backlog."""
    runtime = runtime_for(settings)
    unhandled = select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
    try:
        with runtime.session_factory() as session:
            before = session.scalar(unhandled)
        with handlers(env, count):
            time.sleep(seconds)
            with runtime.session_factory() as session:
                after = session.scalar(unhandled)
    finally:
        runtime.close()
    return (before - after) / seconds


def report(results: dict, effect: dict, drained: float, args) -> None:
    rows = []
    for name, result in results.items():
        loaded, paced = result["loaded"], result["paced"]
        rows.append(
            {
                "server": name,
                "req/s (wrk, 32 conns)": f"{loaded['rps']:.0f}" if loaded else "wrk missing",
                "wrk errors": loaded["errors"] if loaded else "-",
                f"p50 / p99 ms at {args.rate} req/s": f"{paced['p50']:.1f} / {paced['p99']:.1f}",
                f"errors at {args.rate} req/s": paced["errors"],
            }
        )
    table(rows)
    durable = results["durable minimum (baseline)"]["loaded"]
    ours = results["PeerNudge /sms/inbound"]["loaded"]
    if durable and ours:
        ratio = ours["rps"] / durable["rps"]
        print(f"\nPeerNudge / durable minimum throughput: {ratio:.2f} (target >= 0.5)")
    p99 = results["PeerNudge /sms/inbound"]["paced"]["p99"]
    durable_p99 = results["durable minimum (baseline)"]["paced"]["p99"]
    print(f"p99 at {args.rate} req/s: PeerNudge {p99:.1f} ms, durable minimum {durable_p99:.1f} ms"
          " (target < 50)")  # fmt: skip
    print(f"reply workers alone, through the backlog: {drained:.0f} texts/s handled and answered")
    print(
        "whole effect with reply workers on the same cores (text -> reply at the provider), "
        f"{effect['answered']} of "
        f"{effect['sent']} answered: {effect['within_2s']:.1%} within 2 s (target 99%), "
        f"p99 {effect['p99']:.2f} s; crisis texts: {effect['crisis_within_1s']:.0%} within "
        f"1 s, p99 {effect['crisis_p99']:.2f} s"
    )


if __name__ == "__main__":
    main()
