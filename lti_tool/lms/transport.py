"""How the LMS clients report a request that got no answer at all (timeout, broken connection,
refused or unusable URL) as a ``SourceError``."""

from __future__ import annotations

import requests

from lti_tool.lms.source import SourceConfigError, SourceError, SourceUnavailable
from lti_tool.outbound.policy import OutboundRefused


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
