"""What the tool knows of a student's completion is not lost to an answer that says less, nor to
an older answer written late, nor to a class refresh whose worker died (outside review)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

import lti_tool.completion.store as store_module
from lti_tool.completion import class_progress
from lti_tool.completion.class_progress import PROGRESS, PROGRESS_TTL, start_class_refresh
from lti_tool.completion.class_refresh import _BatchWriter
from lti_tool.completion.refresh import (
    Student,
    fetch_student,
    last_fetched,
    prepare_source,
    refresh_student,
)
from lti_tool.container import Services
from lti_tool.lti import claims as c
from lti_tool.persistence.models import AuditEntry, CompletionRecord, User, utcnow
from lti_tool.sandbox import SandboxServer
from lti_tool.sandbox.demo_data import (
    COMPLETE,
    COMPLETE_PASS,
    CPD_COURSES,
    STUDENT1,
    LmsData,
    course_id,
    log_cmid,
    quiz_cmid,
    stamp,
)
from tests.support.class_refresh import with_canvas_source
from tests.support.lti import Launcher, launch_token


@pytest.fixture
def lms_data(sandbox_server: SandboxServer) -> Iterator[LmsData]:
    """The sandbox's Moodle and Canvas data (one set, shared by the session): restored after."""
    data: LmsData = sandbox_server.app.extensions["moodle_ws"].data
    states = dict(data.states)
    students = {code: set(data.courses[course_id(code)].students) for code in CPD_COURSES}
    yield data
    data.states = states
    for code, enrolled in students.items():
        data.courses[course_id(code)].students = enrolled


def _student1(launcher: Launcher, custom: dict[str, str] | None = None) -> tuple[Services, Student]:
    changes = {c.CUSTOM: custom} if custom else None
    launcher.launch(launcher.app.test_client(), "student1", changes=changes)
    services: Services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        user = session.scalars(select(User).where(User.sub == str(STUDENT1))).one()
    return services, Student(user.registration_id, user.id, user.sub, custom or {}, None)


def _stored(services: Services, student: Student, code: str) -> str:
    with services.db.read_only() as session:
        return session.scalars(
            select(CompletionRecord.status).where(
                CompletionRecord.user_pk == student.user_pk, CompletionRecord.course_code == code
            )
        ).one()


def test_a_completed_moodle_course_stays_completed_when_the_enrolment_ends(
    with_moodle: Launcher, lms_data: LmsData
) -> None:
    """Moodle counts only active enrolments: once a finished cohort's enrolments are
    suspended (or a self-enrolment expires) it answers "not enrolled" for the course."""
    services, student = _student1(with_moodle)
    assert refresh_student(services, student).status == "ok"
    assert _stored(services, student, "GB084") == "completed"
    assert _stored(services, student, "GB086") == "not_started"

    lms_data.courses[course_id("GB084")].students.discard(STUDENT1)
    lms_data.courses[course_id("GB086")].students.discard(STUDENT1)
    assert refresh_student(services, student).status == "ok"

    assert _stored(services, student, "GB084") == "completed"
    assert _stored(services, student, "GB086") == "not_started"


def test_a_completed_canvas_course_stays_completed_when_the_enrolment_ends(
    launcher: Launcher, lms_data: LmsData
) -> None:
    """Canvas answers 404 for the progress of someone who is no longer a student there."""
    with_canvas_source(launcher)
    services, student = _student1(launcher, {"canvas_user_id": str(STUDENT1)})
    assert refresh_student(services, student).status == "ok"
    assert _stored(services, student, "GB084") == "completed"

    lms_data.courses[course_id("GB084")].students.discard(STUDENT1)
    assert refresh_student(services, student).status == "ok"

    assert _stored(services, student, "GB084") == "completed"


def test_a_class_refresh_batch_written_late_does_not_undo_a_newer_read(
    with_moodle: Launcher, lms_data: LmsData
) -> None:
    services, student = _student1(with_moodle)
    assert _stored(services, student, "GB086") == "not_started"

    # The class refresh reads student1 (GB086 not started) and keeps the answer in its batch ...
    prepared = prepare_source(services, student.registration_pk, None)
    assert prepared is not None
    writer = _BatchWriter(services, 100)
    writer.add(student, fetch_student(prepared, student, "class-refresh-test"), prepared.kind)

    # ... student1 finishes GB086 and opens the tool: their own refresh stores it ...
    lms_data.states[(STUDENT1, log_cmid("GB086"))] = (COMPLETE, stamp("2026-08-01"))
    lms_data.states[(STUDENT1, quiz_cmid("GB086"))] = (COMPLETE_PASS, stamp("2026-08-02"))
    assert refresh_student(services, student).status == "ok"
    assert _stored(services, student, "GB086") == "completed"

    # ... and the class refresh's batch, read earlier, is written afterwards.
    writer.flush()
    assert _stored(services, student, "GB086") == "completed"


