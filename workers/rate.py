"""The sending rate, shared by every worker through Redis.

A carrier allows a sending number so many messages per second. Each send
reserves the next free slot (an atomic Lua script keeps one "next free time"
per sender), then waits for it, so nudges due in the same minute leave evenly
spaced instead of in a burst, however many workers there are.
"""

from __future__ import annotations

import time

from redis import Redis
from redis.exceptions import RedisError

# KEYS[1]: the sender's key. ARGV: now (s), interval (s), ttl (s), count.
# Reserves ``count`` consecutive slots; returns the first one's time.
RESERVE = """
local now = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local after = slot + tonumber(ARGV[2]) * tonumber(ARGV[4])
redis.call('SET', KEYS[1], tostring(after), 'EX', tonumber(ARGV[3]))
return tostring(slot)
"""


class RateLimiter:
    """Spreads sends for one sending identity to ``per_second``."""

    def __init__(self, redis: Redis | None, sender: str, per_second: float):
        self.redis = redis
        self.key = f"peernudge:rate:{sender}"
        self.interval = 1.0 / per_second
        self._script = redis.register_script(RESERVE) if redis is not None else None

    def reserve(self) -> float:
        """The wall-clock time at which this send may go (now, or later)."""
        return self.reserve_many(1)[0]

    def reserve_many(self, count: int) -> list[float]:
        """``count`` consecutive slots in one round trip (a batch of sends)."""
        now = time.time()
        if self._script is None or count == 0:
            return [now] * count
        try:
            first = float(self._script(keys=[self.key], args=[now, self.interval, 3600, count]))
        except RedisError:
            return [now] * count  # no shared rate without Redis; the provider's 429 still guards
        return [first + i * self.interval for i in range(count)]
