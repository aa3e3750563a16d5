"""One writer at a time for one row: the read that a change is based on happens under a lock.

PostgreSQL: ``SELECT … FOR UPDATE`` holds the row until the transaction ends; a row another
transaction inserts between our read and our insert is found again after the unique violation
(inside a savepoint, so the transaction carries on). SQLite allows one writer per file, but
pysqlite runs reads outside any transaction until the first write, so two requests can read
the same old value: the write lock is taken before the read (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import ToolError

T = TypeVar("T")


class WriteConflict(ToolError):
    """Another change of the same record won the race and this one could not be applied."""

    status = 409
    title = "Someone else changed this at the same moment"


CONFLICT_MESSAGE = (
    "Someone else was changing the same record at the same moment, so this change was not "
    "saved. Reload the page to see the current value, then try again."
)


# Several machines of one deployment may run `lti-tool init` at once against one database.
INIT_LOCK = "lti_tool init"


def advisory_lock(connection: Connection, name: str) -> None:
    """PostgreSQL: wait for the lock called ``name`` and hold it until the transaction ends,
    so that one transaction at a time does what it guards (migrating, making the first
    signing key). SQLite has one writer at a time already: nothing to do."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def write_lock(session: Session) -> None:
    """Make this transaction the database's only writer from now on (SQLite; on PostgreSQL
    rows are locked one by one with ``locked``). Idempotent within a transaction."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi = connection.connection.driver_connection
    if dbapi is None or dbapi.in_transaction:
        return  # already writing: the write lock is held until commit
    try:
        dbapi.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:  # busy past busy_timeout
        raise WriteConflict("write_conflict", CONFLICT_MESSAGE) from exc


def locked(session: Session, query: Select[T]) -> T | None:
    """The first row of ``query``, locked until the transaction ends, read fresh from the
    database (not from the session's identity map, which may hold an older copy)."""
    write_lock(session)
    return session.scalar(query.with_for_update().execution_options(populate_existing=True))


def lock_or_insert(
    session: Session, model: type[T], key: Mapping[str, Any], make: Callable[[], T]
) -> tuple[T, bool]:
    """The row of ``model`` with ``key`` (a unique key), locked; inserted with ``make()`` when
    there is none. Returns ``(row, created)``."""
    query = select(model).filter_by(**key)
    row = locked(session, query)
    if row is not None:
        return row, False
    new = make()
    if session.get_bind().dialect.name == "sqlite":
        session.add(new)  # the write lock is held: nobody can insert it meanwhile
        session.flush()
        return new, True
    try:
        with session.begin_nested():
            session.add(new)
    except IntegrityError:
        # Inserted by a concurrent transaction after our read (PostgreSQL made us wait for
        # its commit): lock and change that row instead.
        row = locked(session, query)
        if row is None:
            raise WriteConflict("write_conflict", CONFLICT_MESSAGE) from None
        return row, False
    return new, True
