"""Which errors mean "a dependency is down", the quiet outage record, and the deadline
settings (issue 18). Real driver exceptions, no servers."""

from __future__ import annotations

import logging
import sqlite3
import threading

import psycopg
import pytest
import redis
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from lti_tool.outages import DATABASE, STORE, unavailable_dependency
from lti_tool.persistence.deadlines import DatabaseDeadlines
from lti_tool.settings import SettingsError, load_settings
from lti_tool.web.errors import is_write_conflict
from lti_tool.web.outages import DependencyOutages, is_unreachable


def wrapped(orig: Exception) -> DBAPIError:
    """As SQLAlchemy raises a driver's error."""
    return DBAPIError.instance("SELECT 1", {}, orig, psycopg.Error)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # psycopg could not reach the server (refused, timed out, connection lost).
        (wrapped(psycopg.OperationalError("connection failed: Connection refused")), DATABASE),
        (wrapped(pg_errors.ConnectionTimeout("connection timeout expired")), DATABASE),
        (
            wrapped(pg_errors.QueryCanceled("canceling statement due to statement timeout")),
            DATABASE,
        ),
        (wrapped(pg_errors.AdminShutdown("terminating connection")), DATABASE),
        (wrapped(pg_errors.TooManyConnections("too many clients")), DATABASE),
        (PoolTimeoutError("QueuePool limit of size 10 overflow 20 reached"), DATABASE),
        (redis.ConnectionError("Error 111 connecting"), STORE),
        (redis.TimeoutError("Timeout reading from socket"), STORE),
        (redis.exceptions.BusyLoadingError("loading the dataset"), STORE),
        # Conflicts stay conflicts; a bug or a fault in the data is not an outage.
        (wrapped(pg_errors.SerializationFailure("could not serialize")), None),
        (wrapped(pg_errors.DeadlockDetected("deadlock detected")), None),
        (wrapped(pg_errors.UniqueViolation("duplicate key")), None),
        (wrapped(pg_errors.UndefinedTable("relation does not exist")), None),
        (wrapped(psycopg.InterfaceError("the connection is closed")), DATABASE),
        # psycopg's client-side refusals of a value or a statement are bugs or bad data.
        (wrapped(psycopg.DataError("PostgreSQL text fields cannot contain NUL bytes")), None),
        (wrapped(psycopg.ProgrammingError("the query has 1 placeholder but 2 params")), None),
        (wrapped(sqlite3.OperationalError("database is locked")), None),
        (wrapped(sqlite3.OperationalError("no such table: users")), None),
        (redis.ResponseError("WRONGTYPE"), None),
        (ValueError("bad input"), None),
    ],
)
def test_which_errors_mean_a_dependency_is_down(error: Exception, expected: str | None) -> None:
    assert unavailable_dependency(error) == expected


def test_write_conflicts_are_not_outages() -> None:
    for orig in (pg_errors.SerializationFailure("x"), pg_errors.LockNotAvailable("x")):
        error = wrapped(orig)
        assert isinstance(error, OperationalError)  # the same class as an outage…
        assert is_write_conflict(error) and unavailable_dependency(error) is None  # …not one


def test_an_outage_raised_as_something_else_is_still_found() -> None:
    try:
        try:
            raise redis.ConnectionError("Connection refused")
        except redis.ConnectionError as exc:
            raise RuntimeError("could not read the launch") from exc
    except RuntimeError as outer:
        assert unavailable_dependency(outer) == STORE


def test_a_cancelled_statement_is_not_an_unreachable_server() -> None:
    assert not is_unreachable(wrapped(pg_errors.QueryCanceled("statement timeout")))
    assert is_unreachable(wrapped(psycopg.OperationalError("connection refused")))
    assert is_unreachable(redis.ConnectionError("refused"))
    assert not is_unreachable(PoolTimeoutError("QueuePool limit reached"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_traceback_per_dependency_per_minute() -> None:
    clock = Clock()
    record = DependencyOutages(clock=clock)
    assert [record.failed(DATABASE) for _ in range(5)] == [True, False, False, False, False]
    assert record.failed(STORE)  # each dependency has its own minute
    clock.now += 59
    assert not record.failed(DATABASE)
    clock.now += 2
    assert record.failed(DATABASE)


class _Lines(logging.Handler):
    """The messages this thread logs on one logger (each record once, whatever other
    handlers earlier tests left on the root or parent loggers)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.thread = threading.get_ident()
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.said.append(record.getMessage())


def test_recovery_is_logged_once_and_only_after_a_failure() -> None:
    record = DependencyOutages()
    logger = logging.getLogger("lti_tool.web")
    lines = _Lines()
    logger.addHandler(lines)
    level, logger.level = logger.level, logging.INFO
    try:
        record.reached(DATABASE)  # never down: nothing to say
        record.failed(DATABASE)
        assert DATABASE in record.down()
        record.reached(DATABASE)
        record.reached(DATABASE)
        record.failed(DATABASE, unreachable=False)  # a slow statement: not "down"
        record.reached(DATABASE)
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    assert lines.said == ["database available again"]
    assert record.down() == {}


def test_deadline_settings_are_validated_and_reach_the_engine(tmp_path: object) -> None:
    base = {"env": "development", "secret_key": "s", "instance_dir": str(tmp_path)}
    settings = load_settings(overrides=base, environ={"LTI_TOOL_REDIS_TIMEOUT_SECONDS": "2.5"})
    assert settings.redis_timeout_seconds == 2.5
    assert settings.database_statement_timeout_seconds == 10.0
    for name, bad in (
        ("database_connect_timeout_seconds", 0),
        ("database_pool_timeout_seconds", -1),
        ("redis_connect_timeout_seconds", 0),
        ("database_statement_timeout_seconds", -1),
    ):
        with pytest.raises(SettingsError, match=name):
            load_settings(overrides={**base, name: bad}, environ={})
    options = DatabaseDeadlines(3, 1.5, 4.0).engine_options("-csearch_path=t_1")
    assert options == {
        "connect_args": {
            "connect_timeout": 3,
            "options": "-csearch_path=t_1 -c statement_timeout=1500",
        },
        "pool_timeout": 4.0,
    }
    assert "options" not in DatabaseDeadlines(3, 0, 4.0).engine_options(None)["connect_args"]
