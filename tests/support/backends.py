"""Real storage backends for tests: a fresh SQLite file, a fresh PostgreSQL schema, Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PG_URL = os.environ.get("LTI_TOOL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LTI_TOOL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = ("sqlite", "postgres", "postgres+redis")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A throw-away schema; yields a URL whose connections use it."""
    from lti_tool.settings import normalise_database_url

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


@contextmanager
def backend_settings(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Settings overrides for ``backend``, with the database migrated to head."""
    from lti_tool.persistence.migrate import upgrade
    from lti_tool.settings import normalise_database_url

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
        upgrade(normalise_database_url(url))
        yield {"database_url": url, "redis_url": ""}
        return
    with postgres_schema() as url:
        upgrade(normalise_database_url(url))
        overrides: dict[str, Any] = {"database_url": url, "redis_url": ""}
        if backend == "postgres+redis":
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
        else:
            yield overrides
