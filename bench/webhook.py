"""Webhook benchmark: POST /sms/inbound (signed, a DONE reply, database write).

Two measurements, each against the real app and the baseline (a bare Flask
route returning the same TwiML, same gunicorn settings, same run):
1. throughput with wrk (closed loop, 32 connections);
2. latency at a fixed 100 requests/s (open loop, measured from each request's
   scheduled start, so a slow server cannot hide its queueing).

Run: .venv/bin/python -m bench.webhook [--seconds 15]
Needs `wrk` (Debian package) for the throughput part.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlparse

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

WRK_THREADS = 2
WRK_CONNECTIONS = 32
HERE = Path(__file__).resolve().parent


def signed_requests(phones: list[str], count: int, tag: str) -> list[tuple[str, str]]:
    """``count`` distinct DONE webhooks, each as (signature, urlencoded body)."""
    result = []
    for i in range(count):
        form = {
            "MessageSid": f"SM{tag}{i:030d}"[:34],
            "AccountSid": "AC" + "0" * 32,
            "From": phones[i % len(phones)],
            "To": "+15005550006",
            "Body": "DONE",
            "NumMedia": "0",
        }
        result.append((sign("/sms/inbound", form), urlencode(form)))
    return result


def run_wrk(base: str, requests: list[tuple[str, str]], seconds: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        handle.writelines(f"{sig}\t{body}\n" for sig, body in requests)
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


def fixed_rate(base: str, requests: list[tuple[str, str]], rate: int, seconds: int):
    """Send at ``rate``/s for ``seconds``; latency counted from each scheduled start."""
    target = urlparse(base)
    local = threading.local()
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def connection() -> http.client.HTTPConnection:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
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

    total = rate * seconds
    start = time.perf_counter() + 0.2
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, scheduled, *requests[i])
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "errors": failures}


def measure(app: str, env: dict[str, str], requests, seconds: int, server: tuple[int, int]):
    half = len(requests) // 2
    with gunicorn(app, env, workers=server[0], threads=server[1]) as base:
        loaded = run_wrk(base, requests[:half], seconds) if shutil.which("wrk") else None
        paced = fixed_rate(base, requests[half:], 100, seconds)
    return {"loaded": loaded, "paced": paced}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--peers", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per process")
    args = parser.parse_args()
    server = (args.workers, args.threads)
    header(
        f"Webhook: POST /sms/inbound, gunicorn {args.workers} x {args.threads} threads, loopback"
    )
    with scratch_settings() as settings:
        runtime = runtime_for(settings)
        phones = enrol_demo_peers(runtime, args.peers)
        runtime.close()
        env = settings_env(settings)
        count = 2 * max(60_000, 1500 * args.seconds)
        results = {
            "bare Flask route (baseline)": measure(
                "bench.bare_app:app", env, signed_requests(phones, count, "B"), args.seconds, server
            ),
            "PeerNudge /sms/inbound": measure(
                "peernudge.wsgi:app", env, signed_requests(phones, count, "P"), args.seconds, server
            ),
        }
    rows = []
    for name, result in results.items():
        loaded, paced = result["loaded"], result["paced"]
        rows.append(
            {
                "server": name,
                "req/s (wrk, 32 conns)": f"{loaded['rps']:.0f}" if loaded else "wrk missing",
                "wrk p50 / p99 ms": f"{loaded['p50']:.1f} / {loaded['p99']:.1f}" if loaded else "-",
                "wrk errors": loaded["errors"] if loaded else "-",
                "p50 / p99 ms at 100 req/s": f"{paced['p50']:.1f} / {paced['p99']:.1f}",
                "errors at 100 req/s": paced["errors"],
            }
        )
    table(rows)
    base, real = (r["loaded"] for r in results.values())
    if base and real:
        ratio = real["rps"] / base["rps"]
        print(f"\nratio PeerNudge / baseline throughput: {ratio:.2f} (target >= 0.5)")
    p99 = results["PeerNudge /sms/inbound"]["paced"]["p99"]
    print(f"p99 at 100 req/s: {p99:.1f} ms (target < 50)")


if __name__ == "__main__":
    main()
