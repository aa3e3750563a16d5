"""Per-address rate limits on the pages anyone can call that make the tool work for them:
``/lti/register`` (fetches a stranger's URL) and ``/lti/login`` (writes login state). An IPv6
client counts per /64, the block one subscriber gets.

A fixed one-minute window per address and page. With Redis configured the count is shared by
every worker (one ``INCR`` per request); without it each process counts on its own (the
embedded set-up is one process), so the shared SQL store is not written on every login. Over
the limit: 429 with ``Retry-After`` and a plain message. If Redis fails, the request goes
through (logged): a limiter must not take the platform's launches down with it.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, request

from lti_tool.container import Services
from lti_tool.logs import log_event
from lti_tool.outages import unavailable_dependency
from lti_tool.web.errors import error_response

log = logging.getLogger("lti_tool.rate_limit")
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Limit:
    name: str
    matches: Callable[[str], bool]
    per_minute: Callable[[Services], int]


LIMITS = (
    Limit(
        "register",
        lambda path: path.rstrip("/") == "/lti/register",
        lambda s: s.settings.rate_limit_register_per_minute,
    ),
    Limit(
        "login",
        # Not the cookie check's second step (/lti/login/continue): it only goes on with a
        # login counted here (its single-use record), so counting it too would spend two of
        # an address's logins on one launch and a round trip to Redis more.
        lambda path: (
            (path.rstrip("/") == "/lti/login" or path.startswith("/lti/login/"))
            and not path.startswith("/lti/login/continue")
        ),
        lambda s: s.settings.rate_limit_login_per_minute,
    ),
)


class WindowCounter:
    """Counts hits per key in the current window: Redis when given, else this process."""

    def __init__(self, redis: object | None, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._local: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int) -> int:
        """Count one hit of ``key`` in ``window``; the count so far."""
        if self._redis is not None:
            name = f"{self._prefix}:ratelimit:{key}:{window}"
            count = int(self._redis.incr(name))  # type: ignore[attr-defined]
            if count == 1:
                # The window's first hit sets its lifetime; later hits are one command each.
                # (Were this lost, the key names a past window: it is only never reused.)
                self._redis.expire(name, WINDOW_SECONDS * 2)  # type: ignore[attr-defined]
            return count
        with self._lock:
            if len(self._local) > 50_000:  # drop finished windows
                self._local = {k: v for k, v in self._local.items() if k[1] >= window}
            count = self._local.get((key, window), 0) + 1
            self._local[(key, window)] = count
            return count


def client_key(address: str | None) -> str:
    """Whom a request counts against: the IPv4 address, or the IPv6 /64 (one subscriber's
    network; a client picks any interface id in it at will)."""
    try:
        parsed = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def init_app(app: Flask) -> None:
    """Check the limits before the views of the limited pages run."""
    services: Services = app.extensions["lti_tool"]
    redis = getattr(services.store, "client", None) if services.settings.redis_url else None
    counter = WindowCounter(redis, services.settings.redis_prefix)

    @app.before_request
    def _rate_limit() -> Response | None:
        path = request.path
        limit = next((lim for lim in LIMITS if lim.matches(path)), None)
        if limit is None:
            return None
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        try:
            count = counter.hit(f"{limit.name}:{client_key(request.remote_addr)}", window)
        except Exception as exc:  # Redis down: let the request through, say so in the log
            if unavailable_dependency(exc) is None:
                log_event(log, logging.WARNING, "rate limit unavailable", error=type(exc).__name__)
            # Redis down: the page needs it too and its 503 is logged; one line is enough.
            return None
        if count <= limit.per_minute(services):
            return None
        log_event(log, logging.WARNING, "rate limited", code="rate_limited", page=limit.name)
        response = error_response(
            429,
            "rate_limited",
            "Too many requests",
            "Too many requests have come from your network address in the last minute. "
            "Wait a minute and try again.",
        )
        response.headers["Retry-After"] = str(int((window + 1) * WINDOW_SECONDS - now) + 1)
        return response
