"""Engine, sessions and the unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.persistence.deadlines import DatabaseDeadlines, install_watchdog
from lti_tool.persistence.liveness import install_quick_ping


class Database:
    """One engine and session factory per application."""

    def __init__(
        self, url: str, echo: bool = False, deadlines: DatabaseDeadlines | None = None
    ) -> None:
        """``deadlines``: PostgreSQL's connect, statement and pool deadlines (the tool's
        services have them; migrations and one-off commands that open the database
        themselves wait as long as it takes)."""
        self.url = url
        self.engine: Engine = _make_engine(url, echo, deadlines)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on any exception."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        """A session for reads; nothing it holds is committed."""
        session = self._sessions()
        try:
            yield session
        finally:
            # close() ends the transaction and detaches the objects with their loaded state;
            # rollback() would expire them, so rows read here could not be used afterwards.
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str, echo: bool, deadlines: DatabaseDeadlines | None = None) -> Engine:
    parsed = make_url(url)
    # hide_parameters: a database error's message (logged) leaves out the values (names,
    # emails, free text) it was sent.
    kwargs: dict[str, Any] = {"echo": echo, "future": True, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        if database and database != ":memory:":
            # Sync and refresh jobs run several threads; the default pool of 5 would churn.
            kwargs.update(pool_size=10, max_overflow=20)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets gunicorn workers read while one writes; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    if deadlines is not None:
        url_options = parsed.query.get("options")
        options = url_options if isinstance(url_options, str) else None
        kwargs.update(deadlines.engine_options(options))
    engine = create_engine(url, **kwargs)
    if deadlines is not None:
        install_watchdog(engine, deadlines)
    # After the watchdog: a ping that is sent keeps its deadline.
    install_quick_ping(engine)
    return engine
