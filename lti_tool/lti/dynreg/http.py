"""LTI Dynamic Registration, the calls to the platform: GET its OpenID configuration, POST the
client registration. Both go through the outbound session (``lti_tool/outbound``): the URL
policy (public addresses only, pinned at connect time), one total deadline, no retries, no
redirects (one would carry the registration token away) and at most ``MAX_BODY_BYTES``
(``MAX_CONFIGURATION_BYTES`` for the anonymous configuration fetch).

Anyone can open ``/lti/register`` with any ``openid_configuration``, so these calls use
``services.registration_http``: public addresses only, whatever ``outbound_allowed_hosts``
opens for the rest of the tool; a failed connection gets one message, whatever its cause.
What the platform answered is never put on the page (that would make the tool read its own
network for a stranger): the page gives the HTTP status and the reference; the log keeps a
short excerpt.
The one exception is an OAuth-style error code (``token_already_used``), a word, not a body.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import requests

from lti_tool.errors import UpstreamError
from lti_tool.logs import log_event
from lti_tool.lti.dynreg.configuration import (
    PlatformConfiguration,
    PlatformRefused,
    RegistrationRefused,
    check_configuration_url,
    display_url,
    parse_platform_configuration,
)
from lti_tool.lti.dynreg.response import (
    RegistrationResult,
    parse_registration_response,
    platform_words,
)
from lti_tool.outbound.answers import parse_json
from lti_tool.outbound.excerpt import excerpt
from lti_tool.outbound.http import OutboundSession, OutboundTooLarge
from lti_tool.outbound.policy import OutboundRefused

MAX_BODY_BYTES = 256 * 1024
# Canvas's configuration, the largest seen (it lists every variable it expands), is ~10 KB.
MAX_CONFIGURATION_BYTES = 64 * 1024
_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
log = logging.getLogger("lti_tool.dynamic_registration")


def _exchange(
    http: OutboundSession,
    method: str,
    url: str,
    token: str | None,
    payload: Any = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> tuple[int, str, bytes]:
    """One call through the outbound session; returns status, content type and body."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if payload is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(payload)
    try:
        response = http.request(
            method,
            url,
            headers=headers,
            data=data,
            allow_redirects=False,
            max_body_bytes=max_body_bytes,
        )
    except OutboundRefused as exc:
        if exc.code != "private_address":
            raise RegistrationRefused(exc.code, exc.message) from exc
        # Which address a name resolves to inside our network is for the log only.
        log_event(log, logging.WARNING, "outbound refused", code=exc.code, reason=exc.message)
        raise RegistrationRefused(
            exc.code,
            f"{display_url(url)} points inside a private network or at the tool's own machine; "
            "the tool fetches only public platform addresses.",
        ) from exc
    except OutboundTooLarge as exc:
        raise PlatformRefused("answer_too_large", f"{display_url(url)} answered too much.") from exc
    except requests.RequestException as exc:
        # One answer for every way a connection fails: refused, reset, TLS, timeout. Telling
        # them apart would let anyone map which ports answer where (the class is logged).
        log_event(
            log,
            logging.WARNING,
            "platform unreachable",
            code="platform_unreachable",
            url=display_url(url),
            error=exc.__class__.__name__,
        )
        what = "fetch the configuration from" if method == "GET" else "reach"
        raise UpstreamError(
            "platform_unreachable", f"The tool could not {what} {display_url(url)}."
        ) from exc
    return response.status_code, response.headers.get("Content-Type", ""), response.content


def _refusal_words(code: str, url: str, status: int, body: bytes, content_type: str) -> str:
    """Log what the platform said; for the page, only an OAuth-style error code."""
    words = platform_words(body, content_type)
    log_event(
        log,
        logging.WARNING,
        "platform refused",
        code=code,
        url=display_url(url),
        http_status=status,
        excerpt=excerpt(body),
    )
    if _ERROR_CODE.match(words):
        return words
    return "its explanation is in the tool's log under the reference below"


def fetch_configuration(
    http: OutboundSession, url: str, token: str | None, *, development: bool
) -> PlatformConfiguration:
    """GET the platform's OpenID configuration (with the registration token as bearer: Canvas
    requires it, Moodle ignores it) and validate it."""
    url = check_configuration_url(url, development=development)
    status, content_type, body = _exchange(
        http, "GET", url, token, max_body_bytes=MAX_CONFIGURATION_BYTES
    )
    if status != 200:
        _refusal_words("configuration_refused", url, status, body, content_type)
        raise PlatformRefused(
            "configuration_refused",
            f"{display_url(url)} answered HTTP {status} instead of its configuration.",
        )
    try:
        document = parse_json(body)
    except ValueError as exc:
        raise RegistrationRefused(
            "bad_configuration", f"{display_url(url)} did not answer with JSON."
        ) from exc
    return parse_platform_configuration(document, url, development=development)


def register_with_platform(
    http: OutboundSession, config: PlatformConfiguration, token: str | None, body: dict[str, Any]
) -> RegistrationResult:
    """POST the client registration; the platform's refusal comes back in its own words."""
    status, content_type, answer = _exchange(
        http, "POST", config.registration_endpoint, token, payload=body
    )
    if status not in (200, 201):
        words = _refusal_words(
            "registration_refused", config.registration_endpoint, status, answer, content_type
        )
        raise PlatformRefused(
            "registration_refused",
            f"{config.product} refused the registration (HTTP {status}): {words}",
        )
    try:
        parsed = parse_json(answer)
    except ValueError as exc:
        raise PlatformRefused(
            "bad_registration_response", "The platform's answer to the registration is not JSON."
        ) from exc
    return parse_registration_response(parsed)
