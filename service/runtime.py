"""What a process needs to do its work, built once at its start-up.

The web app keeps its runtime in ``app.extensions``; an RQ worker or the
planner builds one from the environment the first time a job asks for it.
Nothing here is built at import time.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from redis import Redis
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.db import make_engine, make_session_factory
from service.gateways import SmsGateway, build_gateway
from service.models import utcnow
from service.redis_connection import connect_redis, uses_redis
from service.settings import Settings, load_settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    redis: Redis | None

    @cached_property
    def queue(self) -> Queue | None:
        """The nudges' queue."""
        if self.redis is None:
            return None
        return Queue(self.settings.queue_name, connection=self.redis)

    @cached_property
    def alert_queue(self) -> Queue | None:
        """Staff alerts have their own queue, which workers take before the nudges."""
        if self.redis is None:
            return None
        return Queue(self.settings.alert_queue_name, connection=self.redis)

    @cached_property
    def inbound_queue(self) -> Queue | None:
        """Texts to handle, one job per sender; workers take them before the nudges."""
        if self.redis is None:
            return None
        return Queue(self.settings.inbound_queue_name, connection=self.redis)

    @cached_property
    def gateway(self) -> SmsGateway:
        return build_gateway(self.settings, self.session_factory)

    def now(self) -> datetime:
        """The current time; tests replace this to control the clock."""
        return utcnow()

    def close(self) -> None:
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


def build_runtime(settings: Settings) -> Runtime:
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    redis = connect_redis(settings) if uses_redis(settings) else None
    # An RQ worker forks a work horse per job: the child must not reuse the parent's
    # database connections (redis-py already re-creates its pool after a fork).
    engine_ref = weakref.ref(engine)
    os.register_at_fork(after_in_child=lambda: _dispose_in_child(engine_ref))
    return Runtime(settings, engine, make_session_factory(engine), redis)


def _dispose_in_child(engine_ref: weakref.ref[Engine]) -> None:
    engine = engine_ref()
    if engine is not None:
        engine.dispose(close=False)


_process_runtime: Runtime | None = None


def current_runtime() -> Runtime:
    """This process's runtime (jobs call this); built from the environment on first use."""
    global _process_runtime
    if _process_runtime is None:
        _process_runtime = build_runtime(load_settings())
    return _process_runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install the runtime jobs use in this process (worker start-up and tests)."""
    global _process_runtime
    _process_runtime = runtime
