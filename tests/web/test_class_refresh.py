"""Completion for the whole class, not only for students who launched: a tutor's launch reads
every roster member from the (sandbox) Moodle in the background, the class view says what
has been read and when, and a result is judged on completion that was actually read."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update

from lti_tool.persistence.models import CompletionRecord, User
from lti_tool.sandbox import SandboxServer
from lti_tool.sandbox.demo_data import COMPLETE, COMPLETE_PASS, STUDENT1, log_cmid, quiz_cmid
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN
from tests.support.class_refresh import finished_refresh, staff_launch
from tests.support.lti import Launcher, launch_token

STUDENTS = ("1001", "1002", "1003", "1005")


@pytest.fixture
def moodle(sandbox_server: SandboxServer) -> Iterator[Any]:
    fake = sandbox_server.app.extensions["moodle_ws"]
    fake.reset_faults()
    states = dict(fake.data.states)
    yield fake
    fake.reset_faults()
    fake.data.states.clear()
    fake.data.states.update(states)  # the sandbox is shared by the whole session


def _statuses(launcher: Launcher, sub: str) -> dict[str, str]:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        user_pk = session.scalar(select(User.id).where(User.sub == sub))
        rows = session.scalars(select(CompletionRecord).where(CompletionRecord.user_pk == user_pk))
        return {r.course_code: r.status for r in rows}


def test_a_tutor_launch_reads_every_roster_member_once(with_moodle: Launcher, moodle: Any) -> None:
    launcher = with_moodle
    client, headers = staff_launch(launcher)
    progress = finished_refresh(client, headers)
    assert (progress["total"], progress["done"], progress["failed"]) == (4, 4, 0)
    # None of the students has launched; each one's copy is what Moodle says.
    sam, priya, owen, grace = (_statuses(launcher, sub) for sub in STUDENTS)
    assert [sam[c] for c in ("GB080", "GB081", "GB082", "GB083", "GB084")] == ["completed"] * 5
    assert sam["GB085"] == "in_progress" and sam["GB086"] == "not_started"
    assert priya["GB080"] == "completed" and priya["GB081"] == "in_progress"
    assert "completed" not in owen.values() and owen
    b832 = ("GB080", "GB081", "GB082", "GB083", "GB084", "GB085", "GB086")
    assert [grace[c] for c in b832] == ["completed"] * 7
    # Another staff launch while the copy is fresh starts no second refresh...
    calls = moodle.call_count
    staff_launch(launcher)
    assert client.get("/api/context/completions/refresh", headers=headers).get_json() == progress
    # ...and a student's own first launch finds a fresh copy: no call to Moodle either.
    student = launcher.app.test_client()
    page = launcher.launch(student, "student1").get_data(as_text=True)
    assert moodle.call_count == calls
    checklist = student.get(
        "/api/me/checklist", headers={"Authorization": f"Bearer {launch_token(page)}"}
    ).get_json()
    assert checklist["modules"][0]["hours_completed"] == 150


def test_a_stale_class_copy_is_read_again_at_the_next_staff_launch(
    with_moodle: Launcher, moodle: Any
) -> None:
    launcher = with_moodle
    client, headers = staff_launch(launcher)
    first = finished_refresh(client, headers)
    services = launcher.app.extensions["lti_tool"]
    old = dict(first, finished_at=time.time() - 2 * 3600)  # read two hours ago
    [key] = _progress_rows(services)
    services.store.put("class_refresh", key, old, 3600)
    calls = moodle.call_count
    client2, headers2 = staff_launch(launcher)
    second = finished_refresh(client2, headers2)
    assert second["finished_at"] > first["finished_at"]
    assert moodle.call_count > calls


def _progress_rows(services: Any) -> dict[str, Any]:
    from lti_tool.persistence.models import Context

    with services.db.read_only() as session:
        keys = [str(pk) for pk in session.scalars(select(Context.id))]
    return {k: v for k in keys if (v := services.store.get("class_refresh", k)) is not None}


def test_the_class_view_says_not_read_yet_and_who_could_not_be_read(
    with_moodle: Launcher, moodle: Any
) -> None:
    launcher = with_moodle
    moodle.fail_next(10_000, status=503)  # Moodle is down for the whole refresh
    client, headers = staff_launch(launcher)
    progress = finished_refresh(client, headers)
    assert progress["failed"] == 4
    assert {p["name"] for p in progress["unreadable"]} == {
        "Sam Student",
        "Priya Patel",
        "Owen Hughes",
        "Grace Okafor",
    }
    assert all(p["reason"].startswith("the LMS did not answer") for p in progress["unreadable"])
    page = client.get("/staff/class/", headers=headers).get_data(as_text=True)
    assert page.count("not read yet") >= 4
    assert "0/" not in page  # never read is not a zero
    assert "4 students could not be read" in page
    assert "Owen Hughes: the LMS did not answer" in page


def test_the_class_view_shows_when_each_student_was_read(
    with_moodle: Launcher, moodle: Any
) -> None:
    launcher = with_moodle
    client, headers = staff_launch(launcher)
    finished_refresh(client, headers)
    page = client.get("/staff/class/", headers=headers).get_data(as_text=True)
    assert "not read yet" not in page
    assert page.count("as of ") >= 5  # the class, then each of the four students
    assert "Completion as of" in page and "for 4 of 4 students" in page
    assert "150/" in page  # Sam's hours, read from Moodle


def test_a_refresh_finishing_while_the_table_is_read_leaves_the_page_following_it(
    with_moodle: Launcher, moodle: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page must not say "done" over a table read before the refresh wrote it: the
    progress it shows is read before the table, so it asks again and reloads."""
    from lti_tool.grading import service as grading

    launcher = with_moodle
    client, headers = staff_launch(launcher)
    done = finished_refresh(client, headers)
    services = launcher.app.extensions["lti_tool"]
    (key,) = _progress_rows(services)
    running = dict(done, status="running", done=1, failed=0, finished_at=None)
    services.store.put("class_refresh", key, running, 3600)
    table = grading.class_page

    def refresh_finishes_meanwhile(*args: Any, **kwargs: Any) -> Any:
        rows = table(*args, **kwargs)
        services.store.put("class_refresh", key, done, 3600)  # after the table was read
        return rows

    monkeypatch.setattr(grading, "class_page", refresh_finishes_meanwhile)
    page = client.get("/staff/class/", headers=headers).get_data(as_text=True)
    assert "Reading completion from Moodle: 1 of 4 students" in page
    assert "location.reload()" in page
    assert "Completion as of" not in page


