"""The Redis connection, built at start-up from settings.

Either one server (``REDIS_URL``: redis://, rediss:// with TLS, unix://) or,
for failover, the master that Redis Sentinel names (``REDIS_SENTINELS`` and
``REDIS_SENTINEL_MASTER``): after a failover the client asks the sentinels
again and follows the new master. The RQ queues on it are the runtime's
(:mod:`service.runtime`); what goes on them is :mod:`service.queueing`'s.
"""

from __future__ import annotations

from redis import Redis
from redis.sentinel import Sentinel

from service.settings import Settings

TIMEOUTS = {"socket_timeout": 30, "socket_connect_timeout": 5}


def uses_redis(settings: Settings) -> bool:
    return bool(settings.redis_url or settings.redis_sentinels)


def connect_redis(settings: Settings) -> Redis:
    if settings.redis_sentinels:
        sentinel = Sentinel(
            list(settings.redis_sentinels),
            sentinel_kwargs={"socket_connect_timeout": 5, "socket_timeout": 5},
            **TIMEOUTS,
        )
        return sentinel.master_for(
            settings.redis_sentinel_master,
            password=settings.redis_password,
            health_check_interval=30,
        )
    assert settings.redis_url is not None
    return Redis.from_url(settings.redis_url, health_check_interval=30, **TIMEOUTS)


def limiter_storage_uri(settings: Settings) -> str:
    """The same Redis, in the URI form Flask-Limiter's storage understands."""
    if settings.redis_sentinels:
        hosts = ",".join(f"{host}:{port}" for host, port in settings.redis_sentinels)
        return f"redis+sentinel://{hosts}/{settings.redis_sentinel_master}"
    url = settings.redis_url
    if url is None:
        return "memory://"
    return "redis+unix://" + url.removeprefix("unix://") if url.startswith("unix://") else url
