"""Expired rows out of the shared store.

Without Redis the store is a database table whose dead rows (OIDC state, nonces, launch
sessions holding names and emails) nothing else removes. A daemon thread of the web process
enqueues :func:`purge_store` every ``store_purge_seconds`` (``jobs/maintenance.py``): the
in-process runner runs it there, with Redis an RQ worker (``lti-tool worker``) does.
"""

from __future__ import annotations

import logging

from lti_tool.jobs.tasks import task
from lti_tool.lti.collaborators import LoginParts
from lti_tool.lti.store import DatabaseStore

log = logging.getLogger("lti_tool.jobs")


@task
def purge_store(services: LoginParts) -> int:
    """Delete expired store rows; how many went. With Redis (which expires its own keys) the
    database table is purged too: it keeps what was written before Redis was configured."""
    gone = services.store.purge_expired()
    if services.store.backend != DatabaseStore.backend:
        gone += DatabaseStore(services.db).purge_expired()
    if gone:
        log.info("purged %d expired store rows", gone)
    return gone
