"""Launch sessions: what a validated launch grants, kept server-side in the shared store.

The browser holds an opaque random token, as a cookie or (inside iframes that block
third-party cookies) as ``Authorization: Bearer``; the store holds only its SHA-256 hash.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from lti_tool.lti.store import EphemeralStore

SESSION_COOKIE = "lti_tool_session"
_KIND = "session"


@dataclass(frozen=True)
class LaunchSession:
    token_hash: str
    data: dict[str, Any]

    @property
    def is_staff(self) -> bool:
        return bool(self.data.get("is_staff"))

    @property
    def user_pk(self) -> int:
        return int(self.data["user_pk"])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(store: EphemeralStore, data: dict[str, Any], ttl: int) -> str:
    """Store ``data`` and return the new bearer token."""
    token = secrets.token_urlsafe(32)
    store.put(_KIND, _hash(token), data, ttl)
    return token


def resolve_session(store: EphemeralStore, token: str | None) -> LaunchSession | None:
    """The live session for ``token``; None when missing, forged or expired."""
    if not token or len(token) > 128:
        return None
    token_hash = _hash(token)
    data = store.get(_KIND, token_hash)
    return LaunchSession(token_hash, data) if data is not None else None


def end_session(store: EphemeralStore, token: str) -> None:
    store.delete(_KIND, _hash(token))


def end_user_sessions(store: EphemeralStore, user_pks: set[int]) -> int:
    """End every live launch session of these users (after erasing them: a session holds
    their name and email). How many ended."""
    if not user_pks:
        return 0
    return store.delete_matching("session", lambda data: data.get("user_pk") in user_pks)
