"""The tool's signing keys for the admin pages: list (every admin), rotate (tool admins)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lti_tool.admin.audit_log import record_admin_change
from lti_tool.admin.identity import AdminIdentity, require_tool_admin
from lti_tool.container import Services
from lti_tool.lti.keys import KeyInfo, list_signing_keys, rotate_signing_key
from lti_tool.persistence.locks import INIT_LOCK, advisory_lock, write_lock

KEYS_SUBJECT = "signing-keys"


def list_keys(services: Services) -> list[KeyInfo]:
    """Every signing key, newest first (kids and dates only: nothing secret)."""
    with services.db.read_only() as session:
        return list(reversed(list_signing_keys(session)))


def grace_period(services: Services) -> dt.timedelta:
    return dt.timedelta(days=services.settings.key_grace_period_days)


def rotate_keys(services: Services, identity: AdminIdentity, *, at_once: bool = False) -> KeyInfo:
    """A new key, published now and signing after the lead time (``at_once``: now); the
    key it replaces stays published for the grace period after it stops signing (``at_once``:
    every earlier key is withdrawn now, as it may be stolen), and a key still pending is
    replaced. Tool admins only: every platform verifies the tool's messages
    with these keys. Returns the new key."""
    require_tool_admin(identity, "Rotating the signing key")
    with services.db.unit_of_work() as session:
        # Two rotations at once (or one beside `lti-tool init`) go one after the other: the
        # second then finds the first's pending key and replaces it.
        advisory_lock(session.connection(), INIT_LOCK)
        write_lock(session)
        before = list_signing_keys(session)
        key = rotate_signing_key(session, grace_period(services), services.secrets, at_once=at_once)
        info = KeyInfo(key.kid, key.created_at, key.activates_at, None, None)
        old: dict[str, Any] = {"active": [k.kid for k in before if k.is_signing]}
        pending = [k.kid for k in before if k.is_pending]
        if pending:
            old["pending"] = pending
        new: dict[str, Any] = {
            "active": [key.kid],
            "grace_days": services.settings.key_grace_period_days,
            "signs_from": f"{key.activates_at:%Y-%m-%d %H:%M:%S}Z",
        }
        if at_once:
            new["withdrawn"] = [k.kid for k in before if k.is_published and not k.is_pending]
        record_admin_change(
            session,
            identity,
            action="keys.rotate",
            subject=KEYS_SUBJECT,
            old=old,
            new=new,
        )
    return info
