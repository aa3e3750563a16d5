"""Benchmark: send a class's released results to the gradebook through AGS (grade sync).

    .venv/bin/python scripts/bench_grades.py            # 1,000 results, 20 ms per AGS call
    .venv/bin/python scripts/bench_grades.py --quick    # short smoke run (200 results)
    .venv/bin/python scripts/bench_grades.py --concurrency 16 --profile

The tool (``create_app``'s services) runs on a fresh SQLite file. The sandbox platform
(``SandboxServer``) is served on a loopback port from a child process (``--server process``,
the default: a platform on its own CPU, as a real LMS is) or from a thread of this process
(``--server thread``: its request handling then competes with the sync for this process's
GIL). Its AGS fake answers every call after ``--latency`` seconds; its /token endpoint adds
none. Its roster holds N learners; the tool holds the course (the AGS claim of a launch),
those learners and one released B832 result each, queued in the outbox: set-up, not measured.

Measured: ``start_sync`` and the job it queues on the tool's thread queue, until the job row
says done (as the class page's progress sees it). Counted: token requests at the platform's
/token and on the tool's connector, score POSTs at the fake, line items created, database
statements/commits/new connections, this process's CPU time.

Yardsticks: the baseline is pylti1p3's default pattern, sequential: for each result a fresh
``ServiceConnector`` fetches a token and ``put_grade`` posts the score (to a column of its
own), timed on a sample and extrapolated linearly to N. The floor is the same N score POSTs
alone, as many at a time as the sync's workers, with no database and a token handed out.

This is a benchmark, not a test: it exits 0 when targets are missed, and says so.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform as pyplatform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench_support  # noqa: F401 - puts this checkout's lti_tool first on sys.path
from bench_support.grades_baseline import BaselineRun, FloorRun, http_floor, sequential_loop
from bench_support.grades_profile import DbCounter, Sampler
from bench_support.grades_server import ScoreStats
from bench_support.grades_setup import (
    MODULE,
    Course,
    Site,
    outbox_payloads,
    outbox_statuses,
    seed_course,
    site,
)

from lti_tool.grading import sync as sync_mod
from lti_tool.jobs.queue import Task, ThreadQueue
from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.persistence.models import SyncJobRow

TARGET_SECONDS = 4.0
TARGET_TOKENS = 1
TARGET_RATIO = 8.0
JOB_TIMEOUT = 300.0
DEFAULT_WORKERS = 8  # lti_tool.grading.sync for a generic (non-Canvas) platform
POLL_SECONDS = 0.02  # the class page polls every 0.7 s


@dataclass(frozen=True)
class Options:
    results: int
    latency: float
    concurrency: int | None
    baseline_sample: int
    server: str
    floor: bool
    profile: bool


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--results", type=int, default=None, help="results (default 1000)")
    parser.add_argument(
        "--latency", type=float, default=0.020, help="seconds per AGS call (default 0.020)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="workers of the sync (default: the tool's own, 8 for this generic platform)",
    )
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=None,
        help="results sent by the sequential baseline, extrapolated to all (default 100; "
        "0 = every result)",
    )
    parser.add_argument("--quick", action="store_true", help="short run: 200 results")
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="serve the sandbox platform from a child process (default) or a thread of this one",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip timing the bare score POSTs")
    parser.add_argument(
        "--profile", action="store_true", help="sample the sync threads' stacks and report"
    )
    args = parser.parse_args(argv)
    results = args.results or (200 if args.quick else 1000)
    sample = args.baseline_sample
    if sample is None:
        sample = 20 if args.quick else 100
    if sample <= 0 or sample > results:
        sample = results
    return Options(
        results,
        args.latency,
        args.concurrency,
        sample,
        args.server,
        not args.no_floor,
        args.profile,
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def temp_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bench-grades-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class BenchQueue(ThreadQueue):
    """The tool's thread queue, passing ``concurrency`` to the sync it runs (``start_sync``
    has no way to pass it)."""

    def __init__(self, queue: ThreadQueue, concurrency: int | None) -> None:
        super().__init__(queue._runner, queue._services)
        self._concurrency = concurrency

    def enqueue(self, task: Task, *args: Any) -> None:
        kwargs = {} if self._concurrency is None else {"concurrency": self._concurrency}
        self._runner.submit(task, self._services, *args, **kwargs)


@contextlib.contextmanager
def watch_connectors() -> Iterator[list[ToolServiceConnector]]:
    """Keep every connector the sync builds, to read its ``token_requests``."""
    built: list[ToolServiceConnector] = []
    namespace = vars(sync_mod)  # run_sync looks service_connector up here
    original = namespace["service_connector"]

    def recording(services: Any, registration_pk: int, *args: Any) -> ToolServiceConnector:
        connector: ToolServiceConnector = original(services, registration_pk, *args)
        built.append(connector)
        return connector

    namespace["service_connector"] = recording
    try:
        yield built
    finally:
        namespace["service_connector"] = original


@dataclass(frozen=True)
class SyncRun:
    seconds: float
    job: dict[str, Any]
    platform_tokens: int
    connector_tokens: int
    connectors: int
    score_posts: int
    accepted: int
    lineitem_creates: int
    max_in_flight: int
    ags_calls: int
    outbox: dict[str, int]
    cpu_seconds: float
    db_connects: int
    db_statements: int
    db_writes: int
    db_commits: int


def wait_for_job(found: Site, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        with found.services.db.read_only() as session:
            job = session.get(SyncJobRow, job_id)
            assert job is not None
            if job.status in ("done", "failed"):
                return {
                    "status": job.status,
                    "total": job.total,
                    "done": job.done,
                    "failed": job.failed,
                    "error": job.error,
                }
        if time.monotonic() > deadline:
            raise TimeoutError(f"the sync job is still {job.status} after {JOB_TIMEOUT:g} s")
        time.sleep(POLL_SECONDS)


def run_sync(found: Site, course: Course, options: Options) -> tuple[SyncRun, Sampler | None]:
    services = found.services
    assert isinstance(services.queue, ThreadQueue)
    services.queue = BenchQueue(services.queue, options.concurrency)
    sandbox = found.sandbox
    sandbox.call("clear_counters")
    sampler = Sampler(("lti-job", "ThreadPoolExecutor")) if options.profile else None
    with (
        watch_connectors() as connectors,
        DbCounter(services.db.engine) as db,
        sampler or contextlib.nullcontext(),
    ):
        started, cpu = time.perf_counter(), time.process_time()
        job_id = sync_mod.start_sync(services, course.context_pk)
        job = wait_for_job(found, job_id)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    column = sandbox.call("find_lineitem", MODULE)
    stats = sandbox.call("score_stats", column) if column is not None else ScoreStats(0, 0)
    ags = sandbox.call("ags_summary")
    return (
        SyncRun(
            seconds=seconds,
            job=job,
            platform_tokens=sandbox.call("token_requests"),
            connector_tokens=sum(c.token_requests for c in connectors),
            connectors=len(connectors),
            score_posts=stats.posts,
            accepted=stats.accepted,
            lineitem_creates=ags["lineitem_creates"],
            max_in_flight=ags["max_in_flight"],
            ags_calls=ags["calls"],
            outbox=outbox_statuses(found, course.context_pk),
            cpu_seconds=cpu,
            db_connects=db.connects,
            db_statements=db.statements,
            db_writes=db.writes,
            db_commits=db.commits,
        ),
        sampler,
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(
    options: Options,
    course: Course,
    run: SyncRun,
    baseline: BaselineRun,
    floor: FloorRun | None,
    sampler: Sampler | None,
) -> bool:
    n = options.results
    workers = options.concurrency or f"default ({DEFAULT_WORKERS})"
    extrapolated = baseline.per_result * n
    ratio = extrapolated / run.seconds if run.seconds else float("inf")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"# grade sync benchmark — Python {pyplatform.python_version()}, SQLite, thread queue, "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    print(
        f"results {n}, AGS latency {options.latency * 1000:g} ms per call, sync workers "
        f"{workers}, sandbox in a {options.server}; set-up (not measured) {course.seconds:.2f} s"
    )
    print()
    print("## the tool: start_sync + the queued job until done")
    print(f"  wall time              {run.seconds:8.3f} s")
    job = run.job
    print(
        f"  job                    {job['status']}: {job['done']} of {job['total']} sent, "
        f"{job['failed']} failed{' — ' + job['error'] if job['error'] else ''}"
    )
    print(
        f"  token requests         platform /token {run.platform_tokens}, connector "
        f"{run.connector_tokens} ({run.connectors} connector)"
    )
    print(
        f"  score POSTs at the fake {run.score_posts} ({run.accepted} accepted); "
        f"line items created {run.lineitem_creates}; AGS calls {run.ags_calls}; "
        f"max in flight {run.max_in_flight}"
    )
    print(f"  outbox                 {dict(sorted(run.outbox.items()))}")
    print(
        f"  database               {run.db_statements} statements ({run.db_writes} writes), "
        f"{run.db_commits} commits, {run.db_connects} new SQLite connections "
        "(incl. this script's job poll)"
    )
    where = "tool + sandbox" if options.server == "thread" else "tool only"
    print(f"  CPU of this process    {run.cpu_seconds:8.3f} s ({where})")
    print(f"  throughput             {n / run.seconds:8.1f} results/s")
    print()
    print("## baseline: pylti1p3 default pattern, sequential, a fresh connector + token per result")
    extrapolation = "" if baseline.sent == n else f", extrapolated linearly from {baseline.sent}"
    print(
        f"  sample                 {baseline.sent} results in {baseline.seconds:.3f} s "
        f"({baseline.per_result * 1000:.1f} ms each); token requests {baseline.token_requests}; "
        f"accepted {baseline.accepted}"
    )
    print(f"  for {n} results         {extrapolated:8.3f} s{extrapolation}")
    print(f"  speed-up               {ratio:8.1f}x")
    if floor is not None:
        print()
        print("## floor: the same score POSTs alone (no database, token given), same workers")
        print(
            f"  {floor.sent} POSTs, {floor.workers} at a time    {floor.seconds:8.3f} s "
            f"({floor.accepted} accepted) — the sandbox platform's limit on this machine"
        )
        print(f"  CPU of this process    {floor.cpu_seconds:8.3f} s")
        print(
            f"  the sync's overhead    {run.seconds - floor.seconds:+8.3f} s wall, "
            f"{run.cpu_seconds - floor.cpu_seconds:+.3f} s CPU over the floor"
        )
    print()
    checks = [
        (f"wall time < {TARGET_SECONDS:g} s", run.seconds < TARGET_SECONDS),
        (
            f"token requests = {TARGET_TOKENS}",
            run.platform_tokens == TARGET_TOKENS and run.connector_tokens == TARGET_TOKENS,
        ),
        (f"score POSTs = {n}", run.score_posts == n and run.accepted == n),
        (f"speed-up >= {TARGET_RATIO:g}x", ratio >= TARGET_RATIO),
    ]
    print("## targets")
    for label, ok in checks:
        print(f"  {label:28s} {verdict(ok)}")
    if sampler is not None:
        print()
        print("## profile of the sync threads (job thread + delivery workers)")
        print("\n".join(sampler.report()))
    return all(ok for _, ok in checks)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    n = options.results
    with temp_folder() as folder, site(folder, options.latency, options.server) as found:
        log(f"seeding {options.results} learners with released results…")
        course = seed_course(found, options.results)
        log("running the grade sync…")
        run, sampler = run_sync(found, course, options)
        log(f"running the sequential pylti1p3 baseline on {options.baseline_sample} results…")
        payloads = outbox_payloads(found, course.context_pk, options.baseline_sample)
        baseline = sequential_loop(found, payloads)
        floor = None
        if options.floor:
            log("timing the bare score POSTs (the floor)…")
            workers = options.concurrency or DEFAULT_WORKERS
            floor = http_floor(found, outbox_payloads(found, course.context_pk, n), workers)
        met = report(options, course, run, baseline, floor, sampler)
    if not met:
        print("\nSome targets were missed (see above); this benchmark still exits 0.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
