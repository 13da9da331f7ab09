"""Redis connections and the RQ queue, built at start-up from settings."""

from __future__ import annotations

from redis import Redis
from rq import Queue

from service.settings import Settings


def connect_redis(url: str) -> Redis:
    return Redis.from_url(
        url, socket_timeout=30, socket_connect_timeout=5, health_check_interval=30
    )


def make_queue(settings: Settings, connection: Redis) -> Queue:
    return Queue(settings.queue_name, connection=connection)
