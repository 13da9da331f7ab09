"""Putting jobs on the RQ queues, with deterministic job ids: every job PeerNudge queues.

The database row is the truth; a job is only a reminder to look at it. A
missing job is re-created by the reconciler (or the alert tick), and a
duplicate job finds the row already claimed and does nothing. Rows due at the
same moment go out as one ``send_batch`` job, which sends them concurrently.

Jobs are named by their import path (``workers.sender.send_nudge``), so the web
app and the domain queue work without importing the workers that do it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from rq import Retry
from rq.job import Job, JobStatus
from sqlalchemy import select

from service.models import PLANNED, OutboundMessage
from service.runtime import Runtime

log = logging.getLogger(__name__)

SEND_NUDGE_JOB = "workers.sender.send_nudge"
SEND_BATCH_JOB = "workers.sender.send_batch"
DELIVER_ALERT_JOB = "workers.alerts.deliver_alert"
HANDLE_TEXTS_JOB = "workers.inbound.handle_texts_from"
SEND_RETRY = Retry(max=5, interval=[10, 30, 60, 120, 300])
BATCH_SIZE = 50
IN_FLIGHT = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}
JOB_OPTIONS = {"retry": SEND_RETRY, "result_ttl": 600, "failure_ttl": 86400, "job_timeout": 3600}


# --- sends (the nudges queue) -----------------------------------------------------------


def send_job_id(message_id: int, due_at: datetime) -> str:
    """The same row due at the same time always gets the same job id."""
    return f"send-{message_id}-at-{int(due_at.timestamp())}"


def batch_job_id(message_ids: list[int], due_at: datetime) -> str:
    first, last, size = message_ids[0], message_ids[-1], len(message_ids)
    return f"send-batch-{first}-{last}-{size}-at-{int(due_at.timestamp())}"


def in_flight(runtime: Runtime, job_id: str) -> bool:
    """True when a job with this id is queued, scheduled or running."""
    try:
        job = Job.fetch(job_id, connection=runtime.redis)
    except Exception:  # NoSuchJobError, or a job whose payload cannot be read
        return False
    return job.get_status(refresh=False) in IN_FLIGHT


def enqueue_sends(runtime: Runtime, due: Iterable[tuple[int, datetime]]) -> int:
    """Queue sends for (message id, due time) pairs; return how many jobs were queued.

    When Redis is unavailable the rows stay planned and the reconciler queues
    them later; nothing is lost.
    """
    queue = runtime.queue
    if queue is None:
        return 0
    groups: dict[datetime, list[int]] = defaultdict(list)
    for message_id, due_at in due:
        groups[due_at].append(message_id)
    queued = 0
    try:
        for due_at, ids in sorted(groups.items()):
            for first in range(0, len(ids), BATCH_SIZE):
                queued += enqueue_one(runtime, sorted(ids[first : first + BATCH_SIZE]), due_at)
    except RedisError as error:
        log.warning("could not queue sends (%s); the reconciler will", type(error).__name__)
    return queued


def enqueue_one(runtime: Runtime, ids: list[int], due_at: datetime) -> int:
    if len(ids) == 1:
        job_id, function, args = send_job_id(ids[0], due_at), SEND_NUDGE_JOB, (ids[0],)
    else:
        job_id, function, args = batch_job_id(ids, due_at), SEND_BATCH_JOB, (ids,)
    if in_flight(runtime, job_id):
        return 0
    queue = runtime.queue
    if due_at > runtime.now():
        queue.enqueue_at(due_at, function, *args, job_id=job_id, **JOB_OPTIONS)
    else:
        queue.enqueue(function, *args, job_id=job_id, **JOB_OPTIONS)
    return 1


def enqueue_planned_for_peer(runtime: Runtime, peer_id: int) -> int:
    """Queue whatever is planned for one peer now (the welcome text after enrolment)."""
    with runtime.session_factory() as session:
        rows = session.execute(
            select(OutboundMessage.id, OutboundMessage.due_at).where(
                OutboundMessage.peer_id == peer_id, OutboundMessage.status == PLANNED
            )
        ).all()
    return enqueue_sends(runtime, [(row.id, row.due_at) for row in rows])


# --- stored inbound texts (the inbound queue) -------------------------------------------

# A job waits in Redis an hour at most; after that the reconciler hands the text on again.
INBOUND_JOB_OPTIONS = {"result_ttl": 0, "failure_ttl": 86400, "job_timeout": 300, "ttl": 3600}


def enqueue_texts_from(runtime: Runtime, phones: Iterable[str], *, first: bool = False) -> int:
    """One handler job per sender (a second finds nothing left and returns); without
    Redis, or when it fails, the reconciler queues them later. ``first`` puts the
    jobs ahead of those waiting (a text that may be a crisis)."""
    queue = runtime.inbound_queue
    if queue is None:
        return 0
    queued = 0
    try:
        for phone in phones:
            queue.enqueue(HANDLE_TEXTS_JOB, phone, at_front=first, **INBOUND_JOB_OPTIONS)
            queued += 1
    except RedisError as error:
        log.warning("could not queue inbound texts (%s); the reconciler will", type(error).__name__)
    return queued


# --- staff alerts (the alerts queue) ----------------------------------------------------


def enqueue_alert_delivery(runtime: Runtime, alert_id: int, now: datetime | None = None) -> bool:
    """Put ``deliver_alert`` on the alerts queue; without Redis the tick sends instead.

    A job already waiting, or running, will send what is pending. One that
    started more than ``SENDING_TIMEOUT_SECONDS`` ago is taken for dead (its
    worker was killed: RQ would only clean it up minutes later) and replaced,
    or the alert's every later step would wait behind it."""
    queue = runtime.alert_queue
    if queue is None:
        return False
    job_id = f"alert-{alert_id}-deliver"
    stale = (now or runtime.now()) - timedelta(seconds=runtime.settings.sending_timeout_seconds)
    try:
        try:
            job = Job.fetch(job_id, connection=runtime.redis)
            status = job.get_status(refresh=False)
        except Exception:  # no such job (or an unreadable one): queue it
            job, status = None, None
        if status == JobStatus.STARTED and started_before(job, stale):
            log.warning("alert %s: its delivery job started before %s; queued again", alert_id,
                        stale.isoformat())  # fmt: skip
            job.delete()
        elif status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED):
            return False
        queue.enqueue(DELIVER_ALERT_JOB, alert_id, job_id=job_id, result_ttl=60,
                      failure_ttl=86400)  # fmt: skip
    except RedisError as error:
        log.warning("could not queue alert %s (%s); the tick will", alert_id, type(error).__name__)
        return False
    return True


def started_before(job: Job, moment: datetime) -> bool:
    started = job.started_at
    if started is None:
        return False
    return (started if started.tzinfo else started.replace(tzinfo=UTC)) < moment
