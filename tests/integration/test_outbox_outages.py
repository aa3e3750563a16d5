"""Nothing is lost across an outage, and each grade reaches the gradebook once: the outbox
across a Redis restart (the queued sync job is lost with Redis; the maintenance sweep queues
it again) and across a database outage in the middle of a sync (the workers wait to record
the scores they sent, so none is posted twice). Real servers: a Redis of the test's own and
the suite's PostgreSQL behind a proxy that refuses."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.admin.health import health_report
from lti_tool.admin.identity import command_line_identity
from lti_tool.grading.sync import run_sync, start_sync
from lti_tool.grading.sync_sweep import requeue_lost_syncs
from lti_tool.lti.keys import SigningKey
from lti_tool.persistence.models import (
    AssessmentResultRow,
    OutboxRow,
    SyncJobRow,
)
from lti_tool.sandbox.platform import SandboxPlatform
from tests.conftest import make_tool
from tests.support.class_results import class_with_released_results
from tests.support.grade_sync import sync_job_on_a_thread
from tests.support.lti import Launcher
from tests.support.outage_servers import (
    CONDITION_SECONDS,
    PostgresProxy,
    RedisServer,
    wait_until,
)
from tests.support.tooling import sandbox_launcher
from tests.support.workers import running_worker

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def launcher(
    tmp_path: Path,
    proxy: PostgresProxy,
    redis_server: RedisServer,
    platform: SandboxPlatform,
    tool_key_template: SigningKey,
) -> Iterator[Launcher]:
    """The production shape (PostgreSQL through the proxy, Redis of the test's own, RQ),
    registered with the sandbox platform."""
    app: Flask = make_tool(
        {
            "database_url": proxy.url,
            "redis_url": redis_server.url,
            "redis_prefix": "t_" + uuid.uuid4().hex[:10],
        },
        tmp_path,
    )
    yield sandbox_launcher(app, platform, tool_key_template)
    proxy.restore()
    app.extensions["lti_tool"].close()


def _posts_per_student(ags: Any) -> Counter[str]:
    return Counter(p.user_id for p in ags.score_posts if p.user_id and p.user_id.startswith("s"))


def test_a_sync_queued_before_a_redis_restart_is_delivered_once(
    launcher: Launcher, redis_server: RedisServer, ags: Any
) -> None:
    services = launcher.app.extensions["lti_tool"]
    assert services.queue.backend == "rq"
    assert requeue_lost_syncs in services.upkeep  # the maintenance tick runs the sweep
    staff, headers = class_with_released_results(launcher, 3)
    started = staff.post("/api/context/grade-sync", headers=headers)
    assert started.status_code == 202
    job_id = started.get_json()["job_id"]

    redis_server.stop()  # the queued job goes with Redis
    redis_server.start()
    with services.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(AssessmentResultRow)) == 3
        assert set(session.scalars(select(OutboxRow.status))) == {"pending"}
        assert session.get(SyncJobRow, job_id).status == "queued"  # type: ignore[union-attr]
    services.queue.work_in_process(services)
    assert ags.score_posts == []  # nothing left in the queue to run: the job is lost

    time.sleep(1.1)  # settings.sync_stale_seconds = 1 in the tests' tool
    assert requeue_lost_syncs(services) == 1
    services.queue.work_in_process(services)

    assert _posts_per_student(ags) == {"s000": 1, "s001": 1, "s002": 1}
    assert {p.user_id for p in ags.accepted_scores()} >= {"s000", "s001", "s002"}
    with services.db.read_only() as session:
        assert set(session.scalars(select(OutboxRow.status))) == {"delivered"}
        assert session.get(SyncJobRow, job_id).status == "done"  # type: ignore[union-attr]
    time.sleep(1.1)
    assert requeue_lost_syncs(services) == 0  # a finished sync is left alone


def test_a_database_outage_mid_sync_posts_no_score_twice(
    launcher: Launcher, proxy: PostgresProxy, ags: Any, caplog: pytest.LogCaptureFixture
) -> None:
    students = 40
    services = launcher.app.extensions["lti_tool"]
    staff, headers = class_with_released_results(launcher, students)
    ags.reset(latency=0.2)
    started = staff.post("/api/context/grade-sync", headers=headers)
    assert started.status_code == 202
    job_id = started.get_json()["job_id"]
    caplog.set_level(logging.WARNING, logger="lti_tool.grading")
    worker, errors = sync_job_on_a_thread(services, job_id)
    wait_until(lambda: len(ags.accepted_scores()) >= 8, "the sync to deliver 8 scores")
    proxy.refuse()  # mid-sync: the workers cannot record what they sent
    assert len(ags.accepted_scores()) < students, "the sync finished first; slow the fake"
    wait_until(
        lambda: any("waits for the database" in r.getMessage() for r in caplog.records),
        "a worker to wait for the database",
    )
    time.sleep(2)
    proxy.restore()
    worker.join(CONDITION_SECONDS)
    assert not worker.is_alive() and errors == []

    per_student = _posts_per_student(ags)
    assert sorted(per_student) == sorted(f"s{n:03d}" for n in range(students))
    assert set(per_student.values()) == {1}, per_student.most_common(3)
    with services.db.read_only() as session:
        assert set(session.scalars(select(OutboxRow.status))) == {"delivered"}
        assert set(session.scalars(select(SyncJobRow.status))) == {"done"}


def test_a_sync_stopped_by_a_long_database_outage_ends_failed_and_the_next_sends_the_rest(
    launcher: Launcher,
    proxy: PostgresProxy,
    ags: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database stays down past the workers' patience: the job ends "failed" with words
    for the tutor (their page follows it until it ends), the rows the workers held go back to
    pending, and the next sync delivers the rest, no score accepted twice."""
    from lti_tool.grading import sync_records

    monkeypatch.setattr(sync_records, "RECORD_PATIENCE_SECONDS", 1.0)
    students = 30
    services = launcher.app.extensions["lti_tool"]
    staff, headers = class_with_released_results(launcher, students)
    ags.reset(latency=0.2)
    started = staff.post("/api/context/grade-sync", headers=headers)
    job_id = started.get_json()["job_id"]
    caplog.set_level(logging.WARNING, logger="lti_tool.grading")
    worker, errors = sync_job_on_a_thread(services, job_id)
    wait_until(lambda: len(ags.accepted_scores()) >= 4, "the sync to deliver 4 scores")
    proxy.refuse()
    wait_until(
        lambda: any(r.getMessage() == "grade sync stopped" for r in caplog.records),
        "the workers to give up on the database",
    )
    proxy.restore()
    worker.join(CONDITION_SECONDS)
    assert not worker.is_alive() and errors == []

    job = staff.get(f"/api/jobs/{job_id}", headers=headers).get_json()
    assert job["status"] == "failed", job
    assert job["error"].startswith("The grade sync stopped before it finished because the")
    assert "database did not answer" in job["error"]
    with services.db.read_only() as session:
        left = set(session.scalars(select(OutboxRow.status)))
    assert "sending" not in left and "pending" in left

    ags.latency = 0.0
    run_sync(services, start_sync(services, _course_of_the_outbox(services)))
    with services.db.read_only() as session:
        assert set(session.scalars(select(OutboxRow.status))) == {"delivered"}
    accepted = Counter(p.user_id for p in ags.accepted_scores())
    assert sorted(accepted) == sorted(f"s{n:03d}" for n in range(students))
    assert set(accepted.values()) == {1}, accepted.most_common(3)


def _course_of_the_outbox(services: Any) -> int:
    with services.db.read_only() as session:
        context_pk = session.scalar(select(OutboxRow.context_pk).limit(1))
    assert context_pk is not None
    return int(context_pk)


def test_a_worker_busy_when_redis_stops_runs_on_and_nothing_is_lost(
    launcher: Launcher, redis_server: RedisServer, ags: Any, tmp_path: Path
) -> None:
    students = 24
    services = launcher.app.extensions["lti_tool"]
    staff, headers = class_with_released_results(launcher, students)
    ags.reset(latency=0.5)
    assert staff.post("/api/context/grade-sync", headers=headers).status_code == 202
    with running_worker(services.settings, tmp_path / "worker") as worker:
        wait_until(lambda: len(ags.score_posts) >= 4, "the worker to start sending scores")
        redis_server.stop()  # the job's record, its result and the worker's registration go
        with services.db.read_only() as session:
            context_pk = session.scalar(select(OutboxRow.context_pk).limit(1))
        wait_until(
            lambda: _settled(services),
            "the sync to finish its rows during the outage",
        )
        time.sleep(3)  # RQ's worker meets the outage when the job ends
        redis_server.start()
        wait_until(lambda: _live_worker_count(services) == 1, "the health page to see the worker")
        assert worker.poll() is None, "lti-tool worker quit during the outage"

        # What failed during the outage is sent by the next sync; nothing twice.
        assert context_pk is not None
        start_sync(services, context_pk)
        wait_until(lambda: _all_delivered(services), "the next sync to deliver the rest")
    per_student = _posts_per_student(ags)
    assert sorted(per_student) == sorted(f"s{n:03d}" for n in range(students))
    resent = [sub for sub, count in per_student.items() if count > 1]
    for sub in resent:  # only a score the platform had answered "already there" for
        assert sum(1 for p in ags.score_posts if p.user_id == sub and p.status == 200) == 1


def _settled(services: Any) -> bool:
    with services.db.read_only() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.status.in_(["pending", "sending"]))
            )
            == 0
        )


def _all_delivered(services: Any) -> bool:
    with services.db.read_only() as session:
        return set(session.scalars(select(OutboxRow.status))) == {"delivered"}


def _live_worker_count(services: Any) -> int:
    report = health_report(services, command_line_identity("test"))
    check = next(c for c in report.checks if c.name == "Background jobs")
    return int(check.detail.split(" ", 1)[0]) if check.detail[0].isdigit() else 0
