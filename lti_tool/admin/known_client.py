"""Known sign-in clients: a browser that has signed in as a tool admin keeps a signed cookie
naming that account and a random client id. ``admin/login.py`` then counts that browser's
failures on their own, so failed sign-ins from elsewhere cannot lock it out."""

from __future__ import annotations

import hashlib
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer

KNOWN_CLIENT_COOKIE = "lti_tool_admin_client"
KNOWN_CLIENT_MAX_AGE = 90 * 24 * 3600
_SALT = "lti-tool admin known client"


def _account(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def known_client_id(secret_key: str, cookie: str | None, username: str) -> str | None:
    """The client id of a valid, unexpired cookie issued to this browser for ``username``;
    None for a missing, forged, expired or other account's cookie."""
    if not cookie or len(cookie) > 512:
        return None
    try:
        data = _serializer(secret_key).loads(cookie, max_age=KNOWN_CLIENT_MAX_AGE)
    except BadSignature:  # also an expired one (SignatureExpired)
        return None
    if not isinstance(data, dict) or data.get("u") != _account(username):
        return None
    client = data.get("c")
    return client if isinstance(client, str) and client else None


def issue_known_client(secret_key: str, username: str, client_id: str | None = None) -> str:
    """A cookie value that marks this browser as known for ``username`` (keeping its client
    id when it already had one)."""
    client = client_id or secrets.token_urlsafe(16)
    return str(_serializer(secret_key).dumps({"u": _account(username), "c": client}))