def test_a_staff_launch_restarts_a_class_refresh_whose_worker_died(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker was killed two hours ago, 120 students in: its progress still says
    "running", but the lock it held has expired."""
    services: Services = launcher.app.extensions["lti_tool"]
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(services.queue, "enqueue", lambda task, *args, **kw: queued.append(args))
    context_pk = 4242
    lost = {
        "status": "running",
        "total": 500,
        "done": 120,
        "failed": 0,
        "started_at": time.time() - 2 * 3600,
        "finished_at": None,
        "unreadable": [],
    }
    services.store.put(PROGRESS, str(context_pk), lost, PROGRESS_TTL)
    assert services.store.get(class_progress.LOCK, str(context_pk)) is None

    assert start_class_refresh(services, context_pk, only_if_stale=True) is True
    assert len(queued) == 1
    # While it runs (lock held), another launch does not start a second one.
    assert start_class_refresh(services, context_pk, only_if_stale=True) is False


def _statuses(checklist: dict[str, Any]) -> dict[str, str]:
    return {r["code"]: r["status"] for m in checklist["modules"] for r in m["requirements"]}


def test_a_tutors_correction_is_not_dropped_when_the_earlier_one_was_stamped_by_a_fast_clock(
    with_moodle: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two web workers, one clock 5 minutes fast (NTP not yet synced). A tutor records GB085
    completed on the fast worker, sees it was the wrong student's certificate and, a minute
    later on the other worker, corrects it to in progress: 200, audited, but not stored."""
    launcher = with_moodle
    student = launcher.app.test_client()
    token = launch_token(launcher.launch(student, "student1").get_data(as_text=True))
    staff = launcher.app.test_client()
    staff_token = launch_token(launcher.launch(staff, "teacher1").get_data(as_text=True))
    headers = {"Authorization": f"Bearer {staff_token}"}

    fast = utcnow() + dt.timedelta(minutes=5)
    monkeypatch.setattr(store_module, "utcnow", lambda: fast)
    first = staff.put(
        "/api/context/completions/1001/GB085",
        json={"status": "completed", "completed_at": "2026-11-01", "reason": "certificate seen"},
        headers=headers,
    )
    assert first.status_code == 200
    monkeypatch.undo()

    second = staff.put(
        "/api/context/completions/1001/GB085",
        json={"status": "in_progress", "reason": "that certificate was another student's"},
        headers=headers,
    )
    assert second.status_code == 200
    services: Services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        audited = session.scalars(
            select(AuditEntry.new).where(AuditEntry.action == "completion.manual")
        ).all()
    assert audited[-1]["status"] == "in_progress"  # the log says it was changed ...
    mine = student.get("/api/me/checklist", headers={"Authorization": f"Bearer {token}"})
    assert _statuses(mine.get_json())["GB085"] == "in_progress"  # ... the record must agree


def test_a_successful_read_that_keeps_every_completion_counts_as_a_fresh_read(
    with_moodle: Launcher,
    lms_data: LmsData,
) -> None:
    """A finished cohort: every course completed, then the enrolments suspended. Each read
    answers "not enrolled" for every course, so every row is kept as it was, fetched_at
    included: the copy never becomes fresh, every launch reads the LMS again and the
    student's page says "may be out of date" for ever."""
    services, student = _student1(with_moodle)
    assert refresh_student(services, student).status == "ok"
    long_ago = utcnow() - dt.timedelta(days=2)
    with services.db.unit_of_work() as session:
        session.execute(
            update(CompletionRecord)
            .where(CompletionRecord.user_pk == student.user_pk)
            .values(status="completed", completed_at=dt.date(2026, 3, 1), fetched_at=long_ago)
        )
    for code in CPD_COURSES:
        lms_data.courses[course_id(code)].students.discard(STUDENT1)

    assert refresh_student(services, student).status == "ok"

    with services.db.read_only() as session:
        newest = last_fetched(session, student.user_pk)
        statuses = set(
            session.scalars(
                select(CompletionRecord.status).where(CompletionRecord.user_pk == student.user_pk)
            )
        )
    assert statuses == {"completed"}
    assert newest is not None
    assert utcnow() - newest < services.settings.completion_max_age
