"""The sandbox Moodle web services on a loopback port, for ``scripts/bench_completion.py``.

A small Flask app with only ``register_moodle_ws`` on it, served by werkzeug's threaded
server (a thread per connection, as ``lti_tool.sandbox.SandboxServer`` does). By default it
runs in a child process, so the fake Moodle does not share this process's GIL with the tool
being measured (a real Moodle is another machine); ``thread`` mode serves it from a thread of
this process instead. Either way the fake's own counters (``call_count``, ``calls_to``,
``max_in_flight``) are what the benchmark reports.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool.sandbox.moodle_ws import MoodleWsFake, register_moodle_ws

ACTIVITIES_FN = "core_completion_get_activities_completion_status"
COURSE_FN = "core_completion_get_course_completion_status"


@dataclass(frozen=True)
class Counts:
    """The fake's call counters at one moment."""

    calls: int
    activities: int
    course: int
    max_in_flight: int
    cpu: float | None  # CPU seconds of the fake's process (None when it shares ours)

    def minus(self, before: Counts) -> Counts:
        cpu = None if self.cpu is None or before.cpu is None else self.cpu - before.cpu
        return Counts(
            self.calls - before.calls,
            self.activities - before.activities,
            self.course - before.course,
            self.max_in_flight,
            cpu,
        )


class MoodleServer(Protocol):
    url: str

    def counts(self) -> Counts: ...

    def reset_peak(self) -> None: ...

    def stop(self) -> None: ...


def _counts(fake: MoodleWsFake, cpu: float | None) -> Counts:
    return Counts(
        fake.call_count,
        fake.calls_to(ACTIVITIES_FN),
        fake.calls_to(COURSE_FN),
        fake.max_in_flight,
        cpu,
    )


def _bench_site() -> str:
    """The bench registration's issuer: the fake answers as its Moodle, as the tool checks."""
    return "https://moodle.example.org"


def _serve(students: int, latency: float) -> tuple[BaseWSGIServer, MoodleWsFake]:
    from bench_support.completion_data import class_lms

    # werkzeug logs every request at INFO: thousands of lines, and CPU the fake should not use.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = Flask("bench_moodle")
    fake = register_moodle_ws(app, class_lms(students), latency=latency, site_url=_bench_site)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    return server, fake


class ThreadMoodleServer:
    """The fake served from a thread of this process."""

    def __init__(self, students: int, latency: float) -> None:
        self._server, self.fake = _serve(students, latency)
        self.url = f"http://127.0.0.1:{self._server.server_port}/moodle/webservice/rest/server.php"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def counts(self) -> Counts:
        return _counts(self.fake, None)

    def reset_peak(self) -> None:
        self.fake.max_in_flight = 0

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def _child(conn: Connection, students: int, latency: float) -> None:
    server, fake = _serve(students, latency)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    conn.send(server.server_port)
    while True:
        command: Any = conn.recv()
        if command == "counts":
            conn.send(_counts(fake, time.process_time()))
        elif command == "reset_peak":
            fake.max_in_flight = 0
            conn.send(None)
        else:
            server.shutdown()
            thread.join(timeout=5)
            conn.send(None)
            return


class ProcessMoodleServer:
    """The fake served from a child process; counters come back over a pipe."""

    def __init__(self, students: int, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(
            target=_child, args=(child_end, students, latency), daemon=True
        )
        self._process.start()
        deadline = time.monotonic() + 120
        while not self._conn.poll(0.2):
            if not self._process.is_alive() or time.monotonic() > deadline:
                self._process.kill()
                raise RuntimeError("the fake Moodle did not start (see its error above)")
        port = self._conn.recv()
        self.url = f"http://127.0.0.1:{port}/moodle/webservice/rest/server.php"

    def _ask(self, command: str) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def counts(self) -> Counts:
        result: Counts = self._ask("counts")
        return result

    def reset_peak(self) -> None:
        self._ask("reset_peak")

    def stop(self) -> None:
        try:
            self._ask("stop")
        finally:
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()


def start_moodle(kind: str, students: int, latency: float) -> MoodleServer:
    if kind == "thread":
        return ThreadMoodleServer(students, latency)
    return ProcessMoodleServer(students, latency)
