"""The tool restarted on the built-in thread queue (no Redis) while a grade sync was queued or
sending: the new process queues that sync again at once, when it starts or when a tutor
presses "Send to the gradebook", instead of leaving the tutor's page on "sending" until the
maintenance tick (every 15 minutes) finds the sync's rows stale. A sync whose process still
lives (another web worker) is never taken from it.

A restart is a new app on the same database and instance folder; the old app's queue is held
(its job never starts), then the old app stops (its queue's owner lock goes, as the kernel lets
it go when a process dies). ``sync_stale_seconds`` is the default's two minutes and the tick
never runs here: only the prompt recovery can send the score in time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from lti_tool.persistence.models import OutboxRow, SyncJobRow, utcnow
from lti_tool.sandbox import register_sandbox
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.platform import SandboxPlatform
from tests.conftest import make_tool
from tests.support.backends import MigratedBackends
from tests.support.grade_sync import make_eligible, record_result
from tests.support.lti import Launcher, staff_launch
from tests.support.tooling import add_tool_key

RECOVERY_SECONDS = 15.0  # a loaded machine; the tick would take 900 s and stale rows 120 s

Start = Callable[[], Launcher]


@pytest.fixture
def start(
    tmp_path: Path, platform: SandboxPlatform, migrated: MigratedBackends, tool_key_template: Any
) -> Iterator[Start]:
    """Start the tool (again): one SQLite database and instance folder for every start."""
    url = migrated.sqlite_url(tmp_path)
    apps: list[Flask] = []

    def build() -> Launcher:
        app = make_tool({"database_url": url, "sync_stale_seconds": 120}, tmp_path)
        services = app.extensions["lti_tool"]
        if not apps:
            add_tool_key(services, tool_key_template)
            register_sandbox(services.db, platform, development=True)
        platform.tool_jwks_source = lambda: app.test_client().get("/.well-known/jwks.json").json
        apps.append(app)
        return Launcher(app, platform, create_sandbox_app(platform))

    yield build
    for app in apps:
        stop(app)


def stop(app: Flask) -> None:
    services = app.extensions["lti_tool"]
    if not getattr(services, "_stopped", False):
        services.close()
        services._stopped = True


def hold_queue(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's queue takes jobs and never starts them (a process about to die)."""
    monkeypatch.setattr(app.extensions["lti_tool"].jobs, "submit", lambda *a, **k: Future())


def press(launcher: Launcher) -> str:
    client, headers = staff_launch(launcher)
    started = client.post("/api/context/grade-sync", headers=headers)
    assert started.status_code == 202, started.get_data(as_text=True)
    return str(started.get_json()["job_id"])


def left_by_a_process(
    start: Start, monkeypatch: pytest.MonkeyPatch, state: str
) -> tuple[Launcher, str]:
    """A tool whose pressed sync is held ``state`` ("queued", or "running" with its row
    claimed and just renewed by its lease) in its queue; the job's id."""
    old = start()
    client, headers = staff_launch(old)
    make_eligible(old, "1001")
    record_result(client, headers, "1001", 64)
    hold_queue(old.app, monkeypatch)
    job_id = press(old)
    if state == "running":
        with old.app.extensions["lti_tool"].db.unit_of_work() as session:
            session.execute(update(SyncJobRow).values(status="running"))
            session.execute(update(OutboxRow).values(status="sending", updated_at=utcnow()))
    return old, job_id


def job_of(launcher: Launcher, job_id: str) -> SyncJobRow:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        job = session.get(SyncJobRow, job_id)
        assert job is not None
        session.expunge(job)
        return job


def sent_in_time(launcher: Launcher, job_id: str, ags: Any) -> None:
    deadline = time.monotonic() + RECOVERY_SECONDS
    while (job := job_of(launcher, job_id)).status not in {"done", "failed"}:
        assert time.monotonic() < deadline, (job.status, job.total, job.done)
        time.sleep(0.05)
    assert (job.status, job.total, job.done, job.failed) == ("done", 1, 1, 0)
    assert len(ags.accepted_scores(user_id="1001")) == 1


@pytest.mark.parametrize("state", ["queued", "running"])
def test_a_restart_sends_the_sync_the_old_process_held_at_once(
    start: Start, ags: Any, monkeypatch: pytest.MonkeyPatch, state: str
) -> None:
    old, job_id = left_by_a_process(start, monkeypatch, state)
    stop(old.app)

    new = start()
    sent_in_time(new, job_id, ags)


@pytest.mark.parametrize("state", ["queued", "running"])
def test_a_press_after_a_restart_joins_the_dead_sync_and_gets_it_sent(
    start: Start, ags: Any, monkeypatch: pytest.MonkeyPatch, state: str
) -> None:
    old, job_id = left_by_a_process(start, monkeypatch, state)
    stop(old.app)
    # The press comes before the start-up recovery has run.
    monkeypatch.setattr(
        "lti_tool.grading.sync_sweep.recover_at_start", lambda services: None, raising=False
    )

    new = start()
    assert press(new) == job_id  # the tutor's page follows the sync the scores are in
    sent_in_time(new, job_id, ags)


@pytest.mark.parametrize("state", ["queued", "running"])
def test_a_sync_another_live_process_holds_is_left_to_it(
    start: Start, ags: Any, monkeypatch: pytest.MonkeyPatch, state: str
) -> None:
    """Two web workers on one database, each with its own thread queue: the second's start
    and its press leave the first's sync alone (taking it would post its scores twice)."""
    first, job_id = left_by_a_process(start, monkeypatch, state)
    owner = job_of(first, job_id).queue_owner
    assert owner is not None

    second = start()
    assert press(second) == job_id  # joined, not taken
    time.sleep(0.5)  # the second's start-up recovery, had it wrongly queued the job
    job = job_of(second, job_id)
    assert (job.status, job.queue_owner) == (state, owner)
    assert ags.accepted_scores(user_id="1001") == []

    stop(first.app)  # the first worker dies: now the second may take the sync
    assert press(second) == job_id
    sent_in_time(second, job_id, ags)


def test_a_sync_queued_before_owners_were_recorded_is_left_to_the_tick(
    start: Start, ags: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that names no queue (queued on RQ, or before the upgrade) proves nothing."""
    old, job_id = left_by_a_process(start, monkeypatch, "running")
    with old.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(update(SyncJobRow).values(queue_owner=None))
    stop(old.app)

    new = start()
    assert press(new) == job_id
    time.sleep(0.5)
    with new.app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(SyncJobRow.status)) == "running"
    assert ags.accepted_scores(user_id="1001") == []
