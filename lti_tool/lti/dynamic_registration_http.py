"""LTI Dynamic Registration, the calls to the platform: GET its OpenID configuration, POST the
client registration. Each call has the session's timeout, follows no redirect (it would carry
the registration token away) and reads at most ``MAX_BODY_BYTES``.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from lti_tool.errors import UpstreamError
from lti_tool.lti.dynamic_registration import (
    PlatformConfiguration,
    PlatformRefused,
    RegistrationRefused,
    check_configuration_url,
    display_url,
    parse_platform_configuration,
)
from lti_tool.lti.dynamic_registration_response import (
    RegistrationResult,
    parse_registration_response,
    platform_words,
)

MAX_BODY_BYTES = 256 * 1024


def _read_limited(response: requests.Response, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(16384):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PlatformRefused("answer_too_large", f"{display_url(url)} answered too much.")
        chunks.append(chunk)
    return b"".join(chunks)


def _exchange(
    http: requests.Session, method: str, url: str, token: str | None, payload: Any = None
) -> tuple[int, str, bytes]:
    """One call with the session's timeout, no redirects (they would carry the token away)
    and a size limit; returns status, content type and body."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if payload is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(payload)
    try:
        response = http.request(
            method, url, headers=headers, data=data, allow_redirects=False, stream=True
        )
        with response:
            body = _read_limited(response, url)
    except requests.Timeout as exc:
        raise UpstreamError(
            "platform_timeout", f"{display_url(url)} did not answer in time."
        ) from exc
    except requests.RequestException as exc:
        raise UpstreamError(
            "platform_unreachable",
            f"{display_url(url)} could not be reached ({exc.__class__.__name__}).",
        ) from exc
    return response.status_code, response.headers.get("Content-Type", ""), body


def fetch_configuration(
    http: requests.Session, url: str, token: str | None, *, development: bool
) -> PlatformConfiguration:
    """GET the platform's OpenID configuration (with the registration token as bearer: Canvas
    requires it, Moodle ignores it) and validate it."""
    url = check_configuration_url(url, development=development)
    status, content_type, body = _exchange(http, "GET", url, token)
    if status != 200:
        raise PlatformRefused(
            "configuration_refused",
            f"{display_url(url)} answered HTTP {status}: {platform_words(body, content_type)}",
        )
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise RegistrationRefused(
            "bad_configuration", f"{display_url(url)} did not answer with JSON."
        ) from exc
    return parse_platform_configuration(document, url, development=development)


def register_with_platform(
    http: requests.Session, config: PlatformConfiguration, token: str | None, body: dict[str, Any]
) -> RegistrationResult:
    """POST the client registration; the platform's refusal comes back in its own words."""
    status, content_type, answer = _exchange(
        http, "POST", config.registration_endpoint, token, payload=body
    )
    if status not in (200, 201):
        raise PlatformRefused(
            "registration_refused",
            f"{config.product} refused the registration (HTTP {status}): "
            f"{platform_words(answer, content_type)}",
        )
    try:
        parsed = json.loads(answer)
    except ValueError as exc:
        raise PlatformRefused(
            "bad_registration_response", "The platform's answer to the registration is not JSON."
        ) from exc
    return parse_registration_response(parsed)
