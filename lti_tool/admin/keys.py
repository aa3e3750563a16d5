"""The tool's signing keys for the admin pages: list (every admin), rotate (tool admins)."""

from __future__ import annotations

import datetime as dt

from lti_tool.admin.audit_log import record_admin_change
from lti_tool.admin.identity import AdminIdentity, require_tool_admin
from lti_tool.container import Services
from lti_tool.lti.keys import KeyInfo, list_signing_keys, rotate_signing_key

KEYS_SUBJECT = "signing-keys"


def list_keys(services: Services) -> list[KeyInfo]:
    """Every signing key, newest first (kids and dates only: nothing secret)."""
    with services.db.read_only() as session:
        return list(reversed(list_signing_keys(session)))


def grace_period(services: Services) -> dt.timedelta:
    return dt.timedelta(days=services.settings.key_grace_period_days)


def rotate_keys(services: Services, identity: AdminIdentity) -> str:
    """A new active key; the old ones stay published for the grace period. Tool admins only:
    every platform verifies the tool's messages with these keys. Returns the new kid."""
    require_tool_admin(identity, "Rotating the signing key")
    with services.db.unit_of_work() as session:
        before = [k.kid for k in list_signing_keys(session) if k.retired_at is None]
        key = rotate_signing_key(session, grace_period(services), services.secrets)
        kid = key.kid
        record_admin_change(
            session,
            identity,
            action="keys.rotate",
            subject=KEYS_SUBJECT,
            old={"active": before},
            new={"active": [kid], "grace_days": services.settings.key_grace_period_days},
        )
    return kid
