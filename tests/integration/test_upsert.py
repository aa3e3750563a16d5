"""The one insert-or-update: the same outcome on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lti_tool.persistence.db import Database
from lti_tool.persistence.models import Ephemeral
from lti_tool.persistence.upsert import upsert

SOON = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
LATER = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)


def _rows(db: Database) -> dict[str, tuple[dict[str, object], dt.datetime]]:
    with db.read_only() as session:
        found = session.execute(sa.select(Ephemeral.key, Ephemeral.value, Ephemeral.expires_at))
        return {row.key: (row.value, row.expires_at) for row in found}


def _row(key: str, value: int, expires: dt.datetime) -> dict[str, object]:
    return {"kind": "t", "key": key, "value": {"n": value}, "expires_at": expires}


def test_inserts_then_updates_only_the_named_columns(db: Database) -> None:
    with db.unit_of_work() as session:
        upsert(
            session, Ephemeral, [_row("a", 1, SOON), _row("b", 2, SOON)], ["kind", "key"], ["value"]
        )
    with db.unit_of_work() as session:
        upsert(
            session,
            Ephemeral,
            [_row("b", 3, LATER), _row("c", 4, LATER)],
            ["kind", "key"],
            ["value"],
        )

    rows = _rows(db)
    assert rows["a"] == ({"n": 1}, SOON)
    assert rows["b"] == ({"n": 3}, SOON)  # value updated, expires_at not named: kept
    assert rows["c"] == ({"n": 4}, LATER)


def test_no_update_columns_keeps_the_existing_row(db: Database) -> None:
    with db.unit_of_work() as session:
        upsert(session, Ephemeral, [_row("a", 1, SOON)], ["kind", "key"], ["value"])
    with db.unit_of_work() as session:
        result = upsert(
            session, Ephemeral, [_row("a", 2, LATER)], ["kind", "key"], [], [Ephemeral.key]
        )
        assert result.first() is None  # DO NOTHING returns no row

    assert _rows(db)["a"] == ({"n": 1}, SOON)


def test_returning_gives_the_stored_row_on_insert_and_on_update(db: Database) -> None:
    with db.unit_of_work() as session:
        first = upsert(
            session, Ephemeral, [_row("a", 1, SOON)], ["kind", "key"], ["value"], [Ephemeral.value]
        ).scalar_one()
    with db.unit_of_work() as session:
        second = upsert(
            session, Ephemeral, [_row("a", 5, LATER)], ["kind", "key"], ["value"], [Ephemeral.value]
        ).scalar_one()

    assert (first, second) == ({"n": 1}, {"n": 5})


def test_no_rows_is_refused(db: Database) -> None:
    with db.unit_of_work() as session, pytest.raises(ValueError):
        upsert(session, Ephemeral, [], ["kind", "key"], ["value"])
