"""A student's checklist comes from the completion the tool reads from the (sandbox) LMS."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import select, update

from lti_tool.persistence.models import CompletionRecord
from lti_tool.sandbox import SandboxServer
from tests.support.class_refresh import configure_sandbox_source, with_canvas_source
from tests.support.class_refresh import with_moodle_source as moodle_source
from tests.support.lti import Launcher, launch_token


@pytest.fixture
def with_moodle_source(launcher: Launcher) -> Launcher:
    return moodle_source(launcher)


def _checklist(launcher: Launcher, client: Any, token: str) -> dict[str, Any]:
    response = client.get("/api/me/checklist", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return dict(response.get_json())


def _statuses(checklist: dict[str, Any]) -> dict[str, str]:
    return {r["code"]: r["status"] for m in checklist["modules"] for r in m["requirements"]}


def test_first_launch_shows_completion_read_from_moodle(
    with_moodle_source: Launcher, moodle: Any
) -> None:
    launcher = with_moodle_source
    client = launcher.app.test_client()
    before = moodle.calls_to("core_completion_get_course_completion_status")
    response = launcher.launch(client, "student1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    checklist = _checklist(launcher, client, launch_token(page))
    statuses = _statuses(checklist)
    assert [statuses[c] for c in ("GB080", "GB081", "GB082", "GB083", "GB084")] == ["completed"] * 5
    assert statuses["GB085"] == "in_progress"
    assert statuses["GB086"] == "not_started"
    assert checklist["modules"][0]["hours_completed"] == 150
    assert [s["name"] for s in checklist["sources"]] == ["moodle"]
    assert checklist["sources"][0]["stale"] is False
    # one call per mapped CPD course, all made during the first launch
    assert moodle.calls_to("core_completion_get_course_completion_status") - before == 13
    assert "No course completion has been received" not in page


def test_a_fresh_copy_is_not_fetched_again(with_moodle_source: Launcher, moodle: Any) -> None:
    launcher = with_moodle_source
    client = launcher.app.test_client()
    assert launcher.launch(client, "student2").status_code == 200
    calls = moodle.call_count
    assert launcher.launch(client, "student2").status_code == 200
    assert moodle.call_count == calls


def test_an_lms_outage_keeps_the_last_good_copy_with_a_warning(
    with_moodle_source: Launcher, moodle: Any
) -> None:
    launcher = with_moodle_source
    app = launcher.app
    client = app.test_client()
    assert launcher.launch(client, "student1").status_code == 200
    services = app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:  # the copy is now an hour old
        session.execute(
            update(CompletionRecord).values(
                fetched_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
            )
        )
    moodle.fail_next(200, status=503)
    started = time.monotonic()
    response = launcher.launch(client, "student1")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 1.0  # rendered from the stored copy, not waiting for the LMS
    page = response.get_data(as_text=True)
    assert "may be out of date" in page
    token = launch_token(page)
    deadline = time.monotonic() + 15
    checklist = _checklist(launcher, client, token)
    while (checklist.get("refresh") or {}).get("status") != "unavailable":
        assert time.monotonic() < deadline, checklist.get("refresh")
        time.sleep(0.2)
        checklist = _checklist(launcher, client, token)
    assert _statuses(checklist)["GB084"] == "completed"  # nothing overwritten by the failure
    assert checklist["sources"][0]["stale"] is True
    again = client.get("/me")
    assert "did not answer" in again.get_data(as_text=True)


def test_manual_correction_overrides_the_lms_and_is_audited(
    with_moodle_source: Launcher, moodle: Any
) -> None:
    from sqlalchemy import select

    from lti_tool.persistence.models import AuditEntry

    launcher = with_moodle_source
    assert launcher.launch(launcher.app.test_client(), "student1").status_code == 200
    staff = launcher.app.test_client()
    token = launch_token(launcher.launch(staff, "teacher1").get_data(as_text=True))
    headers = {"Authorization": f"Bearer {token}"}
    missing_reason = staff.put(
        "/api/context/completions/1001/GB085",
        json={"status": "completed", "completed_at": "2026-11-01"},
        headers=headers,
    )
    assert missing_reason.status_code == 422
    response = staff.put(
        "/api/context/completions/1001/GB085",
        json={"status": "completed", "completed_at": "2026-11-01", "reason": "certificate seen"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    statuses = _statuses(response.get_json())
    assert statuses["GB085"] == "completed"
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "completion.manual"))
        assert entry is not None and entry.reason == "certificate seen" and entry.subject == "GB085"
    student_view = launcher.app.test_client()
    mine = launch_token(launcher.launch(student_view, "student1").get_data(as_text=True))
    assert _statuses(_checklist(launcher, student_view, mine))["GB085"] == "completed"


def test_completion_from_ags_results_of_cpd_columns(
    launcher: Launcher, sandbox_server: SandboxServer
) -> None:
    from lti_tool.sandbox.ags_store import Grade

    ags = sandbox_server.app.extensions["ags"]
    ags.reset()
    configure_sandbox_source(launcher, kind="ags", ags_threshold=0.6)
    stamp = "2026-10-01T10:00:00.000Z"
    for code, score in (("GB080", 90.0), ("GB081", 40.0)):
        item = ags.add_lineitem(code, 100, resource_id=code, tag=code)
        seconds = int(dt.datetime(2026, 10, 1, 10, tzinfo=dt.UTC).timestamp())
        grade = Grade("1001", score, 100.0, None, stamp, seconds, "Completed", "FullyGraded")
        ags.store.record(item.id, grade)
    try:
        client = launcher.app.test_client()
        token = launch_token(launcher.launch(client, "student1").get_data(as_text=True))
        checklist = _checklist(launcher, client, token)
        statuses = _statuses(checklist)
        assert statuses["GB080"] == "completed"  # 90 % ≥ 60 %
        assert statuses["GB081"] == "in_progress"  # a result below the threshold
        assert statuses["GB082"] == "not_started"
        assert [s["name"] for s in checklist["sources"]] == ["ags"]
        gb080 = next(
            r for m in checklist["modules"] for r in m["requirements"] if r["code"] == "GB080"
        )
        assert gb080["completed_at"] == "2026-10-01"
    finally:
        ags.reset()


def test_completion_from_ags_results_asks_for_the_scopes_the_platform_granted(
    launcher: Launcher, sandbox_server: SandboxServer
) -> None:
    """The sandbox's launches grant ``lineitem`` (not ``lineitem.readonly``), result and score
    (AGS 2.0 section 3.1): a token endpoint that refuses scopes beyond what it granted
    (``invalid_scope``) must still give the results source its token."""
    from lti_tool.lti import claims as c

    platform = sandbox_server.platform
    ags_claim = platform.launch_claims("student1", "nonce")[c.AGS]
    platform.token_scopes = frozenset(ags_claim["scope"]) | {c.NRPS_SCOPE, c.GROUPS_SCOPE}
    try:
        test_completion_from_ags_results_of_cpd_columns(launcher, sandbox_server)
    finally:
        platform.token_scopes = None


@pytest.mark.parametrize("mode", ["course", "activity"])
def test_completion_from_canvas_rest_of_the_student_canvas_names_by_sub(
    launcher: Launcher, mode: str
) -> None:
    from lti_tool.lti import claims as c

    with_canvas_source(launcher, mode)
    custom = {"canvas_user_id": "1001", "canvas_course_id": "2"}
    client = launcher.app.test_client()
    response = launcher.launch(client, "student1", changes={c.CUSTOM: custom})
    checklist = _checklist(launcher, client, launch_token(response.get_data(as_text=True)))
    statuses = _statuses(checklist)
    assert [statuses[x] for x in ("GB080", "GB081", "GB082", "GB083", "GB084")] == ["completed"] * 5
    assert statuses["GB086"] == "not_started"
    assert [s["name"] for s in checklist["sources"]] == ["canvas"]

    # Without the custom parameter too: Canvas says whose the sub is.
    other = launcher.app.test_client()
    token = launch_token(launcher.launch(other, "student2").get_data(as_text=True))
    mine = _checklist(launcher, other, token)
    assert mine["refresh"]["status"] == "ok"
    assert _statuses(mine)["GB080"] == "completed" and _statuses(mine)["GB082"] != "completed"


def test_a_manual_correction_can_also_downgrade_what_the_lms_says(
    with_moodle_source: Launcher, moodle: Any
) -> None:
    launcher = with_moodle_source
    student = launcher.app.test_client()
    token = launch_token(launcher.launch(student, "student1").get_data(as_text=True))
    assert _statuses(_checklist(launcher, student, token))["GB080"] == "completed"
    staff = launcher.app.test_client()
    staff_token = launch_token(launcher.launch(staff, "teacher1").get_data(as_text=True))
    response = staff.put(
        "/api/context/completions/1001/GB080",
        json={"status": "in_progress", "reason": "certificate was for another course"},
        headers={"Authorization": f"Bearer {staff_token}"},
    )
    assert response.status_code == 200
    assert _statuses(_checklist(launcher, student, token))["GB080"] == "in_progress"


def test_completions_csv_from_the_staff_page_is_all_or_nothing(launcher: Launcher) -> None:
    import io

    from tests.support.pathway_web import csrf_token

    staff = launcher.app.test_client()
    page = launcher.launch(staff, "teacher1").get_data(as_text=True)
    token = csrf_token(page)

    def upload(text: str) -> str:
        response = staff.post(
            "/staff/completions/import",
            data={
                "csrf_token": token,
                "reason": "certificates checked",
                "file": (io.BytesIO(text.encode()), "completions.csv"),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    bad = upload(
        "student,course_code,status,completed_at\n1001,GB080,completed,2026-05-01\n"
        "1002,GB999,completed,2026-05-01\n1003,GB081,done,\n"
    )
    assert "Line 3:" in bad and "Line 4:" in bad and "Nothing was imported" in bad
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(CompletionRecord.id).limit(1)) is None
    good = upload(
        "student,course_code,status,completed_at\n1001,GB080,completed,2026-05-01\n"
        "1002,GB081,in_progress,\n"
    )
    assert "Imported 2 completion records" in good


def test_a_class_refresh_reads_canvas_for_students_who_launched_once(launcher: Launcher) -> None:
    from lti_tool.lti import claims as c
    from lti_tool.persistence.models import User

    services = launcher.app.extensions["lti_tool"]
    # Sam launched once, before the source was configured: only his Canvas id was kept.
    student = launcher.app.test_client()
    launcher.launch(student, "student1", changes={c.CUSTOM: {"canvas_user_id": "1001"}})
    with_canvas_source(launcher)
    staff = launcher.app.test_client()
    token = launch_token(launcher.launch(staff, "teacher1").get_data(as_text=True))
    response = staff.post(
        "/api/context/completions/refresh", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 202
    if services.queue.backend == "rq":
        services.queue.work_in_process(services)
    deadline = time.monotonic() + 20
    while True:
        with services.db.read_only() as session:
            sam = session.scalar(select(User.id).where(User.sub == "1001"))
            stored = session.scalars(
                select(CompletionRecord.course_code).where(
                    CompletionRecord.user_pk == sam, CompletionRecord.status == "completed"
                )
            ).all()
        if stored or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert sorted(stored) == ["GB080", "GB081", "GB082", "GB083", "GB084"]
