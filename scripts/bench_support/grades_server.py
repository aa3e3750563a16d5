"""The sandbox platform of ``scripts/bench_grades.py``, served by ``SandboxServer`` from a
thread of the benchmark's process or from a child process, behind one small interface.

In a thread, the sandbox's own request handling (werkzeug, Flask, the AGS fake) takes the GIL
from the tool's sync threads; a child process is a platform on its own CPU, as a real LMS is.
The controls are the ``AgsFake``'s and the platform's: counters, recorded POSTs, line items."""

from __future__ import annotations

import logging
import multiprocessing as mp
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol

from lti_tool.sandbox import SandboxServer
from lti_tool.sandbox.ags import AgsFake
from lti_tool.sandbox.platform import SandboxPlatform

START_TIMEOUT = 60.0


@dataclass(frozen=True)
class ScoreStats:
    posts: int
    accepted: int


class Controls:
    """What the benchmark asks of the platform; runs next to the sandbox server."""

    def __init__(self, server: SandboxServer) -> None:
        self.platform = server.platform
        self.ags: AgsFake = server.app.extensions["ags"]

    def set_latency(self, latency: float) -> None:
        self.ags.reset(latency)

    def set_roster(self, members: list[dict[str, Any]]) -> None:
        self.platform.roster = members

    def set_tool_jwks(self, document: dict[str, Any]) -> None:
        self.platform.tool_jwks_source = lambda: document

    def lineitems_url(self) -> str:
        return str(self.ags.lineitems_url)

    def lineitem_url(self, item_id: int) -> str:
        return str(self.ags.lineitem_url(item_id))

    def add_lineitem(self, label: str, score_maximum: float, values: dict[str, Any]) -> int:
        return int(self.ags.add_lineitem(label, score_maximum, **values).id)

    def find_lineitem(self, resource_id: str) -> int | None:
        found = self.ags.store.find(resource_id, None, None)
        return found[0].id if found else None

    def issue_token(self, scopes: list[str]) -> str:
        """An access token as /token would grant it, without a token request."""
        token = secrets.token_urlsafe(24)
        self.platform.access_tokens[token] = (frozenset(scopes), time.time() + 3600)
        return token

    def clear_counters(self) -> None:
        self.platform.counters.clear()

    def token_requests(self) -> int:
        return int(self.platform.counters.get("token", 0))

    def score_stats(self, lineitem_id: int) -> ScoreStats:
        posts = [p for p in list(self.ags.score_posts) if p.lineitem_id == lineitem_id]
        return ScoreStats(len(posts), sum(1 for p in posts if p.status == 200))

    def ags_summary(self) -> dict[str, int]:
        return {
            "calls": len(self.ags.calls),
            "lineitem_creates": len(self.ags.lineitem_creates),
            "max_in_flight": self.ags.max_in_flight,
        }


class Sandbox(Protocol):
    platform: SandboxPlatform  # issuer, client and URLs, for registering it with the tool
    mode: str

    def call(self, name: str, *args: Any) -> Any: ...

    def close(self) -> None: ...


def _quiet() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request


class ThreadSandbox:
    """``SandboxServer`` on a thread of this process."""

    mode = "thread"

    def __init__(self, tool_url: str) -> None:
        _quiet()
        self.platform = SandboxPlatform(issuer="http://127.0.0.1:0", tool_url=tool_url)
        self._server = SandboxServer(self.platform, "127.0.0.1", 0)
        self.platform.issuer = f"http://127.0.0.1:{self._server.port}"
        self._controls = Controls(self._server)
        self._server.start()

    def call(self, name: str, *args: Any) -> Any:
        method: Callable[..., Any] = getattr(self._controls, name)
        return method(*args)

    def close(self) -> None:
        self._server.stop()


def _child(conn: Connection, tool_url: str) -> None:
    _quiet()
    platform = SandboxPlatform(issuer="http://127.0.0.1:0", tool_url=tool_url)
    server = SandboxServer(platform, "127.0.0.1", 0)
    platform.issuer = f"http://127.0.0.1:{server.port}"
    controls = Controls(server)
    with server:
        conn.send(platform.issuer)
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return
            if request is None:
                return
            name, args = request
            try:
                conn.send((True, getattr(controls, name)(*args)))
            except Exception as exc:
                conn.send((False, f"{type(exc).__name__}: {exc}"))


class ProcessSandbox:
    """``SandboxServer`` in a child process (spawned: no fork of a threaded parent), driven
    through a pipe."""

    mode = "process"

    def __init__(self, tool_url: str) -> None:
        context = mp.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(
            target=_child, args=(child_end, tool_url), name="sandbox-lms", daemon=True
        )
        self._process.start()
        child_end.close()
        if not self._conn.poll(START_TIMEOUT):
            self._process.kill()
            raise RuntimeError("the sandbox process did not start")
        issuer = str(self._conn.recv())
        self.platform = SandboxPlatform(issuer=issuer, tool_url=tool_url)

    def call(self, name: str, *args: Any) -> Any:
        self._conn.send((name, args))
        ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"sandbox {name}: {value}")
        return value

    def close(self) -> None:
        try:
            self._conn.send(None)
        except OSError:
            pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def start_sandbox(mode: str, tool_url: str) -> Sandbox:
    return ProcessSandbox(tool_url) if mode == "process" else ThreadSandbox(tool_url)
