"""The shared store forgets: erasure reaches expired rows, expired rows are purged on a
schedule (in-process runner and RQ worker) and by ``lti-tool purge``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import redis
import sqlalchemy as sa
from flask import Flask
from rq import Queue

from lti_tool.container import Services
from lti_tool.jobs.queue import RqQueue
from lti_tool.lti.store import DatabaseStore
from lti_tool.persistence.models import Ephemeral
from tests.conftest import make_tool
from tests.support.backends import REDIS_URL, MigratedBackends, backend_settings
from tests.support.lti import Launcher


def _rows(services: Services, kind: str) -> list[str]:
    with services.db.read_only() as session:
        return list(session.scalars(sa.select(Ephemeral.key).where(Ephemeral.kind == kind)))


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_erasure_removes_expired_rows_too(tool: Flask) -> None:
    # Attack: a launch session past its time to live still held the person's name and email,
    # and erasure's delete_matching skipped it (only live rows were read).
    services: Services = tool.extensions["lti_tool"]
    person = {"user_pk": 41, "name": "Erin Expired", "email": "erin@example.ac.uk"}
    other = {"user_pk": 42, "name": "Owen Other"}
    database = DatabaseStore(services.db)
    database.put("session", "expired", person, ttl=-60)
    database.put("session", "other", other, ttl=-60)
    services.store.put("session", "live", person, ttl=600)

    gone = database.delete_matching("session", lambda data: data.get("user_pk") == 41)
    gone += services.store.delete_matching("session", lambda data: data.get("user_pk") == 41)

    assert _rows(services, "session") == ["other"]
    assert services.store.get("session", "live") is None
    assert gone == 2


def test_delete_matching_every_kind(tool: Flask) -> None:
    services: Services = tool.extensions["lti_tool"]
    services.store.put("flask_session", "a", {"_flashes": [["ok", "Saved for Erin"]]}, 600)
    services.store.put("deep_link", "b", {"note": "Erin"}, 600)
    services.store.put("deep_link", "c", {"note": "someone else"}, 600)

    gone = services.store.delete_matching(None, lambda data: "Erin" in str(data))

    assert gone == 2
    assert services.store.get("flask_session", "a") is None
    assert services.store.get("deep_link", "b") is None
    assert services.store.get("deep_link", "c") == {"note": "someone else"}


def test_expired_rows_are_purged_on_a_schedule_without_redis(
    sqlite_tool_factory: Callable[..., Launcher],
) -> None:
    # Attack: every /lti/login added rows that nothing removed (purge_expired never ran
    # without Redis), so the table grew for ever and kept launch sessions' names.
    services: Services = sqlite_tool_factory(store_purge_seconds=1).app.extensions["lti_tool"]
    services.store.put("state", "dead", {"nonce": "n"}, ttl=-60)
    services.store.put("state", "alive", {"nonce": "m"}, ttl=600)

    assert _wait_for(lambda: _rows(services, "state") == ["alive"])


def test_the_rq_worker_purges_on_schedule(tmp_path: Path, migrated: MigratedBackends) -> None:
    with backend_settings("postgres+redis", tmp_path, migrated) as overrides:
        app = make_tool({**overrides, "store_purge_seconds": 1}, tmp_path)
        services: Services = app.extensions["lti_tool"]
        try:
            # Rows left in the database table from before Redis was configured.
            DatabaseStore(services.db).put("session", "left-over", {"name": "Lee"}, ttl=-60)
            queue = Queue(overrides["redis_prefix"], connection=redis.Redis.from_url(REDIS_URL))
            assert _wait_for(lambda: queue.count > 0)
            assert isinstance(services.queue, RqQueue)
            services.queue.work_in_process(services)
            assert _rows(services, "session") == []
        finally:
            services.close()
