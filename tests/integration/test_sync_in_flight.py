"""A tutor presses "Send to the gradebook" again while a slow sync is still posting: the scores
the first sync holds, and the gradebook column it is making, are its own until it has
recorded them, however long the platform takes to answer. Real PostgreSQL and Redis; the
platform's answer is held, not hoped for."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.grading import line_items
from lti_tool.grading.sync import start_sync
from lti_tool.lti.keys import SigningKey
from lti_tool.persistence.models import LineItemRow, OutboxRow, SyncJobRow, utcnow
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.backends import MigratedBackends
from tests.support.class_results import class_with_released_results
from tests.support.grade_sync import hold_first_score, sync_job_on_a_thread
from tests.support.lti import Launcher
from tests.support.outage_servers import CONDITION_SECONDS, wait_until
from tests.support.production_tool import production_launcher

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def launcher(
    tmp_path: Path,
    migrated: MigratedBackends,
    platform: SandboxPlatform,
    tool_key_template: SigningKey,
) -> Iterator[Launcher]:
    """The production shape (PostgreSQL, Redis, RQ); outbound calls may wait a minute, so a
    held answer is slow, not lost (``sync_stale_seconds`` is 1, as in every test tool)."""
    with production_launcher(
        tmp_path, migrated, platform, tool_key_template, http_timeout_seconds=60.0
    ) as launcher:
        yield launcher


def test_a_second_sync_leaves_a_score_the_first_is_still_posting(
    launcher: Launcher, ags: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = launcher.app.extensions["lti_tool"]
    stale = dt.timedelta(seconds=services.settings.sync_stale_seconds)
    class_with_released_results(launcher, 1)
    with services.db.read_only() as session:
        context_pk = session.scalar(select(OutboxRow.context_pk))
    assert context_pk is not None

    # The platform takes the first score POST in and answers only when the test says so.
    arrived, answer = hold_first_score(ags, monkeypatch)

    first_job = start_sync(services, context_pk)
    first, first_errors = sync_job_on_a_thread(services, first_job)
    assert arrived.wait(CONDITION_SECONDS), "the first sync never posted"
    with services.db.read_only() as session:
        claimed_at = session.scalar(select(OutboxRow.updated_at))
    assert claimed_at is not None
    # The platform is slow: longer than a claim is trusted without news of its sync.
    wait_until(lambda: utcnow() > claimed_at + 2 * stale, "the claim to grow old")

    second_job = start_sync(services, context_pk)  # the tutor presses the button again
    second, second_errors = sync_job_on_a_thread(services, second_job)
    second.join(CONDITION_SECONDS)
    assert not second.is_alive() and second_errors == []
    answer.set()
    first.join(CONDITION_SECONDS)
    assert not first.is_alive() and first_errors == []

    posts = [p for p in ags.score_posts if p.user_id == "s000"]
    assert len(posts) == 1, [(p.status, p.body.get("timestamp")) for p in posts]
    assert posts[0].status == 200
    with services.db.read_only() as session:
        rows = session.execute(select(OutboxRow.status, OutboxRow.job_id)).all()
        jobs = dict(session.execute(select(SyncJobRow.id, SyncJobRow.status)).all())
    assert [status for status, _ in rows] == ["delivered"]
    assert jobs == {first_job: "done", second_job: "done"}


def test_a_second_sync_leaves_the_column_the_first_is_still_making(
    launcher: Launcher, ags: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = launcher.app.extensions["lti_tool"]
    # A claim on a column is trusted for a second without news of its sync (60 in use).
    monkeypatch.setattr(line_items, "CLAIM_TIMEOUT", dt.timedelta(seconds=1))
    class_with_released_results(launcher, 1)
    with services.db.read_only() as session:
        context_pk = session.scalar(select(OutboxRow.context_pk))
    assert context_pk is not None

    # The platform takes the first column the tool makes in and answers when told to.
    arrived, answer = threading.Event(), threading.Event()
    create = ags.store.create

    def slow_create(**values: Any) -> Any:
        if not arrived.is_set():
            arrived.set()
            assert answer.wait(CONDITION_SECONDS)
        return create(**values)

    monkeypatch.setattr(ags.store, "create", slow_create)
    waiting = threading.Event()
    wait_for_url = line_items._wait_for_url

    def watched_wait(*args: Any) -> str:
        waiting.set()
        return wait_for_url(*args)

    monkeypatch.setattr(line_items, "_wait_for_url", watched_wait)

    first_job = start_sync(services, context_pk)
    first, first_errors = sync_job_on_a_thread(services, first_job)
    assert arrived.wait(CONDITION_SECONDS), "the first sync never made the column"
    with services.db.read_only() as session:
        claimed_at = session.scalar(select(LineItemRow.claimed_at))
    assert claimed_at is not None
    wait_until(lambda: utcnow() > claimed_at + dt.timedelta(seconds=2), "the claim to grow old")

    second_job = start_sync(services, context_pk)
    second, second_errors = sync_job_on_a_thread(services, second_job)
    wait_until(lambda: waiting.is_set() or not second.is_alive(), "the second sync to go on")
    answer.set()
    for thread in (first, second):
        thread.join(CONDITION_SECONDS)
        assert not thread.is_alive()
    assert first_errors == second_errors == []

    assert len(ags.lineitem_creates) == 1, [item.label for item in ags.lineitem_creates]
    assert [p.status for p in ags.score_posts if p.user_id == "s000"] == [200]
    with services.db.read_only() as session:
        assert list(session.scalars(select(OutboxRow.status))) == ["delivered"]
