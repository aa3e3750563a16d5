"""The per-process registry cache sees a change at once in the process that made it: a
deployment's state read before an admin's change (and its ``clear``) is not kept after it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lti_tool.lti import registry
from lti_tool.lti.registry_cache import RegistryCache
from lti_tool.persistence.db import Database
from lti_tool.persistence.models import Deployment


def _sandbox(db: Database) -> int:
    site = "https://moodle.example.ac.uk"
    with db.unit_of_work() as session:
        row = registry.add_platform(
            session,
            registry.PlatformSpec(
                name="moodle",
                issuer=site,
                client_id="c",
                auth_login_url=site + "/mod/lti/auth.php",
                auth_token_url=site + "/mod/lti/token.php",
                key_set_url=site + "/mod/lti/certs.php",
                kind="moodle",
                deployment_ids=["1"],
            ),
            development=False,
        )
        return row.id


def _deactivate(db: Database, pk: int) -> None:
    with db.unit_of_work() as session:
        session.execute(
            sa.update(Deployment).where(Deployment.registration_id == pk).values(active=False)
        )


def test_a_value_read_before_a_clear_is_not_remembered(db: Database) -> None:
    pk = _sandbox(db)
    cache = RegistryCache(db, ttl=60)
    cleared: list[bool] = []

    def admin_changes_meanwhile(*_: Any) -> None:
        # The launch's read is done; before it stores what it read, an admin deactivates the
        # deployment and clears the cache (another request of the same process).
        if not cleared:
            cleared.append(True)
            cache.clear()

    sa.event.listen(db.engine, "after_cursor_execute", admin_changes_meanwhile)
    try:
        assert cache.active_deployment_pk(pk, "1") is not None
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", admin_changes_meanwhile)
    _deactivate(db, pk)  # what the admin changed (the cache was cleared for it)
    assert cache.active_deployment_pk(pk, "1") is None


def test_a_remembered_deployment_is_forgotten_by_clear(db: Database) -> None:
    pk = _sandbox(db)
    cache = RegistryCache(db, ttl=60)
    assert cache.active_deployment_pk(pk, "1") is not None
    _deactivate(db, pk)
    assert cache.active_deployment_pk(pk, "1") is not None  # remembered for ttl seconds
    cache.clear()
    assert cache.active_deployment_pk(pk, "1") is None
