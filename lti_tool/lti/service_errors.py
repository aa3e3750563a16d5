"""What a call to a platform's LTI service (NRPS, AGS) can fail with: the platform's status and
own words kept for the code's checks (``ServiceCallFailed``), and a service URL refused before
any call (``ServiceUrlRefused``)."""

from __future__ import annotations

import requests

from lti_tool.errors import UpstreamError
from lti_tool.outbound.answers import platform_words
from lti_tool.outbound.retry import TRANSIENT_STATUSES


class ServiceCallFailed(UpstreamError):
    """A platform service refused or failed; ``status`` and the platform's own words kept."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None,
        body: str = "",
        words: str = "",
        retry_after: str | None = None,
    ) -> None:
        super().__init__("service_failed", message, status=502)
        self.http_status = http_status
        self.body = body[:2000]  # for the code's own checks; people see ``message`` only
        # The platform's own explanation alone (an escaped excerpt), without "HTTP 400: ".
        self.words = words
        self.retry_after = retry_after  # the platform's ``Retry-After``, for a caller's retry
        # Earlier tries of this same call that met a server error or no answer: the platform
        # may have acted on one of them (a proxy's 502, a read timeout), so a refusal of this
        # one may be about that (a score already stored with this timestamp).
        self.unanswered_before = 0

    @property
    def retryable(self) -> bool:
        return self.http_status is None or self.http_status in TRANSIENT_STATUSES | {429}


class ServiceUrlRefused(ServiceCallFailed):
    """A service URL the tool does not call: not on the registration's hosts (from a launch
    claim), refused by the outbound policy, or a next page past a paged read's bounds
    (``code``); never retried."""

    title = "The platform's service address was refused"

    def __init__(self, message: str, code: str = "foreign_service_url") -> None:
        super().__init__(message, http_status=None)
        self.code = code

    @property
    def retryable(self) -> bool:
        return False


def refused(response: requests.Response) -> ServiceCallFailed:
    """The ``ServiceCallFailed`` for a platform's error answer, with its own words."""
    words = platform_words(response)
    message = f"HTTP {response.status_code}: {words}" if words else f"HTTP {response.status_code}"
    return ServiceCallFailed(
        message,
        http_status=response.status_code,
        body=response.text,
        words=words,
        retry_after=response.headers.get("Retry-After"),
    )
