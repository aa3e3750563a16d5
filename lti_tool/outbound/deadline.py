"""The total deadline of an outbound call (``http.py``): the call's connections, and one
watchdog thread that shuts their sockets when the deadline passes, so a server that trickles
a byte a second cannot hold the thread (a per-read timeout never fires against it)."""

from __future__ import annotations

import heapq
import socket
import threading
import time

from urllib3.connection import HTTPConnection

from lti_tool.outbound.policy import OutboundRefused


class DeadlineCall:
    """One outbound call's deadline and the connections it used, for the watchdog."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.refusal: OutboundRefused | None = None
        self.fired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._done = False

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.fired or self.remaining() <= 0

    def start(self) -> None:
        WATCHDOG.watch(self)

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            if not any(c is connection for c in self._connections):
                self._connections.append(connection)

    def expire(self) -> None:
        """The deadline passed: shut the call's sockets (nothing once it has finished)."""
        with self._lock:
            if self._done:
                return
            self.fired = True
            for connection in self._connections:
                sock = getattr(connection, "sock", None)
                if sock is not None:
                    try:
                        # socket.socket's own shutdown (not SSLSocket's): wakes a blocked read.
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
                    except OSError:
                        pass

    def finish(self) -> None:
        with self._lock:
            self._done = True
            self._connections = []  # the pool keeps them; the watchdog's entry stays small


class Watchdog:
    """One thread for every call's deadline (a thread of its own per call was most of a
    call's CPU when a class refresh makes thousands): a heap of deadlines, the earliest
    first. A finished call's entry stays until its deadline and then does nothing."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, DeadlineCall]] = []
        self._count = 0
        self._thread: threading.Thread | None = None

    def watch(self, call: DeadlineCall) -> None:
        with self._wake:
            self._count += 1
            heapq.heappush(self._due, (call.deadline, self._count, call))
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(
                    target=self._run, name="outbound-deadlines", daemon=True
                )
                self._thread.start()
            elif self._due[0][2] is call:
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due:
                    self._wake.wait()
                deadline = self._due[0][0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                call = heapq.heappop(self._due)[2]
            call.expire()


WATCHDOG = Watchdog()
