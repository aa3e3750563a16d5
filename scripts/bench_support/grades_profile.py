"""Where the grade sync's threads spend their time: a stack sampler for
``scripts/bench_grades.py --profile`` (cProfile sees only the thread that starts it)."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from types import FrameType

from sqlalchemy import Engine, event

ROOTS = ("lti_tool", "sqlalchemy", "requests", "urllib3", "http/client", "socket", "jwt")


def _where(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename.replace("\\", "/")
    for root in ROOTS:
        at = path.rfind("/" + root)
        if at >= 0:
            path = path[at + 1 :]
            break
    else:
        path = path.rsplit("/", 1)[-1]
    return f"{path}:{code.co_name}"


def _activity(stack: list[str]) -> str:
    """What a thread is doing, from its whole stack (innermost first)."""
    text = " ".join(stack)
    if "_wait_for_url" in text or "time.sleep" in text:
        return "sleeping"
    if "make_service_request" in text or "_request_token" in text:
        if "socket" in text or "http/client" in text or "readinto" in text:
            return "HTTP: waiting for the platform"
        return "HTTP: building/parsing the request (requests/urllib3)"
    if "sqlalchemy" in text:
        return "database (SQLAlchemy + SQLite)"
    return "other Python"


class Sampler:
    """Samples the stacks of threads whose name starts with one of ``prefixes``."""

    def __init__(self, prefixes: tuple[str, ...], interval: float = 0.002) -> None:
        self.prefixes = prefixes
        self.interval = interval
        self.samples = 0
        self.activities: Counter[str] = Counter()
        self.leaves: Counter[str] = Counter()
        self.tool_frames: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        names = {}
        while not self._stop.is_set():
            for thread in threading.enumerate():
                names[thread.ident] = thread.name
            for ident, frame in sys._current_frames().items():
                name = names.get(ident, "")
                if not name.startswith(self.prefixes):
                    continue
                stack: list[str] = []
                current: FrameType | None = frame
                while current is not None:
                    stack.append(_where(current))
                    current = current.f_back
                self.samples += 1
                self.activities[_activity(stack)] += 1
                self.leaves[stack[0]] += 1
                tool = next((s for s in stack if s.startswith("lti_tool/")), None)
                if tool:
                    self.tool_frames[tool] += 1
            time.sleep(self.interval)

    def report(self, top: int = 12) -> list[str]:
        if not self.samples:
            return ["  (no samples)"]
        lines = [f"  {self.samples} thread samples; by activity:"]
        for what, n in self.activities.most_common():
            lines.append(f"    {100 * n / self.samples:5.1f}%  {what}")
        lines.append("  innermost frame:")
        for what, n in self.leaves.most_common(top):
            lines.append(f"    {100 * n / self.samples:5.1f}%  {what}")
        lines.append("  innermost lti_tool frame:")
        for what, n in self.tool_frames.most_common(top):
            lines.append(f"    {100 * n / self.samples:5.1f}%  {what}")
        return lines


class DbCounter:
    """Connections opened, statements and commits on an engine while the block runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connects = 0
        self.statements = 0
        self.writes = 0
        self.commits = 0
        self._lock = threading.Lock()

    def _on_connect(self, *_: object) -> None:
        with self._lock:
            self.connects += 1

    def _on_execute(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        write = statement.lstrip()[:6].upper() in ("UPDATE", "INSERT", "DELETE")
        with self._lock:
            self.statements += 1
            self.writes += int(write)

    def _on_commit(self, *_: object) -> None:
        with self._lock:
            self.commits += 1

    def __enter__(self) -> DbCounter:
        event.listen(self.engine, "connect", self._on_connect)
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        event.listen(self.engine, "commit", self._on_commit)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "connect", self._on_connect)
        event.remove(self.engine, "before_cursor_execute", self._on_execute)
        event.remove(self.engine, "commit", self._on_commit)
