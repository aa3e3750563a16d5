"""The one HTTP client for outbound calls: timeouts always, bounded retries with backoff.

pylti1p3's ``ServiceConnector`` and ``MessageLaunch.fetch_public_key`` call ``requests`` with no
timeout; every call the tool makes goes through a session built here instead.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "clinical-leadership-pathway-tool/0.1 (+LTI 1.3)"


class TimeoutSession(requests.Session):
    """A ``requests.Session`` whose calls carry a timeout unless one is given."""

    def __init__(self, timeout: float, retries: int) -> None:
        super().__init__()
        self.default_timeout = timeout
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.2,
            backoff_jitter=0.1,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=20, pool_maxsize=50)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, *args, **kwargs)


def make_session(timeout: float, retries: int) -> TimeoutSession:
    """Build the shared outbound session."""
    return TimeoutSession(timeout=timeout, retries=retries)