def _finish_b832_in_moodle(moodle: Any) -> None:
    stamp = int(dt.datetime(2026, 7, 10, 12, tzinfo=dt.UTC).timestamp())
    for code in ("GB085", "GB086"):
        moodle.data.states[(STUDENT1, log_cmid(code))] = (COMPLETE, stamp)
        moodle.data.states[(STUDENT1, quiz_cmid(code))] = (COMPLETE_PASS, stamp)


def test_a_result_for_a_student_who_never_launched_is_judged_on_fresh_completion(
    with_moodle: Launcher, moodle: Any
) -> None:
    launcher = with_moodle
    client, headers = staff_launch(launcher)
    finished_refresh(client, headers)  # Sam had not finished B832 then
    _finish_b832_in_moodle(moodle)
    services = launcher.app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:  # the class copy is an hour old now
        session.execute(
            update(CompletionRecord).values(
                fetched_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
            )
        )
    response = client.put(
        "/api/context/results/B832/1001", json={"score": 70, "outcome": "pass"}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    assert _statuses(launcher, "1001")["GB086"] == "completed"


def test_an_unreadable_lms_asks_for_a_reason_instead_of_saying_not_met(
    with_moodle: Launcher, moodle: Any
) -> None:
    launcher = with_moodle
    moodle.fail_next(10_000, status=503)
    client, headers = staff_launch(launcher)
    finished_refresh(client, headers)
    body = {"score": 70, "outcome": "pass"}
    response = client.put("/api/context/results/B832/1001", json=body, headers=headers)
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "Completion could not be read from the LMS: give a reason to record anyway" in message
    assert "has not met" not in message
    body["override_reason"] = "Moodle is down; CPD checked on the paper log"
    response = client.put("/api/context/results/B832/1001", json=body, headers=headers)
    assert response.status_code == 200
    # With Moodle answering, a fresh read that shows the requirement unmet says so.
    moodle.reset_faults()
    response = client.put(
        "/api/context/results/B832/1002",
        json={"score": 70, "outcome": "pass"},
        headers=headers,
    )
    assert response.status_code == 422
    assert "has not met" in response.get_json()["error"]["message"]


def _record(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    """The log records of ``message``, waiting for the job to write them."""
    deadline = time.monotonic() + 30
    while True:
        found = [r for r in caplog.records if r.getMessage() == message]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_the_class_refresh_log_line_counts_what_was_stored(
    with_moodle: Launcher, moodle: Any, caplog: pytest.LogCaptureFixture
) -> None:
    launcher = with_moodle
    with caplog.at_level(logging.INFO, logger="lti_tool.completion"):
        client, headers = staff_launch(launcher)
        finished_refresh(client, headers)
        [done] = _record(caplog, "class refresh done")
    assert done.name == "lti_tool.completion"
    fields = done.fields  # type: ignore[attr-defined]
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(CompletionRecord)
            .where(CompletionRecord.source == "moodle")
        )
    assert (fields["students"], fields["ok"], fields["failed"]) == (4, 4, 0)
    assert fields["stored_students"] == 4 and fields["stored_records"] == stored > 0
    assert isinstance(fields["course"], int) and fields["reference"]


def test_an_unreadable_class_writes_warnings_without_tokens_or_names(
    with_moodle: Launcher, moodle: Any, caplog: pytest.LogCaptureFixture
) -> None:
    launcher = with_moodle
    moodle.fail_next(10_000, status=503)  # Moodle is down for the whole refresh
    with caplog.at_level(logging.INFO, logger="lti_tool.completion"):
        client, headers = staff_launch(launcher)
        finished_refresh(client, headers)
        [done] = _record(caplog, "class refresh done")
    warnings = [
        r.fields  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "lti_tool.completion" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 4  # one per student
    reference = done.fields["reference"]  # type: ignore[attr-defined]
    assert {w["reference"] for w in warnings} == {reference}
    assert {w["status"] for w in warnings} == {"unavailable"}
    assert all(
        isinstance(w["registration"], int) and isinstance(w["course"], int) for w in warnings
    )
    assert done.fields["stored_records"] == 0  # type: ignore[attr-defined]
    logged = caplog.text + repr(warnings)
    assert SANDBOX_TOKEN not in logged and "wstoken" not in logged
    assert not any(name in logged for name in ("Sam Student", "Priya Patel", "Owen Hughes"))
