"""Checks a tutor expects from the staff pages, and messages in words rather than field
names: a completion in the future is refused, a date may be written the UK way."""

from __future__ import annotations

import datetime as dt
import io

from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, audit_rows, csrf_token, open_tool, parse_html

FIELD_NAMES = ("override_reason", "completed_at", "started_at", "start_date", "True", "False")


def _alerts(page: str) -> list[str]:
    return [p.text for p in parse_html(page).find_all("p", cls="error")]


def _announced(page: str) -> list[str]:
    """What a refused result form announces (the message also sits next to its field)."""
    return [p.text for p in parse_html(page).find_all("p", role="alert")]


def _teacher_and_student(launcher: Launcher) -> Opened:
    open_tool(launcher, "student1")
    return open_tool(launcher, "teacher1")


def _record(teacher: Opened, **form: str) -> str:
    page = teacher.client.get("/staff/students/1001").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "course_code": "GB080", "reason": "seen", **form}
    return teacher.client.post(
        "/staff/students/1001/completions", data=data, follow_redirects=True
    ).get_data(as_text=True)


def test_a_completion_date_in_the_future_is_refused(launcher: Launcher) -> None:
    teacher = _teacher_and_student(launcher)
    later = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)).isoformat()
    page = _record(teacher, status="completed", completed_at=later)
    (alert,) = _alerts(page)
    assert "is in the future" in alert
    assert not [r for r in audit_rows(launcher.app) if r["action"] == "completion.manual"]


def test_a_completion_today_in_a_uk_date_and_plain_status_is_recorded(launcher: Launcher) -> None:
    teacher = _teacher_and_student(launcher)
    today = dt.datetime.now(dt.UTC).date()
    page = _record(teacher, status="Completed", completed_at=today.strftime("%d/%m/%Y"))
    assert _alerts(page) == []
    (row,) = [r for r in audit_rows(launcher.app) if r["action"] == "completion.manual"]
    assert row["new"]["completed_at"] == today.isoformat()


def test_completion_messages_name_no_fields(launcher: Launcher) -> None:
    teacher = _teacher_and_student(launcher)
    for form in (
        {"status": "completed", "completed_at": ""},
        {"status": "in_progress", "completed_at": "2026-01-01"},
        {"status": "done", "completed_at": ""},
    ):
        (alert,) = _alerts(_record(teacher, **form))
        assert not [word for word in FIELD_NAMES if word in alert], alert


def test_a_result_refusal_names_no_fields(launcher: Launcher) -> None:
    teacher = _teacher_and_student(launcher)
    page = teacher.client.get("/staff/students/1001").get_data(as_text=True)
    answered = teacher.client.post(
        "/staff/class/results/1001",
        data={"csrf_token": csrf_token(page), "module": "B832", "score": "74", "outcome": "pass"},
        follow_redirects=True,
    ).get_data(as_text=True)
    (alert,) = _announced(answered)
    assert "has not met the CPD requirement" in alert
    assert "override reason" in alert and "override_reason" not in alert
    bad = teacher.client.post(
        "/staff/class/results/1001",
        data={"csrf_token": csrf_token(page), "module": "B832", "score": "x", "outcome": "pass"},
        follow_redirects=True,
    ).get_data(as_text=True)
    (alert,) = _announced(bad)
    assert alert == "Score must be a number, not “x”."


def test_empty_start_dates_form_asks_for_a_date_without_json(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    page = teacher.client.post(
        "/staff/module-starts",
        data={"csrf_token": csrf_token(teacher.page), "B832": "", "B833": ""},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert _alerts(page) == ["Enter a start date for at least one module (B832, B833)."]


def test_start_dates_accept_uk_dates(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    teacher.client.post(
        "/staff/module-starts",
        data={"csrf_token": csrf_token(teacher.page), "B832": "30/05/2027"},
    )
    body = teacher.client.get("/api/context/module-starts", headers=teacher.bearer).get_json()
    assert {m["code"]: m["start_date"] for m in body["modules"]}["B832"] == "2027-05-30"


def test_completion_import_accepts_uk_dates(launcher: Launcher) -> None:
    teacher = _teacher_and_student(launcher)
    text = "student,course_code,status,completed_at\n1001,GB080,completed,01/02/2026\n"
    page = teacher.client.post(
        "/staff/completions/import",
        data={
            "csrf_token": csrf_token(teacher.page),
            "reason": "certificates",
            "file": (io.BytesIO(text.encode()), "c.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Imported 1 completion record." in page, _alerts(page)


def _save_starts(teacher: Opened, **dates: str) -> tuple[int, str]:
    answer = teacher.client.post(
        "/staff/module-starts",
        data={"csrf_token": csrf_token(teacher.page), **dates},
        follow_redirects=True,
    )
    return answer.status_code, answer.get_data(as_text=True)


def _cohort(teacher: Opened) -> dict[str, str | None]:
    body = teacher.client.get("/api/context/module-starts", headers=teacher.bearer).get_json()
    return {m["code"]: m["start_date"] for m in body["modules"]}


def test_a_later_module_starting_first_is_questioned_then_saved_once_confirmed(
    launcher: Launcher,
) -> None:
    teacher = open_tool(launcher, "teacher1")
    status, page = _save_starts(teacher, B832="2027-05-30", B833="2027-03-01")
    assert status == 409
    question = parse_html(page).find("p", id="order-question").text
    assert question.startswith("B833 would start on 01/03/2027, before B832 (30/05/2027).")
    # What was typed stays, with a box to confirm it; nothing was saved yet.
    assert parse_html(page).find("input", id="start-B833").attrs["value"] == "2027-03-01"
    assert parse_html(page).find("input", id="confirm-order").attrs["type"] == "checkbox"
    assert _cohort(teacher) == {"B832": None, "B833": None}

    status, page = _save_starts(teacher, B832="2027-05-30", B833="2027-03-01", confirm_order="1")
    assert status == 200 and "Start dates saved." in page
    assert _cohort(teacher) == {"B832": "2027-05-30", "B833": "2027-03-01"}


def test_the_order_is_judged_with_the_dates_already_saved(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    assert _save_starts(teacher, B832="2027-05-30")[0] == 200
    assert _save_starts(teacher, B833="2027-10-31")[0] == 200
    assert _save_starts(teacher, B833="2027-01-31")[0] == 409
    api = teacher.client.put(
        "/api/context/module-starts", json={"B833": "2027-01-31"}, headers=teacher.bearer
    )
    assert api.status_code == 409
    assert api.get_json()["error"]["code"] == "start_order_unconfirmed"
    confirmed = teacher.client.put(
        "/api/context/module-starts",
        json={"B833": "2027-01-31", "confirm_order": True},
        headers=teacher.bearer,
    )
    assert confirmed.status_code == 200
    assert _cohort(teacher)["B833"] == "2027-01-31"
