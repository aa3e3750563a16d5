"""LTI Dynamic Registration 1.0, the platform's answers: the registration response read for
its client and deployment, and a refusal turned into a short text for people.

Moodle 4.5.6 answers with ``deployment_id`` inside the tool configuration (as the spec shows);
recent Canvas puts it at the top level; older Canvas sends none (its deployment is made when an
admin enables the app, and the first launch records it).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from lti_tool.lti.dynreg.configuration import PlatformRefused
from lti_tool.lti.dynreg.request import TOOL_CONFIGURATION
from lti_tool.outbound.answers import parse_json

_TAGS = re.compile(r"<[^>]*>")
MAX_PLATFORM_WORDS = 300
# registrations.client_id and deployments.deployment_id are 255 characters.
MAX_IDENTIFIER_LENGTH = 255


@dataclass(frozen=True)
class RegistrationResult:
    """What the platform answered: the client it made, and its deployment when it said."""

    client_id: str
    deployment_id: str | None
    granted_scopes: tuple[str, ...] | None


def _identifier(value: Any, name: str) -> str | None:
    """The identifier as text, None when absent; refused when it is not one a column holds
    (anyone's server can answer /lti/register: PostgreSQL refused NUL and over-long ids)."""
    if isinstance(value, bool):
        return None
    if not isinstance(value, int | str) or not str(value).strip():
        return None
    text = str(value).strip()
    if len(text) > MAX_IDENTIFIER_LENGTH or any(
        unicodedata.category(ch) in ("Cc", "Cs") for ch in text
    ):
        raise PlatformRefused(
            "bad_registration_response",
            f"The platform's answer gives a {name} that is longer than "
            f"{MAX_IDENTIFIER_LENGTH} characters or holds control characters.",
            # What a stranger's server answered, refused in words: not the tool failing.
            status=422,
        )
    return text


def parse_registration_response(body: Any) -> RegistrationResult:
    """Read the platform's answer: ``client_id``, and ``deployment_id`` from the tool
    configuration (spec, Moodle) or the top level (recent Canvas), if present at all. An
    identifier over 255 characters or holding NUL, a lone surrogate or another control
    character is refused (``bad_registration_response``)."""
    if not isinstance(body, dict):
        raise PlatformRefused("bad_registration_response", "The platform's answer is not JSON.")
    client_id = _identifier(body.get("client_id"), "client ID")
    if client_id is None:
        raise PlatformRefused(
            "bad_registration_response", "The platform's answer carries no client_id."
        )
    tool_configuration = body.get(TOOL_CONFIGURATION)
    nested = (
        tool_configuration.get("deployment_id") if isinstance(tool_configuration, dict) else None
    )
    deployment_id = _identifier(nested, "deployment ID") or _identifier(
        body.get("deployment_id"), "deployment ID"
    )
    scope = body.get("scope")
    granted = tuple(scope.split()) if isinstance(scope, str) else None
    return RegistrationResult(client_id, deployment_id, granted)


def platform_words(body: bytes, content_type: str = "") -> str:
    """What the platform said, short and as text: Moodle answers plain words
    (``token_already_used``) labelled text/html, Canvas JSON ``{"errorMessage": …}``."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = parse_json(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error_description", "errorMessage", "message", "error", "errors", "reason"):
            if data.get(key):
                value = data[key]
                text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                break
    elif text.startswith("<") or ("html" in content_type and "<" in text):
        text = _TAGS.sub(" ", text)
    text = " ".join(text.split())
    if len(text) > MAX_PLATFORM_WORDS:
        text = text[: MAX_PLATFORM_WORDS - 1] + "…"
    return text or "(no explanation given)"
