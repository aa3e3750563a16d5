"""The shared per-address window counter on Redis (web/rate_limit.py): one command a hit, the
window's key given its lifetime at the first hit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from lti_tool.web.rate_limit import WINDOW_SECONDS, WindowCounter
from tests.support.backends import REDIS_URL

pytestmark = pytest.mark.redis


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(REDIS_URL)
    yield connection
    connection.close()


def test_hits_count_up_and_the_window_expires(client: redis.Redis) -> None:
    prefix = "t-" + uuid.uuid4().hex[:8]
    counter = WindowCounter(client, prefix)
    key = f"{prefix}:ratelimit:login:192.0.2.1:7"
    try:
        assert [counter.hit("login:192.0.2.1", 7) for _ in range(4)] == [1, 2, 3, 4]
        assert 0 < client.ttl(key) <= WINDOW_SECONDS * 2
        assert counter.hit("login:192.0.2.2", 7) == 1  # another address, its own count
        assert counter.hit("login:192.0.2.1", 8) == 1  # the next window starts again
    finally:
        client.delete(*client.keys(f"{prefix}:*"))
