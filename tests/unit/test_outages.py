"""Which dependency an error says is down, when an outage began, and checks that cannot
hold the health page past their deadline."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import psycopg
import pytest
import redis
from sqlalchemy import exc as sa_exc

from lti_tool.admin import bounded
from lti_tool.outages import DATABASE, STORE, OutageClock, unavailable_dependency


def _operational(message: str) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (redis.exceptions.ConnectionError("refused"), STORE),
        (redis.exceptions.TimeoutError("timed out"), STORE),
        (sa_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("refused")), DATABASE),
        (sa_exc.TimeoutError("QueuePool limit reached"), DATABASE),
        (_operational("database is locked"), None),  # writers contending, not an outage
        (ValueError("a bug"), None),
        (redis.exceptions.ResponseError("WRONGTYPE"), None),
    ],
)
def test_unavailable_dependency(error: Exception, expected: str | None) -> None:
    assert unavailable_dependency(error) == expected


def test_the_first_failure_stands_until_the_dependency_answers() -> None:
    clock = OutageClock()  # no Redis: per process only
    first = dt.datetime(2026, 12, 6, 3, 50, tzinfo=dt.UTC)
    assert clock.note_down(STORE, first) == first
    assert clock.note_down(STORE, first + dt.timedelta(minutes=5)) == first
    assert clock.since(STORE) == first and clock.since(DATABASE) is None
    clock.note_up(STORE)
    assert clock.since(STORE) is None
    later = first + dt.timedelta(hours=1)
    assert clock.note_down(STORE, later) == later


def test_a_hung_check_is_reported_at_its_deadline_and_holds_no_more_slots() -> None:
    release = threading.Event()
    dependency = "test-hang"
    try:
        started = time.monotonic()
        hung = [
            bounded.start(dependency, release.wait) for _ in range(bounded.SLOTS_PER_DEPENDENCY)
        ]
        with pytest.raises(bounded.NotAnswering):
            hung[0].result(time.monotonic() + 0.2)
        # Every slot is held by a hung check: the next is not started, and fails at once.
        refused = bounded.start(dependency, lambda: "never run")
        with pytest.raises(bounded.NotAnswering):
            refused.result(time.monotonic() + 30)
        assert time.monotonic() - started < 10
    finally:
        release.set()
    for pending in hung:
        assert pending.result(time.monotonic() + 30) is True
    assert bounded.start(dependency, lambda: "ran").result(time.monotonic() + 30) == "ran"


def test_a_check_s_own_error_reaches_the_caller() -> None:
    def broken() -> None:
        raise redis.exceptions.ConnectionError("refused")

    with pytest.raises(redis.exceptions.ConnectionError):
        bounded.start("test-error", broken).result(time.monotonic() + 30)
