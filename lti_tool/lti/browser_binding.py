"""Binding a launch to the browser that started its login (pylti1p3 only compares a cookie
holding the state itself).

The login keeps a random secret for the browser: in a cookie, and also, when the platform
offers LTI platform storage, in the platform's storage (``lti.put_data``). The launch must
present it: as the cookie, or as ``lti_storage_secret`` posted by the page that read it back
(``lti.get_data``). A launch without either, from a platform offering storage, first gets
that page (``StorageBindingNeeded``; the state is only peeked at); without storage it is
refused with a way to start again in a window of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from lti_tool.errors import LaunchRefused
from lti_tool.lti.collaborators import StoreParts
from lti_tool.lti.login import hash_secret, storage_key, storage_target

STORAGE_SECRET_FIELD = "lti_storage_secret"  # noqa: S105 (a form field name)


class StorageBindingNeeded(Exception):
    """The launch came without the state cookie from a platform offering storage: the page
    must read the browser secret with ``lti.get_data`` and post the launch again with it.
    Nothing has been consumed yet."""

    def __init__(self, target: str, origin: str, key: str, new_window_url: str | None) -> None:
        super().__init__("platform storage needed")
        self.target = target
        self.origin = origin
        self.key = key
        self.new_window_url = new_window_url


@dataclass(frozen=True)
class BoundState:
    """The login's state record, taken; ``binding`` is "cookie" or "platform_storage"."""

    record: dict[str, Any]
    binding: str


def take_bound_state(
    services: StoreParts,
    state: str | None,
    *,
    cookie: str | None,
    from_storage: str | None,
    offered_target: str | None,
    fetch_site: str | None = None,
) -> BoundState:
    """Take the state record (single use) once the browser has shown its secret.
    ``fetch_site`` is the request's ``Sec-Fetch-Site``: a secret from platform storage is
    only accepted from the tool's own page (else another site could post an attacker's
    complete launch, secret included, into a victim's browser)."""
    if not state:
        raise LaunchRefused("missing_state", "The launch carried no state parameter.")
    if from_storage and fetch_site not in (None, "", "same-origin"):
        raise LaunchRefused(
            "storage_secret_cross_site",
            "This sign-in was posted by another site. Please launch the tool again from "
            "your course.",
            status=403,
        )
    store = services.store
    if not cookie and not from_storage:
        # Peek, don't take: the page that reads the platform's storage posts this again.
        peeked = store.get("state", state)
        target = storage_target(offered_target) or (
            peeked.get("storage_target") if peeked else None
        )
        if peeked is not None and target:
            raise StorageBindingNeeded(
                target=target,
                origin=str(peeked.get("auth_origin") or ""),
                key=storage_key(state),
                new_window_url=new_window_url(services, peeked),
            )
    record = store.take("state", state)
    if record is None:
        raise LaunchRefused(
            "state_unknown",
            "This sign-in has expired or was already used. Please launch the tool again "
            "from your course.",
        )
    presented = from_storage or cookie
    if not presented or not secrets.compare_digest(
        hash_secret(presented), str(record.get("browser"))
    ):
        raise LaunchRefused(
            "state_browser_mismatch",
            "This sign-in was started in another browser, or the browser keeps no cookies "
            "for the tool inside the course page. Open the tool in a new window, or launch "
            "it again from your course.",
            status=403,
            new_window_url=new_window_url(services, record),
        )
    return BoundState(record, "platform_storage" if from_storage else "cookie")


def new_window_url(services: StoreParts, record: Mapping[str, Any]) -> str | None:
    """The tool's own login URL with the platform's login parameters: opened as a
    top-level window, the tool's cookie is first-party and the launch can complete (if the
    platform's hint can be used again; the login's cookie check makes this rare)."""
    login = record.get("login")
    if not isinstance(login, dict) or not login.get("iss") or not login.get("login_hint"):
        return None
    url = services.settings.url_for_tool("/lti/login/window")
    return f"{url}?{urlencode({str(k): str(v) for k, v in login.items()})}"
