"""What the sandbox's Dynamic Registration fakes share (``dynreg_moodle.py``,
``dynreg_canvas.py``): the LTI vocabulary, the record of an accepted registration, and a fake
platform's signing secret, records and configuration overrides.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import jwt

from lti_tool.lti.claims import AGS_SCOPE, NRPS_SCOPE

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
AGS = AGS_SCOPE
NRPS = NRPS_SCOPE
CLAIMS = ["sub", "iss", "name", "given_name", "family_name", "email"]
PRIVATE_KEY_JWT = "private_key_jwt"


@dataclass
class Registered:
    """One accepted registration: the body the tool sent, its headers, the answer."""

    body: dict[str, Any]
    authorization: str
    content_type: str
    response: dict[str, Any]


@dataclass
class FakePlatform:
    """What both fakes share: a signing secret, records, configuration overrides."""

    # Configuration fields replaced (None removes them): tests break configurations with it.
    overrides: dict[str, Any] = field(default_factory=dict)
    registered: list[Registered] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    used_tokens: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def _apply(self, config: dict[str, Any]) -> dict[str, Any]:
        for key, value in self.overrides.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        return config

    def _claims(self, authorization: str) -> dict[str, Any] | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            claims: dict[str, Any] = jwt.decode(token.strip(), self.secret, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            return None
        return claims


def tool_configuration(body: dict[str, Any]) -> dict[str, Any]:
    """The registration's ``lti-tool-configuration`` object, or an empty one."""
    value = body.get(TOOL_CONFIGURATION)
    return value if isinstance(value, dict) else {}
