"""A platform's OpenID error answer at the launch endpoint.

Instead of an ``id_token`` the platform may answer the authorization request with ``error``
and ``error_description`` (OpenID Connect Core 3.2.2.6, posted with ``form_post``): for
instance Moodle's "Invalid request" when a launch's one-time hint was already used, or
``login_required`` when the person's platform session ended. pylti1p3 only sees a missing
``id_token``; here the person is told what the platform said.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lti_tool.errors import LaunchRefused

_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
DESCRIPTION_LIMIT = 300


class PlatformRefusedLogin(LaunchRefused):
    """The platform answered the sign-in with an OpenID error (its own words kept short)."""

    title = "Your learning platform did not sign you in"


def platform_refusal(form: Mapping[str, str]) -> PlatformRefusedLogin | None:
    """The refusal to show when the launch POST is an OpenID error answer, else None."""
    if form.get("id_token") or not form.get("error"):
        return None
    error = str(form.get("error", "")).strip()
    code = error if _ERROR_CODE.match(error) else "unreadable"
    said = short_description(str(form.get("error_description") or ""))
    message = (
        "Your learning platform answered the tool's sign-in request with an error "
        f"({code})" + (f": “{said}”" if said else "") + ". Open the tool again from your "
        "course; if this keeps happening, give the reference below to your platform's "
        "administrator."
    )
    return PlatformRefusedLogin("platform_error", message)


def short_description(value: str) -> str:
    """The platform's description on one line, at most ``DESCRIPTION_LIMIT`` characters
    (the page escapes it like any other text)."""
    text = " ".join(_CONTROL.sub(" ", value).split())
    if len(text) > DESCRIPTION_LIMIT:
        text = text[: DESCRIPTION_LIMIT - 1].rstrip() + "…"
    return text
