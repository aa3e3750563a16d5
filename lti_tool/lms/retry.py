"""Bounded retries with jittered exponential backoff, and which failures deserve one, shared by
the LMS clients."""

from __future__ import annotations

import random
from dataclasses import dataclass

import requests

from lti_tool.lms.source import SourceConfigError, SourceError, SourceUnavailable
from lti_tool.outbound.policy import OutboundRefused

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


def transport_failure(
    exc: requests.RequestException,
    *,
    lms: str,
    what: str,
    url: str,
    timeout: float,
    url_label: str,
    fix: str,
) -> SourceError:
    """The ``SourceError`` for a request that got no answer at all. A timeout or a broken
    connection is ``SourceUnavailable`` (worth another try); anything else ``requests`` refuses
    (a malformed URL, an unknown scheme) is a ``SourceConfigError`` telling the admin ``fix``."""
    if isinstance(exc, OutboundRefused):
        # The outbound policy (an address inside the network, plain http in production): the
        # admin who set the URL sees why; lti_tool/outbound/policy.py.
        return SourceConfigError(f"the {url_label} {url!r} is refused: {exc.message}")
    if isinstance(exc, requests.Timeout):
        return SourceUnavailable(f"{lms} did not answer {what} within {timeout:g} s")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return SourceUnavailable(f"could not reach {lms} at {url} ({type(exc).__name__})")
    return SourceConfigError(f"the {url_label} {url!r} is not usable ({type(exc).__name__}): {fix}")
