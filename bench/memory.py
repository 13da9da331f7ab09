"""Memory benchmark: Redis bytes per queued nudge, and worker RSS.

Baselines in the same run: bytes per job for a bare RQ ``enqueue`` of the same
function name and argument with RQ's defaults (what RQ itself costs), and the
RSS of a bare Python process that imported RQ and redis only.

Run: .venv/bin/python -m bench.memory [--jobs 10000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis import Redis
from rq import Queue

from bench.common import header, runtime_for, scratch_settings, settings_env, table
from service.queueing import enqueue_sends
from service.redis_server import EmbeddedRedis


def used_memory(redis: Redis) -> int:
    return int(redis.info("memory")["used_memory"])


def bytes_per_job(redis: Redis, enqueue, jobs: int) -> float:
    redis.flushall()
    before = used_memory(redis)
    enqueue(jobs)
    return (used_memory(redis) - before) / jobs


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def process_rss(command: list[str], env: dict[str, str], settle: float = 4.0) -> int:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(settle)
        return rss_kib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    args = parser.parse_args()
    header("Memory")
    with tempfile.TemporaryDirectory() as directory:
        server = EmbeddedRedis(Path(directory))
        url = server.start()
        try:
            redis = Redis.from_url(url)
            with scratch_settings(redis_url=url) as settings:
                runtime = runtime_for(settings)
                ours = bytes_per_job(
                    redis,
                    lambda n: enqueue_sends(runtime, [(i, runtime.now()) for i in range(1, n + 1)]),
                    args.jobs,
                )
                bare_queue = Queue("bare", connection=redis)
                bare = bytes_per_job(
                    redis,
                    lambda n: [
                        bare_queue.enqueue("workers.sender.send_nudge", i) for i in range(n)
                    ],
                    args.jobs,
                )
                env = settings_env(settings)
                worker = process_rss([sys.executable, "-m", "peernudge.cli", "worker"], env)
                python = process_rss(
                    [sys.executable, "-c", "import rq, redis, time; time.sleep(30)"], env
                )
                runtime.close()
        finally:
            server.stop()
    table(
        [
            {
                "measure": "Redis bytes per queued nudge",
                "PeerNudge": f"{ours:,.0f} B",
                "baseline": f"{bare:,.0f} B (bare RQ enqueue)",
                "target": "< 1,024 B",
            },
            {
                "measure": "idle worker RSS",
                "PeerNudge": f"{worker / 1024:.1f} MiB",
                "baseline": f"{python / 1024:.1f} MiB (python + rq + redis imported)",
                "target": "-",
            },
        ]
    )


if __name__ == "__main__":
    main()
