"""Tool-admin sign-in: sessions in the shared store.

Like launch sessions (``lti/sessions.py``) the browser holds a random token and the store only
its SHA-256 hash. Every attempt first takes its slots in the failure counts and only then
checks the password; a success gives them back (``admin/sign_in_limits.py``).

The token is also signed with the tool's secret key (random part, account, time of issue:
``itsdangerous``). While the store answers, only the store decides: a token it does not hold
(signed out, expired, forged) is refused. While the store cannot be reached, the health page,
and nothing else, accepts a token whose signature is valid and younger than a session
(``health_page_admin``): the one page an administrator needs during an outage
(docs/security.md, "Admin sign-in during a store outage").
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from lti_tool.admin import bounded
from lti_tool.admin.accounts import authenticate
from lti_tool.admin.identity import AdminIdentity
from lti_tool.admin.sign_in_limits import LOCKOUT_SECONDS as LOCKOUT_SECONDS
from lti_tool.admin.sign_in_limits import LockedOut as LockedOut
from lti_tool.admin.sign_in_limits import begin_attempt, succeeded
from lti_tool.container import Services
from lti_tool.errors import ToolError
from lti_tool.logs import log_event
from lti_tool.outages import unavailable_dependency
from lti_tool.persistence.models import ToolAdmin

log = logging.getLogger("lti_tool.admin")

SESSION_KIND = "admin"
SESSION_TTL_SECONDS = 8 * 3600
MAX_TOKEN_LENGTH = 256
SIGN_IN_SECONDS = 2.0  # each step of the health page's sign-in check
_TOKEN_SALT = "lti-tool admin session"  # noqa: S105 (a namespace for the signature, no secret)


class LoginRefused(ToolError):
    status = 401
    title = "Sign-in failed"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def log_in(
    services: Services,
    username: str,
    password: str,
    address: str = "",
    known_client: str | None = None,
) -> str:
    """Check the credentials and open a session; returns its token.

    ``known_client`` is the verified client id of a browser that signed in as this username
    before (``known_client_id``): only its own failures limit it. Anyone else is refused,
    even with the right password, while their address or the username is locked out.
    """
    attempt = begin_attempt(services, username, address, known_client)
    with services.db.unit_of_work() as session:
        account = authenticate(session, username, password)
        identity = _identity(account) if account is not None else None
    if identity is None:
        log_event(log, logging.WARNING, "admin login failed", username=username[:64])
        raise LoginRefused("bad_credentials", "The username or password is wrong.")
    succeeded(services, attempt)
    token = _new_token(services.settings.secret_key, identity)
    services.store.put(
        SESSION_KIND,
        _hash(token),
        {"account_pk": identity.account_pk, "username": identity.name},
        SESSION_TTL_SECONDS,
    )
    log_event(log, logging.INFO, "admin login", username=identity.name)
    return token


def _identity(account: ToolAdmin) -> AdminIdentity:
    return AdminIdentity(
        name=account.username, kind="tool_admin", registration_pk=None, account_pk=account.id
    )


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT)


def _new_token(secret_key: str, identity: AdminIdentity) -> str:
    """A random token that also carries, signed, the account it was issued to."""
    value = {"r": secrets.token_urlsafe(32), "a": identity.account_pk}
    return str(_serializer(secret_key).dumps(value))


def resolve_admin_session(services: Services, token: str | None) -> AdminIdentity | None:
    """The tool admin a session token belongs to; None when it is missing, forged, expired or
    the account was deactivated since. Raises the store's or database's error when either
    cannot be reached."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    data: dict[str, Any] | None = services.store.get(SESSION_KIND, _hash(token))
    if data is None:
        return None
    with services.db.read_only() as session:
        account = session.get(ToolAdmin, int(data.get("account_pk", 0)))
    if account is None or not account.active:
        return None
    return _identity(account)


def health_page_admin(services: Services, token: str | None) -> AdminIdentity | None:
    """The tool admin a session token belongs to, for the health page only: it works while
    the store or the database is down or hangs. Each step has its own deadline
    (``SIGN_IN_SECONDS``); nothing here raises for a dependency that is down.

    When the store answers it decides whether the session is open, as everywhere (a
    signed-out token, or one of a deactivated account, whose sessions are deleted, stays
    refused); the account is then checked in the database when it answers. When the store
    does not answer, the token's signature (the tool's secret key) and age (at most a
    session's lifetime) stand in for it, and then the database MUST answer that the account
    is there and active: neither the store nor the database vouching means no entry. Busy
    checks (every slot taken, as a flood of requests could make them) never count as a
    dependency that is down."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        data = _answer("sign-in store", services.store.get, SESSION_KIND, _hash(token))
        vouched_by_store = True
    except _Busy:
        return None
    except _Unanswered:
        data = _signed(services.settings.secret_key, token)
        vouched_by_store = False
    if data is None:
        return None
    account_pk = int(data.get("account_pk", 0))
    try:
        account = _answer("sign-in database", _account, services, account_pk)
    except (_Busy, _Unanswered):
        if not vouched_by_store:
            return None
        name = str(data.get("username") or f"account {account_pk}")
        return AdminIdentity(
            name=name, kind="tool_admin", registration_pk=None, account_pk=account_pk
        )
    if account is None or not account.active:
        return None
    return _identity(account)


class _Unanswered(Exception):
    """A dependency is down or did not answer before the deadline."""


class _Busy(Exception):
    """No slot came free for the check before the deadline: nothing is known."""


def _answer(slots: str, fn: Any, *args: Any) -> Any:
    deadline = time.monotonic() + SIGN_IN_SECONDS
    try:
        pending = bounded.start(slots, fn, *args, wait=SIGN_IN_SECONDS)
        return pending.result(deadline)
    except bounded.Busy:
        raise _Busy from None
    except bounded.NotAnswering:
        raise _Unanswered from None
    except Exception as exc:
        if unavailable_dependency(exc) is None:
            raise
        raise _Unanswered from exc


def _account(services: Services, account_pk: int) -> ToolAdmin | None:
    with services.db.read_only() as session:
        return session.get(ToolAdmin, account_pk)


def _signed(secret_key: str, token: str) -> dict[str, Any] | None:
    """The account a token was issued to, when its signature is ours and it is younger than
    a session; None for a forged, altered, expired or old-style (unsigned) token."""
    try:
        value = _serializer(secret_key).loads(token, max_age=SESSION_TTL_SECONDS)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(value, dict) or not isinstance(value.get("a"), int):
        return None
    return {"account_pk": value["a"]}


def log_out(services: Services, token: str | None) -> None:
    """End the session (a missing or unknown token is fine)."""
    if token and len(token) <= MAX_TOKEN_LENGTH:
        services.store.delete(SESSION_KIND, _hash(token))
