"""Counting what happens, in every process, without Flask (``/metrics`` is service/web/metrics.py).

Nudges are planned, sent and skipped in planner and worker processes (RQ forks
a work horse per job), webhooks are answered by several web processes on
several machines. Process-local counters would need a scrape per process and
would vanish with each work horse, so events are counted in one Redis hash
(``HINCRBY``, a single round trip) and everything else is read at scrape time:
queue depth and the oldest job's age from Redis, open flags and opt-outs from
the database. Any web process answers for the whole installation.

Counting never gets in the way of sending: if Redis is unreachable the event is
not counted, and the nudge goes on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from service.models import Alert, ConsentEvent, Flag, OutboundMessage
from service.runtime import Runtime

log = logging.getLogger(__name__)

COUNTERS_KEY = "peernudge:metrics:counters"
HISTOGRAM_KEY = "peernudge:metrics:webhook_seconds"
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# name -> (help, label names). Label values are bounded: skip reasons and provider codes.
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "peernudge_nudges_planned": ("Nudge rows the planner created", ("status",)),
    "peernudge_nudges_sent": ("Messages accepted by the SMS provider", ("kind",)),
    "peernudge_nudges_skipped": ("Messages skipped at send time, by reason", ("reason",)),
    "peernudge_nudges_failed": ("Messages that failed for good, by provider code", ("code",)),
    "peernudge_nudges_retried": ("Transient send failures that will be retried", ("code",)),
    "peernudge_delivery_failures": ("Undelivered/failed status callbacks, by code", ("code",)),
    "peernudge_inbound_messages": ("Inbound texts handled (duplicates excluded)", ()),
    "peernudge_alerts_raised": ("Urgent alerts opened, by flag kind", ("kind",)),
    "peernudge_alerts_exhausted": ("Alerts nobody acknowledged through the whole chain", ()),
}
ACK_HISTOGRAM_KEY = "peernudge:metrics:alert_ack_seconds"
ACK_BUCKETS = (60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0)


def count(redis: Redis | None, name: str, amount: int = 1, **labels: object) -> None:
    """Add to a shared counter; never raises (a metric is not worth a lost nudge)."""
    if redis is None or amount == 0:
        return
    names = COUNTERS[name][1]
    field = "|".join([name, *(f"{label}={labels.get(label, '')}" for label in names)])
    try:
        redis.hincrby(COUNTERS_KEY, field, amount)
    except RedisError:
        log.debug("metric %s not counted: Redis unavailable", name)


def observe_webhook(redis: Redis | None, endpoint: str, seconds: float) -> None:
    """Record one webhook's latency in the shared histogram (non-cumulative buckets)."""
    if redis is None:
        return
    bucket = next((str(b) for b in WEBHOOK_BUCKETS if seconds <= b), "+Inf")
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.hincrby(HISTOGRAM_KEY, f"{endpoint}|{bucket}", 1)
        pipe.hincrbyfloat(HISTOGRAM_KEY, f"{endpoint}|sum", seconds)
        pipe.execute()
    except RedisError:
        log.debug("webhook latency not recorded: Redis unavailable")


def observe_alert_acknowledged(redis: Redis | None, seconds: float) -> None:
    """Record how long an alert waited for a person (non-cumulative buckets)."""
    if redis is None:
        return
    bucket = next((str(b) for b in ACK_BUCKETS if seconds <= b), "+Inf")
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.hincrby(ACK_HISTOGRAM_KEY, bucket, 1)
        pipe.hincrbyfloat(ACK_HISTOGRAM_KEY, "sum", seconds)
        pipe.execute()
    except RedisError:
        log.debug("alert acknowledgement time not recorded: Redis unavailable")


