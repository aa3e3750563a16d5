"""The pool's check of a PostgreSQL connection (persistence/liveness.py): no round trip for
one returned a moment ago and still quiet; the real ping, and a transparent reconnect, for one
the server closed or one idle for longer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import _psycopg_common

from lti_tool.persistence import liveness
from lti_tool.persistence.db import Database
from lti_tool.persistence.deadlines import DatabaseDeadlines
from lti_tool.settings import normalise_database_url
from tests.support.backends import PG_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the ``SELECT 1`` pings the dialect really sends."""
    sent: list[int] = []
    real = _psycopg_common._PGDialect_common_psycopg.do_ping

    def counted(self: Any, dbapi_connection: Any) -> Any:
        sent.append(1)
        return real(self, dbapi_connection)

    monkeypatch.setattr(_psycopg_common._PGDialect_common_psycopg, "do_ping", counted)
    return sent


@pytest.fixture(params=["plain", "with deadlines"])
def database(request: pytest.FixtureRequest, pings: list[int]) -> Iterator[Database]:
    deadlines = (
        DatabaseDeadlines(connect_seconds=2, statement_seconds=2, pool_seconds=2)
        if request.param == "with deadlines"
        else None
    )
    db = Database(normalise_database_url(PG_URL), deadlines=deadlines)
    try:
        yield db
    finally:
        db.dispose()


def _backend_pid(db: Database) -> int:
    with db.read_only() as session:
        return int(session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_returned_a_moment_ago_is_used_without_a_ping(
    database: Database, pings: list[int]
) -> None:
    first = _backend_pid(database)
    for _ in range(5):
        assert _backend_pid(database) == first  # the same pooled connection each time
    assert pings == []


def test_a_connection_the_server_closed_is_pinged_and_replaced_without_an_error(
    database: Database, pings: list[int]
) -> None:
    victim = _backend_pid(database)
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (victim,))
        # The server has closed it once pg_stat_activity no longer lists it.
        for _ in range(200):
            gone = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (victim,)
            ).fetchone()
            if gone == (0,):
                break
            admin.execute("SELECT pg_sleep(0.05)")
    replacement = _backend_pid(database)  # no error reaches the caller
    assert replacement != victim
    assert pings == [1]


def test_a_connection_idle_for_longer_is_pinged(
    database: Database, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(liveness, "RECENT_SECONDS", 0.0)
    _backend_pid(database)
    _backend_pid(database)
    _backend_pid(database)
    assert pings == [1, 1]


def test_a_connection_left_in_a_transaction_is_not_trusted() -> None:
    with psycopg.connect(PG_URL) as connection:
        connection.execute("SELECT 1")  # opens a transaction (autocommit off)
        assert not liveness.looks_alive(connection)
        connection.rollback()
        assert liveness.looks_alive(connection)
    assert not liveness.looks_alive(connection)  # closed
