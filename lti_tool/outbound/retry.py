"""Retries for outbound calls: how long a caller may wait before another try (``Retry-After``
read and capped), the jittered exponential ``Backoff``, and which statuses deserve another try.

A platform or LMS may answer 429/503 with ``Retry-After: 3600``; honouring that holds a thread
(or a worker) for an hour. Callers acting for a signed-in person or a background job honour it
up to ``MAX_RETRY_AFTER_SECONDS``; calls made for an unauthenticated request (the launch's key
fetch, Dynamic Registration) never retry and never wait (``UNAUTHENTICATED``).
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from dataclasses import dataclass

MAX_RETRY_AFTER_SECONDS = 30.0


@dataclass(frozen=True)
class RetryRule:
    """How many more attempts a call may make and the longest wait between them."""

    retries: int
    max_wait_seconds: float

    def wait(self, retry_after: str | None, fallback: float) -> float:
        """Seconds to wait before the next attempt: the platform's ``Retry-After`` when it
        gave one, else ``fallback``, never more than ``max_wait_seconds``."""
        asked = retry_after_seconds(retry_after)
        chosen = fallback if asked is None else asked
        return max(0.0, min(chosen, self.max_wait_seconds))


# An unauthenticated request: one attempt, no waiting.
UNAUTHENTICATED = RetryRule(retries=0, max_wait_seconds=0.0)


def retry_after_seconds(value: str | None, cap: float = MAX_RETRY_AFTER_SECONDS) -> float | None:
    """``Retry-After`` (delta-seconds or an HTTP date) as seconds, at most ``cap``; None when
    absent or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds):
        return None
    return max(0.0, min(seconds, cap))


# Statuses worth another try: the server or a proxy in front of it is struggling.
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class Backoff:
    """``retries`` more attempts after the first, waiting about ``base * 2**n`` seconds.

    The wait is "equal jitter": half fixed, half random, so clients that failed together do not
    come back together; never more than ``cap`` seconds.
    """

    retries: int = 2
    base: float = 0.5
    cap: float = 8.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.base < 0 or self.cap < 0:
            raise ValueError("retries, base and cap must not be negative")

    @property
    def attempts(self) -> int:
        """How many requests at most: the first one plus the retries."""
        return self.retries + 1

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0 = the first)."""
        ceiling = min(self.cap, self.base * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)
