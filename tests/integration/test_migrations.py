"""Alembic migrations run up and down on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lti_tool.persistence.migrate import downgrade, upgrade
from lti_tool.persistence.models import Base
from lti_tool.settings import normalise_database_url
from tests.support.backends import postgres_schema


def _check(url: str) -> None:
    url = normalise_database_url(url)
    upgrade(url)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(sa.inspect(conn).get_table_names())
    assert diff == [], diff
    assert {"registrations", "deployments", "signing_keys", "ephemeral", "users"} <= tables
    downgrade(url, "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    engine.dispose()


def test_migrations_on_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_migrations_on_postgresql() -> None:
    with postgres_schema() as url:
        _check(url)
