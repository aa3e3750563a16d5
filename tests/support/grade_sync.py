"""Recording results and running a grade sync through the tool's API, as a tutor's page does:
the steps the grade-sync tests against the sandbox platform share."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.persistence.models import CompletionRecord, User
from tests.support.lti import Launcher
from tests.support.outage_servers import CONDITION_SECONDS

B832_CODES = ("GB080", "GB081", "GB082", "GB083", "GB084", "GB085", "GB086")


def complete_courses(app: Flask, subs: Iterable[str], codes: Iterable[str] = B832_CODES) -> None:
    """Record ``codes`` (B832's CPD courses unless told) as completed, by a tutor, for each
    student of ``subs`` (a student exists once a launch has fetched the roster)."""
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        for sub in subs:
            user_pk = session.scalar(select(User.id).where(User.sub == sub))
            assert user_pk is not None, f"user {sub} is not in the tool: was the roster fetched?"
            for code in codes:
                session.add(
                    CompletionRecord(
                        user_pk=user_pk,
                        course_code=code,
                        status="completed",
                        completed_at=dt.date(2026, 6, 1),
                        source="manual",
                    )
                )


def make_eligible(launcher: Launcher, *subs: str) -> None:
    """Record B832's CPD courses as done for ``subs``, so their B832 results need no reason."""
    complete_courses(launcher.app, subs)


def record_result(
    client: FlaskClient,
    headers: dict[str, str],
    sub: str,
    score: float,
    module: str = "B832",
    **extra: Any,
) -> None:
    """Save ``sub``'s result in ``module`` (released, so it goes to the outbox)."""
    body = {"score": score, "outcome": "pass" if score >= 50 else "fail", **extra}
    response = client.put(f"/api/context/results/{module}/{sub}", json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)


def run_sync(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    """Start a sync and follow it to its end, as the tutor's page does: the job's status."""
    started = client.post("/api/context/grade-sync", headers=headers)
    assert started.status_code == 202, started.get_data(as_text=True)
    job_id = started.get_json()["job_id"]
    services = client.application.extensions["lti_tool"]
    if services.queue.backend == "rq":  # with Redis the job waits for an RQ worker
        services.queue.work_in_process(services)
    deadline = time.monotonic() + 30
    while True:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).get_json()
        if job["status"] in {"done", "failed"}:
            return dict(job)
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def sync_job_on_a_thread(
    services: Any, job_id: str
) -> tuple[threading.Thread, list[BaseException]]:
    """Run the queued sync ``job_id`` on a thread of its own, as the RQ worker runs it (RQ
    needs the main thread): the thread, started, and the list its errors go to."""
    from lti_tool.grading.sync import run_sync as run_sync_job

    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_sync_job(services, job_id)
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    return worker, errors


def hold_first_score(ags: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The sandbox platform takes the first score POST in and answers only when the test says
    so: the events ``arrived`` (it came in) and ``answer`` (set it to let the platform answer)."""
    arrived, answer = threading.Event(), threading.Event()
    record = ags.store.record

    def slow_record(item_id: int, grade: Any) -> None:
        if not arrived.is_set():
            arrived.set()
            assert answer.wait(CONDITION_SECONDS)
        record(item_id, grade)

    monkeypatch.setattr(ags.store, "record", slow_record)
    return arrived, answer
