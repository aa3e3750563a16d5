"""Launch sessions: what a validated launch grants, kept server-side in the shared store.

The browser holds an opaque random token, as a cookie or (inside iframes that block
third-party cookies) as ``Authorization: Bearer``; the store holds only its SHA-256 hash.

Each launch session also has a short random *binding id*: one browser may hold several
launches at once (course A in one tab, course B in another), each in a cookie of its own
(``lti_tool_session_<binding id>``), and every page names the binding it belongs to
(web/page_binding.py), so a form of course A can never act on course B.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from lti_tool.lti.launch_context import Launch
from lti_tool.lti.store import EphemeralStore

SESSION_COOKIE_PREFIX = "lti_tool_session_"
_KIND = "session"
_BINDING_ID = re.compile(r"[A-Za-z0-9_-]{8,32}")


@dataclass(frozen=True)
class LaunchSession:
    """A live launch session: the hash of its token (naming what is kept beside it, such as
    deep-linking settings) and the launch it grants."""

    token_hash: str
    launch: Launch

    @property
    def is_staff(self) -> bool:
        return self.launch.is_staff

    @property
    def user_pk(self) -> int:
        return self.launch.user_pk

    @property
    def binding_id(self) -> str | None:
        return self.launch.binding_id or None

    @property
    def bound_at(self) -> int:
        return self.launch.bound_at


def new_binding_id() -> str:
    """A short random id naming one launch inside one browser (not a secret: the cookie
    named after it holds the session token)."""
    return secrets.token_urlsafe(9)


def valid_binding_id(value: str | None) -> bool:
    """Whether ``value`` has the shape of a binding id (it becomes part of a cookie name)."""
    return bool(value) and _BINDING_ID.fullmatch(str(value)) is not None


def session_cookie_name(binding_id: str) -> str:
    """The cookie holding the launch token of binding ``binding_id`` in this browser."""
    return SESSION_COOKIE_PREFIX + binding_id


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(store: EphemeralStore, launch: Launch, ttl: int) -> str:
    """Store ``launch`` and return the new bearer token."""
    token = secrets.token_urlsafe(32)
    store.put(_KIND, _hash(token), launch.to_json(), ttl)
    return token


def resolve_session(store: EphemeralStore, token: str | None) -> LaunchSession | None:
    """The live session for ``token``; None when missing, forged or expired, and for a
    session of an older format (its user launches again)."""
    if not token or len(token) > 128:
        return None
    token_hash = _hash(token)
    launch = Launch.from_json(store.get(_KIND, token_hash))
    return LaunchSession(token_hash, launch) if launch is not None else None
