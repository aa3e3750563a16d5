"""Fixtures of the integration tests: a bare migrated database on each SQL backend, and the
real servers the outage tests take down (a Redis of the test's own, a proxy to PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lti_tool.persistence.db import Database
from lti_tool.settings import normalise_database_url
from tests.support.backends import MigratedBackends, backend_settings
from tests.support.outage_servers import PostgresProxy, RedisServer


@pytest.fixture(params=("sqlite", "postgres"))
def db(
    request: pytest.FixtureRequest, tmp_path: Path, migrated: MigratedBackends
) -> Iterator[Database]:
    """An empty database migrated to head, without the tool around it."""
    with backend_settings(str(request.param), tmp_path, migrated) as overrides:
        database = Database(normalise_database_url(overrides["database_url"]))
        yield database
        database.engine.dispose()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` of the test's own, which the test may stop and start (empty)."""
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def proxy(migrated: MigratedBackends) -> Iterator[PostgresProxy]:
    """The suite's migrated PostgreSQL behind a proxy that the test may make refuse or hang."""
    with PostgresProxy(migrated.postgres_url()) as proxy:
        yield proxy
