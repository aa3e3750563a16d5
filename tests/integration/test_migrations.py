"""Alembic migrations run up and down on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

import datetime as dt
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


_DEPLOYMENTS = sa.table(
    "deployments",
    sa.column("id", sa.Integer()),
    sa.column("registration_id", sa.Integer()),
    sa.column("deployment_id", sa.String()),
    sa.column("active", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_AUDIT = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("action", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("old", sa.JSON()),
    sa.column("new", sa.JSON()),
)
_LMS_ADMIN = {"admin": "LMS admin Ada Admin (registration 1)"}
_TOOL_ADMIN = {"admin": "tool admin root"}
# deployment id: (active, its deactivations as (old, who), the approval 0012 gives it)
_HISTORIES: dict[str, tuple[bool, list[tuple[dict[str, bool] | None, dict[str, str]]], str]] = {
    "on": (True, [], "approved"),
    "waiting": (False, [], "pending"),
    # The detour of the outside review: an LMS admin "deactivated" a waiting deployment.
    "detour": (False, [({"active": False}, _LMS_ADMIN)], "pending"),
    "lms-off": (False, [({"active": True}, _LMS_ADMIN)], "approved"),
    "tool-off": (False, [({"active": True}, _TOOL_ADMIN)], "switched_off"),
    "refused": (False, [({"active": False}, _TOOL_ADMIN)], "switched_off"),
    "added-off": (False, [(None, {"admin": "cli:ops"})], "switched_off"),
    "tool-then-lms": (
        False,
        [({"active": True}, _TOOL_ADMIN), ({"active": True}, _LMS_ADMIN)],
        "approved",
    ),
    "lms-then-tool": (
        False,
        [({"active": True}, _LMS_ADMIN), ({"active": False}, _TOOL_ADMIN)],
        "switched_off",
    ),
    "back-on": (True, [({"active": True}, _TOOL_ADMIN)], "approved"),
}


def _approvals_from_the_audit_log(url: str) -> None:
    """0012 keeps on each deployment the approval the audit log implies."""
    url = normalise_database_url(url)
    upgrade(url, "0011")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO registrations (id, name, kind, issuer, client_id, auth_login_url, "
                "auth_token_url, key_set_url, created_at) VALUES (1, 'lms', 'moodle', "
                "'https://lms.example', '1', 'https://a', 'https://t', 'https://k', "
                "CURRENT_TIMESTAMP)"
            )
        )
        for pk, (name, (active, deactivations, _)) in enumerate(_HISTORIES.items(), start=1):
            conn.execute(
                _DEPLOYMENTS.insert().values(
                    id=pk, registration_id=1, deployment_id=name, active=active, created_at=now
                )
            )
            for old, who in deactivations:
                conn.execute(
                    _AUDIT.insert().values(
                        at=now,
                        action="deployment.deactivate",
                        subject=f"registration:1/deployment:{pk}",
                        old=old,
                        new={"active": False, "deployment_id": name, **who},
                    )
                )
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT deployment_id, approval FROM deployments")).all()
    assert dict(tuple(row) for row in rows) == {k: v[2] for k, v in _HISTORIES.items()}
    downgrade(url, "0011")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("deployments")}
    assert "approval" not in columns
    engine.dispose()


def test_deployment_approvals_from_the_audit_log_on_sqlite(tmp_path: Path) -> None:
    _approvals_from_the_audit_log(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_deployment_approvals_from_the_audit_log_on_postgresql() -> None:
    with postgres_schema() as url:
        _approvals_from_the_audit_log(url)


def _completions_keep_through_0016(url: str) -> None:
    """0016 gives completion records the course an AGS reading came from: those stored
    before have none (no course's lower score undoes them) and lose nothing either way."""
    url = normalise_database_url(url)
    upgrade(url, "0015")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO registrations (name, kind, issuer, client_id, auth_login_url, "
                "auth_token_url, key_set_url, created_at) VALUES ('moodle', 'moodle', "
                "'https://moodle.example', '1', 'https://a', 'https://t', 'https://k', "
                "CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO users (registration_id, sub, updated_at) "
                "SELECT id, '1001', CURRENT_TIMESTAMP FROM registrations"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO completion_records (user_pk, course_code, status, source, "
                "fetched_at) SELECT id, 'GB080', 'completed', 'ags', CURRENT_TIMESTAMP FROM users"
            )
        )
    upgrade(url)
    query = "SELECT course_code, status, source, context_pk FROM completion_records"
    with engine.connect() as conn:
        assert [tuple(row) for row in conn.execute(sa.text(query))] == [
            ("GB080", "completed", "ags", None)
        ]
    downgrade(url, "0015")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("completion_records")}
        rows = conn.execute(sa.text("SELECT course_code, status FROM completion_records")).all()
    assert "context_pk" not in columns
    assert [tuple(row) for row in rows] == [("GB080", "completed")]
    engine.dispose()


def test_completion_records_through_0016_on_sqlite(tmp_path: Path) -> None:
    _completions_keep_through_0016(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_completion_records_through_0016_on_postgresql() -> None:
    with postgres_schema() as url:
        _completions_keep_through_0016(url)