class PeerNudgeCollector:
    """Builds every metric family at scrape time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        redis = self.runtime.redis
        if redis is not None:
            yield from self.counters(redis)
            yield self.webhook_histogram(redis)
            yield self.ack_histogram(redis)
            yield from self.queue(redis)
        yield from self.database()

    def counters(self, redis: Redis) -> Iterator[Metric]:
        families = {
            name: CounterMetricFamily(name, help_text, labels=list(labels))
            for name, (help_text, labels) in COUNTERS.items()
        }
        for raw_field, raw_value in redis.hgetall(COUNTERS_KEY).items():
            name, *pairs = raw_field.decode().split("|")
            if name in families:
                values = [pair.partition("=")[2] for pair in pairs]
                families[name].add_metric(values, int(raw_value))
        yield from families.values()

    def webhook_histogram(self, redis: Redis) -> Metric:
        family = HistogramMetricFamily(
            "peernudge_webhook_duration_seconds",
            "Time to answer Twilio's webhooks, all web processes",
            labels=["endpoint"],
        )
        counts: dict[str, dict[str, float]] = defaultdict(dict)
        for raw_field, raw_value in redis.hgetall(HISTOGRAM_KEY).items():
            endpoint, _, bucket = raw_field.decode().partition("|")
            counts[endpoint][bucket] = float(raw_value)
        for endpoint, per_bucket in sorted(counts.items()):
            cumulative, buckets = 0.0, []
            for bound in [*(str(b) for b in WEBHOOK_BUCKETS), "+Inf"]:
                cumulative += per_bucket.get(bound, 0.0)
                buckets.append((bound, cumulative))
            family.add_metric([endpoint], buckets, per_bucket.get("sum", 0.0))
        return family

    def ack_histogram(self, redis: Redis) -> Metric:
        family = HistogramMetricFamily(
            "peernudge_alert_time_to_acknowledge_seconds",
            "From an urgent alert opening to the first acknowledgement",
        )
        counts = {k.decode(): float(v) for k, v in redis.hgetall(ACK_HISTOGRAM_KEY).items()}
        cumulative, buckets = 0.0, []
        for bound in [*(str(b) for b in ACK_BUCKETS), "+Inf"]:
            cumulative += counts.get(bound, 0.0)
            buckets.append((bound, cumulative))
        family.add_metric([], buckets, counts.get("sum", 0.0))
        return family

    def queue(self, redis: Redis) -> Iterator[Metric]:
        queue = self.runtime.queue
        assert queue is not None
        depth = GaugeMetricFamily("peernudge_queue_depth", "Send jobs waiting in the queue")
        depth.add_metric([], queue.count)
        age = GaugeMetricFamily(
            "peernudge_queue_oldest_job_age_seconds", "Age of the oldest waiting send job"
        )
        age.add_metric([], self.oldest_job_age(queue))
        scheduled = GaugeMetricFamily(
            "peernudge_queue_scheduled_jobs", "Send jobs waiting for their time"
        )
        scheduled.add_metric([], queue.scheduled_job_registry.count)
        yield from (depth, age, scheduled)

    def oldest_job_age(self, queue) -> float:
        job_ids = queue.get_job_ids(0, 0)
        job = queue.fetch_job(job_ids[0]) if job_ids else None
        if job is None or job.enqueued_at is None:
            return 0.0
        enqueued: datetime = job.enqueued_at
        return max(0.0, (self.runtime.now() - enqueued).total_seconds())

    def database(self) -> Iterator[Metric]:
        flags = GaugeMetricFamily(
            "peernudge_open_flags", "Open flags on the caseloads", labels=["kind", "urgent"]
        )
        waiting = GaugeMetricFamily(
            "peernudge_messages_in_flight", "Messages planned or being sent", labels=["status"]
        )
        opt_outs = CounterMetricFamily(
            "peernudge_consent_changes", "Opt-outs and opt-ins", labels=["kind", "source"]
        )
        with self.runtime.session_factory() as session:
            for kind, urgent, number in session.execute(
                select(Flag.kind, Flag.urgent, func.count())
                .where(Flag.resolved_at.is_(None))
                .group_by(Flag.kind, Flag.urgent)
            ):
                flags.add_metric([kind, "true" if urgent else "false"], number)
            for status in ("planned", "sending"):
                number = session.scalar(
                    select(func.count()).where(OutboundMessage.status == status)
                )
                waiting.add_metric([status], number or 0)
            for kind, source, number in session.execute(
                select(ConsentEvent.kind, ConsentEvent.source, func.count()).group_by(
                    ConsentEvent.kind, ConsentEvent.source
                )
            ):
                opt_outs.add_metric([kind, source], number)
        yield from (flags, waiting, opt_outs)
        yield from self.alerts()

    def alerts(self) -> Iterator[Metric]:
        """Open alerts, and how long the oldest unacknowledged one has waited."""
        waiting = GaugeMetricFamily(
            "peernudge_alerts_unacknowledged_oldest_seconds",
            "Age of the oldest open (unacknowledged) urgent alert; 0 when none",
        )
        by_status = GaugeMetricFamily(
            "peernudge_alerts", "Alerts not yet resolved, by status", labels=["status"]
        )
        with self.runtime.session_factory() as session:
            oldest = session.scalar(select(func.min(Alert.opened_at)).where(Alert.status == "open"))
            for status, number in session.execute(
                select(Alert.status, func.count())
                .where(Alert.status != "resolved")
                .group_by(Alert.status)
            ):
                by_status.add_metric([status], number)
        age = (self.runtime.now() - oldest).total_seconds() if oldest else 0.0
        waiting.add_metric([], max(0.0, age))
        yield from (waiting, by_status)


def exposition(runtime: Runtime) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PeerNudgeCollector(runtime))  # type: ignore[arg-type]
    return generate_latest(registry)
