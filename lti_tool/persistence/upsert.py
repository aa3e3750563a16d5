"""Insert-or-update in one statement, on SQLite and PostgreSQL alike.

Both databases have ``INSERT … ON CONFLICT (…) DO UPDATE``; SQLAlchemy builds it only from
the dialect's own ``insert``, so the choice of dialect lives here and nowhere else. One
statement, not a read then a write: two writers of the same key cannot collide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Result, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from lti_tool.persistence.models import Base


def upsert(
    session: Session,
    model: type[Base] | Table,
    rows: Sequence[Mapping[str, Any]],
    index_elements: Sequence[str],
    update_columns: Iterable[str],
    returning: Sequence[ColumnElement[Any]] = (),
    *,
    unless_newer: str | None = None,
) -> Result[Any]:
    """Insert ``rows`` (each with the same keys); a row whose ``index_elements`` (a unique key)
    already exist instead updates that row's ``update_columns`` to the values it brought.
    With no ``update_columns`` such a row is left as it was (``DO NOTHING``), and, with
    ``returning``, returns nothing. With ``unless_newer`` (a column name) a stored row whose
    value there is later than the incoming one is left as it was: last read wins, not last
    write."""
    if not rows:
        raise ValueError("upsert needs at least one row")
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # A single row as plain VALUES, several as one multi-row VALUES.
    values = dict(rows[0]) if len(rows) == 1 else [dict(row) for row in rows]
    statement = insert(model).values(values)
    columns = list(update_columns)
    statement = (
        statement.on_conflict_do_update(
            index_elements=list(index_elements),
            set_={name: statement.excluded[name] for name in columns},
            where=(
                None
                if unless_newer is None
                else _table(model).c[unless_newer] <= statement.excluded[unless_newer]
            ),
        )
        if columns
        else statement.on_conflict_do_nothing(index_elements=list(index_elements))
    )
    return session.execute(statement.returning(*returning) if returning else statement)


def _table(model: type[Base] | Table) -> Table:
    return model if isinstance(model, Table) else model.__table__  # type: ignore[return-value]
