"""Real servers that a test can take down: a Redis of its own, and a TCP proxy in front of the
suite's PostgreSQL that can pass, refuse or hang.

Outages are driven against real servers, not mocks:

- :class:`RedisServer` starts ``redis-server`` on a free loopback port (nothing kept on disk);
  ``stop()`` kills it (as an outage does: the data it held is gone), ``start()`` brings up an
  empty one on the same port.
- :class:`PostgresProxy` listens on a free loopback port and forwards to PostgreSQL.
  ``refuse()`` closes the listener and cuts every open connection (connections are refused, as
  when the server is down); ``hang()`` keeps accepting but forwards nothing, on new and open
  connections alike (a network partition or a failover: the client waits for an answer that
  never comes); ``restore()`` passes traffic again.

:func:`answer_ok` answers every connection on a listening socket with a bare 200 "ok", for
the outbound tests that need a server at a chosen address.

:func:`wait_until` is how the outage tests wait for what follows: on a condition, never a
fixed sleep. The fixtures ``redis_server`` and ``proxy`` are in tests/integration/conftest.py.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

WAIT_SECONDS = 30.0
# What a test waits for while servers come and go: generous, for a busy 2-core machine.
CONDITION_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answer_ok(server: socket.socket, seen: list[bytes] | None = None) -> None:
    """Answer each connection to the listening ``server`` with 200 "ok", on a thread of its
    own, until the socket is closed; what each request sent goes to ``seen`` when given."""

    def loop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                request = conn.recv(65536)
                if seen is not None:
                    seen.append(request)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    threading.Thread(target=loop, daemon=True).start()


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


class RedisServer:
    """A ``redis-server`` of the test's own on a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while not _port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Kill the server (what it held is lost) and wait until its port is closed."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(WAIT_SECONDS)
        self.process = None
        deadline = time.monotonic() + WAIT_SECONDS
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PostgresProxy:
    """A TCP proxy to PostgreSQL that a test can make refuse or hang."""

    def __init__(self, upstream_url: str) -> None:
        url = make_url(upstream_url)
        self.upstream_url = url
        self.upstream = (url.host or "127.0.0.1", int(url.port or 5432))
        self.port = free_port()
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._closed = False

    @property
    def url(self) -> str:
        """The upstream database URL, pointed at the proxy."""
        return self.upstream_url.set(host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False
        )

    # -- the three states --------------------------------------------------------------------
    def restore(self) -> None:
        self._flowing.set()
        if self._listener is None:
            self._listen()

    def hang(self) -> None:
        self._flowing.clear()
        if self._listener is None:
            self._listen()

    def refuse(self) -> None:
        self._flowing.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave the
            # socket listening until that call returned.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                listener.close()
        self._cut_all()

    def close(self) -> None:
        self._closed = True
        self.refuse()

    # -- plumbing ----------------------------------------------------------------------------
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self._track(client)
        # Hanging: the connection is accepted and then nothing is forwarded until restored.
        while not self._flowing.wait(0.1):
            if client.fileno() < 0:
                return
        try:
            upstream = socket.create_connection(self.upstream, 10)
        except OSError:
            self._drop(client)
            return
        upstream.settimeout(None)
        self._track(upstream)
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while not self._flowing.wait(0.1):
                    if source.fileno() < 0:
                        return
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source)
            self._drop(target)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

    def _cut_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._drop(sock)

    def __enter__(self) -> PostgresProxy:
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until(
    condition: Callable[[], bool],
    what: str,
    timeout: float = CONDITION_SECONDS,
    interval: float = 0.05,
) -> None:
    """Poll ``condition`` until it holds; fail the test, naming ``what``, after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s: {what}"
        time.sleep(interval)
