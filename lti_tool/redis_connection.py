"""The one way the tool makes a Redis client: the store, the job queue, the rate limit and the
worker all get the settings' deadlines from here.

redis-py's own defaults would let one command take a minute when Redis is down or not
answering (ten retries with growing back-off, five seconds each): a request would hang
instead of getting the "briefly unavailable" page.
"""

from __future__ import annotations

from typing import Any

from lti_tool.settings import Settings


def redis_client(url: str, *, connect_timeout: float, timeout: float) -> Any:
    """A client for ``url`` whose connect and each answer have a deadline; one immediate
    retry (a pooled connection cut by a Redis restart is replaced once, not retried for
    long)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_connect_timeout=connect_timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
    )


def settings_redis_client(settings: Settings) -> Any:
    """The client for the configured Redis (``redis_url``), with its deadline settings."""
    return redis_client(
        settings.redis_url,
        connect_timeout=settings.redis_connect_timeout_seconds,
        timeout=settings.redis_timeout_seconds,
    )
