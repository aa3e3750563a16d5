"""What the sandbox's LTI services (NRPS, AGS, groups) share: the bearer-token check and the
error answer. Apart from ``app.py`` so the services need not import the app that registers them."""

from __future__ import annotations

import time

from flask import Response, jsonify, request

from lti_tool.sandbox.platform import SandboxPlatform


class ServiceRefused(Exception):
    """A service call refused with ``status`` (Moodle's JSON error body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def service_error(status: int, reason: str) -> Response:
    """The error answer of a sandbox service."""
    # Moodle's shape: JSON, and no WWW-Authenticate on 401.
    response = jsonify({"status": status, "reason": reason})
    response.status_code = status
    return response


def require_scope(platform: SandboxPlatform, scope: str) -> None:
    """Refuse (401) a call whose bearer token is unknown, expired or lacks ``scope``."""
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    granted = platform.access_tokens.get(token)
    if granted is None or granted[1] < time.time() or scope not in granted[0]:
        raise ServiceRefused(401, "Unauthorized")
