"""Putting send jobs on the queue, with deterministic job ids.

The database row is the truth; a job is only a reminder to look at it. A
missing job is re-created by the reconciler, and a duplicate job finds the
row already claimed and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from redis.exceptions import RedisError
from rq import Retry
from rq.job import Job

from service.runtime import Runtime

log = logging.getLogger(__name__)

SEND_RETRY = Retry(max=5, interval=[10, 30, 60, 120, 300])


def send_job_id(message_id: int) -> str:
    return f"send-{message_id}"


def enqueue_sends(runtime: Runtime, due: Iterable[tuple[int, datetime]]) -> int:
    """Queue ``send_nudge`` for each (message id, due time); return how many were queued.

    When Redis is unavailable the rows stay planned and the reconciler queues
    them later; nothing is lost.
    """
    queue = runtime.queue
    if queue is None:
        return 0
    now = runtime.now()
    queued = 0
    try:
        for message_id, due_at in due:
            job_id = send_job_id(message_id)
            if Job.exists(job_id, connection=queue.connection):
                continue
            if due_at > now:
                queue.enqueue_at(
                    due_at, "workers.sender.send_nudge", message_id, job_id=job_id,
                    retry=SEND_RETRY, result_ttl=600, failure_ttl=86400,
                )  # fmt: skip
            else:
                queue.enqueue(
                    "workers.sender.send_nudge", message_id, job_id=job_id,
                    retry=SEND_RETRY, result_ttl=600, failure_ttl=86400,
                )  # fmt: skip
            queued += 1
    except RedisError as error:
        log.warning("could not queue sends (%s); the reconciler will", type(error).__name__)
    return queued
