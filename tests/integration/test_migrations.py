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


def _existing_registrations_hold(url: str) -> None:
    """0011 gives every registration made before it ``hold``: the upgrade trusts no new
    deployment that the tool would have refused before."""
    url = normalise_database_url(url)
    upgrade(url, "0010")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO registrations (name, kind, issuer, client_id, auth_login_url, "
                "auth_token_url, key_set_url, created_at) VALUES ('canvas-old', 'canvas', "
                "'https://canvas.instructure.com', '1', 'https://a', 'https://t', 'https://k', "
                "CURRENT_TIMESTAMP)"
            )
        )
    upgrade(url)
    with engine.connect() as conn:
        policies = conn.execute(sa.text("SELECT name, new_deployments FROM registrations")).all()
    assert [tuple(row) for row in policies] == [("canvas-old", "hold")]
    downgrade(url, "0010")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("registrations")}
    assert "new_deployments" not in columns
    engine.dispose()


def test_existing_registrations_hold_new_deployments_on_sqlite(tmp_path: Path) -> None:
    _existing_registrations_hold(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_existing_registrations_hold_new_deployments_on_postgresql() -> None:
    with postgres_schema() as url:
        _existing_registrations_hold(url)
