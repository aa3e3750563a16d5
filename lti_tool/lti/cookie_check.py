"""Does the browser keep the tool's cookies here? Found out before the platform is asked.

A platform's ``lti_message_hint`` may work once (Moodle keeps the launch in its session and
forgets it when the authorization request uses it). The login's state is bound to the browser
by a cookie; if the browser keeps no cookie for the tool in this frame, finding that out at the
launch is too late: the hint is spent, and a new window restarting the same login gets "Invalid
request". So a login without platform storage first sets a test cookie and sends the browser to
``/lti/login/continue``. Only if the cookie came back does the login go on to the platform;
otherwise the page offers a new window that starts the same login at the top level, where the
hint is still unspent.

pylti1p3 has ``enable_check_cookies`` for this; it is not used because its page tests with a
cookie written by JavaScript without ``Partitioned``, which a browser that blocks third-party
cookies refuses even where it keeps the tool's partitioned cookies (Chrome's default inside
Moodle): every framed Moodle launch would be sent to a new window. It also needs inline script
(our CSP allows only nonce-bearing scripts) and tests ``document.cookie`` rather than the
HttpOnly cookie the launch relies on. Here the test cookie is written by the server through the
frame cookie policy (lti_tool/cookies.py), exactly like the state cookie, and no script is
needed.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from lti_tool.errors import LaunchRefused
from lti_tool.lti.collaborators import LoginParts
from lti_tool.lti.login import LOGIN_PARAMS, login_with_params, storage_target

CHECK_COOKIE = "lti_cookie_check"
CHECK_PARAM = "check"
_KIND = "cookie_check"
# A browser that sent the cookie back once keeps it in this context: later logins from the
# same course site skip the extra round trip while it lasts.
CHECK_COOKIE_MAX_AGE = 30 * 24 * 3600


@dataclass(frozen=True)
class PendingCheck:
    """A login waiting to learn whether the browser kept the test cookie."""

    login: dict[str, str]
    registration_pk: int | None
    top_level: bool


def login_params(values: Mapping[str, str]) -> dict[str, str]:
    """The platform's login parameters worth keeping (what the platform sent, nothing else)."""
    return {name: str(value) for name in LOGIN_PARAMS if (value := values.get(name))}


def check_needed(values: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
    """Whether this login must test the browser's cookies first: not when the platform offers
    its storage (the launch falls back to it) nor when the browser already sent the cookie."""
    if storage_target(values.get("lti_storage_target")) is not None:
        return False
    return not cookies.get(CHECK_COOKIE)


def begin_check(
    services: LoginParts,
    values: Mapping[str, str],
    registration_pk: int | None,
    *,
    top_level: bool,
) -> str:
    """Keep the login for the continue step; the id goes in the URL, the cookie separately."""
    check_id = secrets.token_urlsafe(24)
    record: dict[str, Any] = {
        "login": login_params(values),
        "registration_pk": registration_pk,
        "top_level": top_level,
    }
    services.store.put(_KIND, check_id, record, services.settings.state_ttl_seconds)
    return check_id


def take_check(services: LoginParts, check_id: str | None) -> PendingCheck:
    """The login kept by ``begin_check`` (single use)."""
    record = services.store.take(_KIND, check_id) if check_id else None
    if record is None or not isinstance(record.get("login"), dict):
        raise LaunchRefused(
            "cookie_check_unknown",
            "This sign-in has expired or was already used. Please launch the tool again "
            "from your course.",
        )
    pk = record.get("registration_pk")
    return PendingCheck(
        login={str(k): str(v) for k, v in record["login"].items()},
        registration_pk=pk if isinstance(pk, int) else None,
        top_level=bool(record.get("top_level")),
    )


def cookie_came_back(cookies: Mapping[str, str]) -> bool:
    return bool(cookies.get(CHECK_COOKIE))


def window_login_url(services: LoginParts, pending: PendingCheck) -> str:
    """The same login, started at the top level (a window of its own): the tool's cookies are
    first-party there, and the platform's hint is still unspent."""
    path = "/lti/login/window"
    if pending.registration_pk is not None:
        path += f"/{pending.registration_pk}"
    return services.settings.url_for_tool(path) + "?" + urlencode(pending.login)


def continue_login(services: LoginParts, pending: PendingCheck) -> Any:
    """The login kept by ``begin_check``, on to the platform (a redirect that sets the state
    cookie, as ``flow.start_login`` does for the request's own parameters)."""
    return login_with_params(services, pending.registration_pk, pending.login)
