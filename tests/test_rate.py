"""The shared sending rate: slots spaced evenly, across every worker."""

import itertools

import pytest
from redis import Redis

from workers.rate import RateLimiter


@pytest.fixture
def redis(redis_url):
    connection = Redis.from_url(redis_url)
    yield connection
    connection.close()


def test_slots_are_spaced_by_the_rate_across_workers(redis):
    workers = [RateLimiter(redis, "+15005550006", 10.0) for _ in range(3)]
    slots = [workers[i % 3].reserve() for i in range(30)]
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(slots)]
    assert gaps == [0.1] * 29


def test_each_sending_number_has_its_own_rate(redis):
    first = RateLimiter(redis, "+15005550006", 1.0)
    second = RateLimiter(redis, "MG123", 1.0)
    a, b = first.reserve(), second.reserve()
    assert abs(a - b) < 0.5  # neither waited for the other


def test_without_redis_there_is_no_shared_wait():
    limiter = RateLimiter(None, "x", 1.0)
    first, second = limiter.reserve(), limiter.reserve()
    assert second - first < 0.5  # with Redis these would be a whole second apart
