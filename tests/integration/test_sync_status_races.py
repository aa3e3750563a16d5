"""What a tutor sees when grade syncs of one course overlap: two presses of "Send to the
gradebook" at the same instant, a press while a sync is still sending, and the same sync job
run twice (the maintenance sweep queues it again after a Redis restart while its first run is
still posting). Each page follows the scores really being sent, to their end, and each score
is posted once. Real PostgreSQL and Redis; the platform's answer is held by the test, not
hoped for."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from rq.job import Job
from sqlalchemy import select

from lti_tool.grading.sync_jobs import queue_key
from lti_tool.grading.sync_sweep import requeue_lost_syncs
from lti_tool.lti.keys import SigningKey
from lti_tool.persistence.models import SyncJobRow, utcnow
from lti_tool.redis_connection import settings_redis_client
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.backends import MigratedBackends
from tests.support.class_results import class_with_released_results
from tests.support.grade_sync import hold_first_score, sync_job_on_a_thread
from tests.support.lti import Launcher
from tests.support.outage_servers import CONDITION_SECONDS, wait_until
from tests.support.production_tool import production_launcher

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
STUDENTS = 2


@pytest.fixture
def launcher(
    tmp_path: Path,
    migrated: MigratedBackends,
    platform: SandboxPlatform,
    tool_key_template: SigningKey,
) -> Iterator[Launcher]:
    """The production shape (PostgreSQL, Redis, RQ); a held answer is slow, not lost. A sync's
    rows are trusted for 4 s without news of its run, which renews them every second: a
    loaded machine never makes a live run look lost."""
    with production_launcher(
        tmp_path,
        migrated,
        platform,
        tool_key_template,
        http_timeout_seconds=60.0,
        sync_stale_seconds=4,
    ) as launcher:
        yield launcher


def press(staff: FlaskClient, headers: dict[str, str]) -> str:
    """The tutor presses "Send to the gradebook": the job their page then follows."""
    started = staff.post("/api/context/grade-sync", headers=headers)
    assert started.status_code == 202, started.get_data(as_text=True)
    return str(started.get_json()["job_id"])


def page(staff: FlaskClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """What the tutor's page reads about the sync it follows."""
    response = staff.get(f"/api/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def each_score_posted_once(ags: Any) -> None:
    posts = Counter(p.user_id for p in ags.score_posts if p.status == 200)
    everyone = {f"s{n:03d}" for n in range(STUDENTS)}
    assert {user: posts[user] for user in everyone} == dict.fromkeys(everyone, 1), posts
    assert all(p.status == 200 for p in ags.score_posts if p.user_id in everyone)


def all_sent(seen: dict[str, Any]) -> None:
    assert seen["status"] == "done", seen
    assert (seen["done"], seen["failed"], seen["total"]) == (STUDENTS, 0, STUDENTS), seen


def test_a_press_while_a_sync_is_sending_follows_the_scores_it_sends(
    launcher: Launcher, ags: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = launcher.app.extensions["lti_tool"]
    staff, headers = class_with_released_results(launcher, STUDENTS)
    arrived, answer = hold_first_score(ags, monkeypatch)
    first_job = press(staff, headers)
    first, first_errors = sync_job_on_a_thread(services, first_job)
    assert arrived.wait(CONDITION_SECONDS), "the first sync never posted"

    second_job = press(staff, headers)  # pressed again: nothing has come back yet
    second, second_errors = sync_job_on_a_thread(services, second_job)  # as the worker would
    second.join(CONDITION_SECONDS)
    assert not second.is_alive() and second_errors == []
    # The scores are still on their way: the second page must not say the sync is over with
    # nothing sent.
    seen = page(staff, headers, second_job)
    assert seen["status"] in {"queued", "running"}, seen
    assert seen["total"] == STUDENTS, seen

    answer.set()
    first.join(CONDITION_SECONDS)
    assert not first.is_alive() and first_errors == []
    all_sent(page(staff, headers, first_job))
    all_sent(page(staff, headers, second_job))
    each_score_posted_once(ags)


def test_two_presses_at_the_same_instant_both_follow_every_score(
    launcher: Launcher, ags: Any
) -> None:
    services = launcher.app.extensions["lti_tool"]
    staff, headers = class_with_released_results(launcher, STUDENTS)
    together = threading.Barrier(2, timeout=CONDITION_SECONDS)
    jobs: list[str] = []
    errors: list[BaseException] = []

    def tutor() -> None:
        client = launcher.app.test_client()  # the page in another tab: the same launch
        try:
            together.wait()
            jobs.append(press(client, headers))
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    tutors = [threading.Thread(target=tutor, daemon=True) for _ in range(2)]
    for thread in tutors:
        thread.start()
    for thread in tutors:
        thread.join(CONDITION_SECONDS)
        assert not thread.is_alive()
    assert errors == [] and len(jobs) == 2
    services.queue.work_in_process(services)  # the RQ worker runs what was queued

    for job_id in jobs:
        all_sent(page(staff, headers, job_id))
    each_score_posted_once(ags)


class HeldRun:
    """A pressed sync whose run is on a thread, its first score's answer held by the test."""

    def __init__(self, launcher: Launcher, ags: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.services = launcher.app.extensions["lti_tool"]
        self.staff, self.headers = class_with_released_results(launcher, STUDENTS)
        arrived, self.answer = hold_first_score(ags, monkeypatch)
        self.job_id = press(self.staff, self.headers)
        self.thread, self.errors = sync_job_on_a_thread(self.services, self.job_id)
        assert arrived.wait(CONDITION_SECONDS), "the run never posted"
        self.ags = ags

    def finish(self) -> None:
        """The platform answers: the run ends, every score sent once, as the page says."""
        self.answer.set()
        self.thread.join(CONDITION_SECONDS)
        assert not self.thread.is_alive() and self.errors == []
        all_sent(page(self.staff, self.headers, self.job_id))
        each_score_posted_once(self.ags)


def test_the_same_sync_run_twice_at_once_is_sent_and_reported_once(
    launcher: Launcher, ags: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = HeldRun(launcher, ags, monkeypatch)
    services, staff, headers, job_id = run.services, run.staff, run.headers, run.job_id

    # The sweep found the job missing from Redis (restarted) and queued it again.
    again, again_errors = sync_job_on_a_thread(services, job_id)
    again.join(CONDITION_SECONDS)
    assert not again.is_alive() and again_errors == []
    seen = page(staff, headers, job_id)
    assert seen["status"] == "running", seen  # the first run is still sending
    run.finish()


def test_the_sweep_leaves_a_sync_whose_run_is_still_sending(
    launcher: Launcher, ags: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = HeldRun(launcher, ags, monkeypatch)
    services, job_id = run.services, run.job_id

    # Redis restarted: RQ no longer knows the job, whose run is still waiting for the platform.
    Job.fetch(queue_key(job_id), connection=settings_redis_client(services.settings)).delete()
    with services.db.read_only() as session:
        created_at = session.scalar(select(SyncJobRow.created_at).where(SyncJobRow.id == job_id))
    assert created_at is not None
    stale = services.settings.sync_stale_seconds
    wait_until(
        lambda: (utcnow() - created_at).total_seconds() > stale, "the job to look old enough"
    )
    assert requeue_lost_syncs(services) == 0  # its run is at work: not queued a second time
    with services.db.read_only() as session:
        assert session.get(SyncJobRow, job_id).status == "running"  # type: ignore[union-attr]
    run.finish()
