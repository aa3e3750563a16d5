"""Tool-admin sign-in: lockout after repeated failures and sessions in the shared store.

Like launch sessions (``lti/sessions.py``) the browser holds a random token and the store only
its SHA-256 hash. Every attempt first takes a single-use slot in the store (``add`` is atomic
on both backends) and only then checks the password, so concurrent guesses cannot slip past
the limit: five per username from one address, and twenty per username from anywhere, per
15 minutes. A success frees the slots. Someone guessing from one address thus locks out only
that address; locking the username everywhere takes many addresses.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from lti_tool.admin.accounts import authenticate
from lti_tool.admin.identity import AdminIdentity
from lti_tool.container import Services
from lti_tool.errors import ToolError
from lti_tool.logs import log_event
from lti_tool.persistence.models import ToolAdmin

log = logging.getLogger("lti_tool.admin")

SESSION_KIND = "admin"
SESSION_TTL_SECONDS = 8 * 3600
FAILURE_KIND = "admin_fail"
LOCK_KIND = "admin_lock"
MAX_FAILURES = 5  # per username and address
MAX_FAILURES_ANYWHERE = 20  # per username
LOCKOUT_SECONDS = 15 * 60


class LoginRefused(ToolError):
    status = 401
    title = "Sign-in failed"


class LockedOut(ToolError):
    status = 429
    title = "Too many attempts"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _user_key(username: str) -> str:
    return _hash(username.strip().lower())


def _locked(services: Services, key: str) -> bool:
    return services.store.get(LOCK_KIND, key) is not None


def _take_slot(services: Services, key: str, limit: int) -> bool:
    """Take one of ``limit`` attempt slots; the last one taken locks ``key``. False when
    none is left."""
    for slot in range(limit):
        if services.store.add(FAILURE_KIND, f"{key}.{slot}", {}, LOCKOUT_SECONDS):
            if slot == limit - 1:
                services.store.put(LOCK_KIND, key, {}, LOCKOUT_SECONDS)
            return True
    services.store.put(LOCK_KIND, key, {}, LOCKOUT_SECONDS)
    return False


def _free_slots(services: Services, key: str, limit: int) -> None:
    for slot in range(limit):
        services.store.delete(FAILURE_KIND, f"{key}.{slot}")
    services.store.delete(LOCK_KIND, key)


def log_in(services: Services, username: str, password: str, address: str = "") -> str:
    """Check the credentials and open a session; returns its token. Refused while the
    username is locked out for this address (five failures within 15 minutes) or everywhere
    (twenty), even with the right password."""
    everywhere = _user_key(username)
    here = _hash(f"{username.strip().lower()}|{address}")
    locked = _locked(services, here) or _locked(services, everywhere)
    if locked or not (
        _take_slot(services, here, MAX_FAILURES)
        and _take_slot(services, everywhere, MAX_FAILURES_ANYWHERE)
    ):
        log_event(log, logging.WARNING, "admin login while locked out", username=username[:64])
        raise LockedOut(
            "locked_out",
            "Too many failed sign-ins for this username. Wait 15 minutes and try again.",
        )
    with services.db.unit_of_work() as session:
        account = authenticate(session, username, password)
        identity = _identity(account) if account is not None else None
    if identity is None:
        log_event(log, logging.WARNING, "admin login failed", username=username[:64])
        raise LoginRefused("bad_credentials", "The username or password is wrong.")
    _free_slots(services, here, MAX_FAILURES)
    _free_slots(services, everywhere, MAX_FAILURES_ANYWHERE)
    token = secrets.token_urlsafe(32)
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


def resolve_admin_session(services: Services, token: str | None) -> AdminIdentity | None:
    """The tool admin a session token belongs to; None when it is missing, forged, expired or
    the account was deactivated since."""
    if not token or len(token) > 128:
        return None
    data: dict[str, Any] | None = services.store.get(SESSION_KIND, _hash(token))
    if data is None:
        return None
    with services.db.read_only() as session:
        account = session.get(ToolAdmin, int(data.get("account_pk", 0)))
    if account is None or not account.active:
        return None
    return _identity(account)


def log_out(services: Services, token: str | None) -> None:
    """End the session (a missing or unknown token is fine)."""
    if token and len(token) <= 128:
        services.store.delete(SESSION_KIND, _hash(token))
