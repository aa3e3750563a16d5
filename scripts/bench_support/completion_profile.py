"""Where the time goes, for ``bench_completion.py --profile``: a wall-clock sampling profiler
over every thread, and the cost of each piece of one student's refresh.

``cProfile`` sees only the thread that starts it, while ``refresh_class`` works in pool
threads (and each student's calls in pools of their own). This samples every thread's stack
every few milliseconds and counts, per sample, the innermost frame (where the thread is: a
socket read, a lock, SQLite) and the innermost ``lti_tool`` frame (which of our lines got it
there). Pool workers waiting for work (no ``lti_tool`` frame on their stack) are left out.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from types import FrameType

from sqlalchemy.dialects import postgresql, sqlite

from lti_tool.completion.setup import as_course_mappings, mappings_of, source_settings
from lti_tool.completion.store import store_completions
from lti_tool.container import Services
from lti_tool.lms.moodle.client import MoodleWsClient
from lti_tool.lms.source import FetchResult, FetchUnit, gather
from lti_tool.persistence.models import CompletionRecord, utcnow
from lti_tool.rules.records import Completion, CompletionStatus
from lti_tool.sandbox.demo_data import course_id
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN

# Innermost frames of a pool worker waiting for work (blocked in C, in queue.get).
_IDLE = {"thread.py:_worker", "threading.py:wait", "queue.py:get"}


def _where(frame: FrameType) -> str:
    code = frame.f_code
    name = code.co_filename.rsplit("/", 1)[-1]
    return f"{name}:{code.co_name}"


class Sampler:
    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.samples = 0
        self.leaves: Counter[str] = Counter()
        self.ours: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        main = threading.main_thread().ident
        while not self._stop.is_set():
            for ident, frame in sys._current_frames().items():
                if ident in (me, main):
                    continue
                self._record(frame)
            time.sleep(self.interval)

    def _record(self, frame: FrameType) -> None:
        stack: list[FrameType] = []
        current: FrameType | None = frame
        while current is not None:
            stack.append(current)
            current = current.f_back
        ours = any("/lti_tool/" in f.f_code.co_filename for f in stack)
        if not ours and _where(frame) in _IDLE:
            return  # a pool worker waiting for work
        self.samples += 1
        self.leaves[_where(frame)] += 1
        for item in stack:
            if "/lti_tool/" in item.f_code.co_filename:
                self.ours[f"{_where(item)}:{item.f_lineno}"] += 1
                break

    def report(self, top: int = 12) -> list[str]:
        if not self.samples:
            return ["  (no samples)"]
        lines = [f"  {self.samples} busy-thread samples; innermost frame:"]
        for where, n in self.leaves.most_common(top):
            lines.append(f"    {100 * n / self.samples:5.1f}%  {where}")
        lines.append("  innermost lti_tool frame:")
        for where, n in self.ours.most_common(top):
            lines.append(f"    {100 * n / self.samples:5.1f}%  {where}")
        return lines


# -- what one student costs, piece by piece --------------------------------------------------


def _timed(label: str, fn: Callable[[int], object], repeat: int) -> str:
    fn(0)
    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(repeat):
        fn(index)
    wall = (time.perf_counter() - wall) / repeat * 1000
    cpu = (time.process_time() - cpu) / repeat * 1000
    return f"    {label:<58} {wall:6.2f} ms wall {cpu:6.2f} ms CPU"


def cost_breakdown(services: Services, moodle_url: str, repeat: int = 100) -> list[str]:
    """Time, one after the other in this thread, the pieces ``refresh_student`` is made of,
    on a registration of its own (the class's stored rows are not touched)."""
    from bench_support.completion_data import CODES, user_ids
    from bench_support.completion_tool import enrol_class

    bench = enrol_class(services, "bench-costs", moodle_url, "course", user_ids(1))
    user_pk = bench.user_pks[0]
    rows = [Completion(code, CompletionStatus.COMPLETED, source="moodle") for code in CODES]
    client = MoodleWsClient(
        moodle_url,
        SANDBOX_TOKEN,
        services.lms_http,
        timeout=services.settings.http_timeout_seconds,
    )

    def store_now(_: int) -> None:
        with services.db.unit_of_work() as session:
            store_completions(session, user_pk, "moodle", rows)

    def store_batched(_: int) -> None:
        with services.db.unit_of_work() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = insert(CompletionRecord)
            fields = ("status", "started_at", "completed_at", "fetched_at")
            statement = statement.on_conflict_do_update(
                index_elements=["user_pk", "course_code", "source"],
                set_={name: statement.excluded[name] for name in fields},
            )
            now = utcnow()
            session.connection().execute(
                statement,
                [
                    {
                        "user_pk": user_pk,
                        "course_code": item.course_code,
                        "source": "moodle",
                        "status": item.status.value,
                        "started_at": item.started_at,
                        "completed_at": item.completed_at,
                        "fetched_at": now,
                    }
                    for item in rows
                ],
            )

    def remember(_: int) -> None:  # what refresh._remember does
        services.store.put("refresh", str(user_pk), {"status": "ok", "errors": [], "at": 0}, 60)

    def settings(_: int) -> None:
        with services.db.read_only() as session:
            source_settings(session, services.secrets, bench.registration_pk)
            as_course_mappings(mappings_of(session, bench.registration_pk))

    def one_pool(_: int) -> None:
        gather([FetchUnit(("GB080",), FetchResult)], 4, ["GB080"])

    def call(index: int) -> None:
        client.get_course_completion_status(course_id(CODES[index % len(CODES)]), 10001)

    return [
        f"  one student's pieces, run one at a time in one thread ({repeat} times each):",
        _timed("store_completions(13 rows): 13 ORM upserts + commit", store_now, repeat),
        _timed("the same 13 rows as ONE executemany upsert + commit", store_batched, repeat),
        _timed("store.put of the outcome (refresh._remember)", remember, repeat),
        _timed("source_settings + mappings_of (+ Fernet), per student", settings, repeat),
        _timed("gather() of one unit (a new ThreadPoolExecutor)", one_pool, repeat),
        _timed("one MoodleWsClient call (incl. the fake's latency)", call, repeat),
    ]
