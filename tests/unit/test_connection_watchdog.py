"""The database watchdog (persistence/deadlines.py) cuts a connection's socket at its deadline,
also when it was armed after a connection with a later deadline (the watchdog is only woken
for an entry due before it would wake anyway), and never cuts a disarmed one."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from lti_tool.persistence.deadlines import ConnectionWatchdog

LIMIT_SECONDS = 30.0


class FakeConnection:
    """A driver connection as the watchdog sees it: an object with a socket number."""

    def __init__(self) -> None:
        self.ours, self.server = socket.socketpair()

    def fileno(self) -> int:
        return self.ours.fileno()

    def cut(self) -> bool:
        """Whether our end was shut down (the server's end then reads end of file)."""
        self.server.settimeout(0)
        try:
            return self.server.recv(1) == b""
        except BlockingIOError:
            return False

    def close(self) -> None:
        self.ours.close()
        self.server.close()


@pytest.fixture
def connections() -> Iterator[list[FakeConnection]]:
    made: list[FakeConnection] = []
    yield made
    for connection in made:
        connection.close()


def _wait_until_cut(connection: FakeConnection) -> float:
    started = time.monotonic()
    while not connection.cut():
        assert time.monotonic() - started < LIMIT_SECONDS, "never cut"
        time.sleep(0.01)
    return time.monotonic() - started


def test_an_earlier_deadline_armed_after_a_later_one_is_kept(
    connections: list[FakeConnection],
) -> None:
    watchdog = ConnectionWatchdog()
    slow, fast = FakeConnection(), FakeConnection()
    connections += [slow, fast]
    watchdog.arm(slow, 3600)
    time.sleep(0.05)  # the watchdog now sleeps until the slow one's deadline
    watchdog.arm(fast, 0.2)
    _wait_until_cut(fast)
    assert watchdog.cuts == 1
    assert not slow.cut()


def test_later_deadlines_are_all_kept_and_a_disarmed_one_is_not_cut(
    connections: list[FakeConnection],
) -> None:
    watchdog = ConnectionWatchdog()
    first, second, finished = FakeConnection(), FakeConnection(), FakeConnection()
    connections += [first, second, finished]
    watchdog.arm(first, 0.2)
    watchdog.arm(second, 0.4)  # due after the watchdog's next wake-up: no wake-up call
    watchdog.arm(finished, 0.3)
    watchdog.disarm(finished)
    _wait_until_cut(first)
    _wait_until_cut(second)
    assert watchdog.cuts == 2
    assert not finished.cut()
