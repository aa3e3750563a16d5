"""Real storage backends for tests: SQLite files, a PostgreSQL schema, Redis.

Migrating is the slow part, so each backend is migrated once per test session: SQLite tests
get a copy of a migrated file, PostgreSQL tests share one schema emptied between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lti_tool.persistence.migrate import upgrade
from lti_tool.persistence.models import Base
from lti_tool.settings import normalise_database_url

PG_URL = os.environ.get("LTI_TOOL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LTI_TOOL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = ("sqlite", "postgres", "postgres+redis")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A throw-away schema; yields a URL whose connections use it."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(normalise_database_url(PG_URL), poolclass=sa.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class MigratedBackends:
    """Migrated databases made once per test session."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._sqlite_template: Path | None = None
        self._pg_url: str | None = None
        self._pg_context: Any = None

    def sqlite_url(self, tmp_path: Path) -> str:
        if self._sqlite_template is None:
            template = self._folder / "template.sqlite3"
            upgrade(normalise_database_url(f"sqlite:///{template}"))
            self._sqlite_template = template
        target = tmp_path / "tool.sqlite3"
        shutil.copy(self._sqlite_template, target)
        return f"sqlite:///{target}"

    def postgres_url(self) -> str:
        if self._pg_url is None:
            self._pg_context = postgres_schema()
            url = self._pg_context.__enter__()
            upgrade(normalise_database_url(url))
            self._pg_url = url
        self._empty_postgres(self._pg_url)
        return self._pg_url

    @staticmethod
    def _empty_postgres(url: str) -> None:
        engine = sa.create_engine(normalise_database_url(url), poolclass=sa.NullPool)
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()

    def close(self) -> None:
        if self._pg_context is not None:
            self._pg_context.__exit__(None, None, None)


@contextmanager
def backend_settings(
    backend: str, tmp_path: Path, migrated: MigratedBackends
) -> Iterator[dict[str, Any]]:
    """Settings overrides for ``backend``, with an empty database migrated to head."""
    if backend == "sqlite":
        yield {"database_url": migrated.sqlite_url(tmp_path), "redis_url": ""}
        return
    overrides: dict[str, Any] = {"database_url": migrated.postgres_url(), "redis_url": ""}
    if backend != "postgres+redis":
        yield overrides
        return
    prefix = "test_" + uuid.uuid4().hex[:10]
    overrides.update(redis_url=REDIS_URL, redis_prefix=prefix)
    try:
        yield overrides
    finally:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()
