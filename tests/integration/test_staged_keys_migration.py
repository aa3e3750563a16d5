"""Migration 0013 gives every stored key the moment it began signing (its ``created_at``),
on SQLite and PostgreSQL; its downgrade drops a pending key and keeps the key it would have
replaced signing, as the old code understands it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from lti_tool.persistence.migrate import downgrade, upgrade
from lti_tool.settings import normalise_database_url
from tests.support.backends import postgres_schema

_KEYS = sa.table(
    "signing_keys",
    sa.column("kid", sa.String()),
    sa.column("private_key_sealed", sa.Text()),
    sa.column("public_jwk", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("retired_at", sa.DateTime(timezone=True)),
    sa.column("publish_until", sa.DateTime(timezone=True)),
)
# The same table after 0013.
_KEYS_0013 = sa.table(
    "signing_keys",
    *(sa.column(c.name, c.type) for c in _KEYS.columns),
    sa.column("activates_at", sa.DateTime(timezone=True)),
)
_CREATED = {
    "retired": dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC),
    "current": dt.datetime(2026, 6, 1, 14, 5, 7, tzinfo=dt.UTC),
}


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _staged_keys(url: str) -> None:
    url = normalise_database_url(url)
    upgrade(url, "0012")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        retired = _CREATED["retired"]
        conn.execute(
            _KEYS.insert(),
            [
                {
                    "kid": "retired",
                    "private_key_sealed": "x",
                    "public_jwk": {"kid": "retired"},
                    "created_at": retired,
                    "retired_at": _CREATED["current"],
                    "publish_until": _CREATED["current"] + dt.timedelta(days=7),
                },
                {
                    "kid": "current",
                    "private_key_sealed": "x",
                    "public_jwk": {"kid": "current"},
                    "created_at": _CREATED["current"],
                    "retired_at": None,
                    "publish_until": None,
                },
            ],
        )
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_KEYS_0013.c.kid, _KEYS_0013.c.activates_at)).all()
    assert {kid: _utc(at) for kid, at in rows} == _CREATED
    # A routine rotation staged a key: it begins signing in ten minutes, when "current"
    # retires.
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    with engine.begin() as conn:
        conn.execute(
            _KEYS.update()
            .where(_KEYS.c.kid == "current")
            .values(retired_at=soon, publish_until=soon + dt.timedelta(days=7))
        )
        conn.execute(
            _KEYS_0013.insert().values(
                kid="pending",
                private_key_sealed="x",
                public_jwk={"kid": "pending"},
                created_at=soon - dt.timedelta(minutes=10),
                activates_at=soon,
            )
        )
    downgrade(url, "0012")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_KEYS.c.kid, _KEYS.c.retired_at)).all()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("signing_keys")}
    assert "activates_at" not in columns
    # The pending key signed nothing: gone; the current key signs on, not retired.
    assert sorted((kid, at is None) for kid, at in rows) == [("current", True), ("retired", False)]
    upgrade(url)
    engine.dispose()


def test_existing_keys_began_signing_when_made_on_sqlite(tmp_path: Path) -> None:
    _staged_keys(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_existing_keys_began_signing_when_made_on_postgresql() -> None:
    with postgres_schema() as url:
        _staged_keys(url)
