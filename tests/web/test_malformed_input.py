"""Bad input gets a 4xx with a plain message, never a 500: nested JSON, list bodies and fields,
NUL characters (PostgreSQL refuses them in text), oversized CSV cells, CSV files that are not
UTF-8, repeated columns, non-text reasons, non-boolean ``released``, dates out of range."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from lti_tool.lti import claims as c
from lti_tool.persistence.models import (
    AssessmentResultRow,
    AuditEntry,
    CohortModuleStart,
    User,
)
from tests.support.grade_sync import make_eligible
from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, csrf_token, open_tool

RESULT = "/api/context/results/B832/1001"
STORAGE = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
JSON_APIS = [
    ("PUT", RESULT),
    ("PUT", "/api/context/module-starts"),
    ("PUT", "/api/context/module-starts/1001"),
    ("PUT", "/api/context/qualification"),
    ("PUT", "/api/context/completions/1001/GB080"),
    ("POST", "/api/context/results/release"),
]


def _teacher(launcher: Launcher) -> Opened:
    open_tool(launcher, "student1")
    return open_tool(launcher, "teacher1")


def _send(teacher: Opened, method: str, path: str, raw: str | bytes) -> TestResponse:
    return teacher.client.open(
        path,
        method=method,
        data=raw,
        headers={**teacher.bearer, "Content-Type": "application/json"},
    )


def _refused(response: TestResponse, status: int, code: str, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert error["correlation_id"] == response.headers["X-Request-ID"]
    for word in words:
        assert word in error["message"], error["message"]
    return dict(error)


def _count(launcher: Launcher, model: Any) -> int:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- JSON bodies --------------------------------------------------------------------------


@SQLITE
@pytest.mark.parametrize(("method", "path"), JSON_APIS)
def test_deeply_nested_json_is_refused_on_every_json_api(
    launcher: Launcher, method: str, path: str
) -> None:
    teacher = _teacher(launcher)
    bomb = '{"score": ' + "[" * 100_000 + "]" * 100_000 + "}"  # RecursionError in json.loads
    _refused(_send(teacher, method, path, bomb), 422, "too_deep", "nested")
    nested = '{"comment": ' + "[" * 50 + "]" * 50 + "}"  # parses, but no API nests so deep
    _refused(_send(teacher, method, path, nested), 422, "too_deep")


@SQLITE
@pytest.mark.parametrize(("method", "path"), JSON_APIS)
@pytest.mark.parametrize("body", ["[1, 2]", '"B832"', "42", "null"])
def test_a_body_that_is_not_an_object_is_refused_on_every_json_api(
    launcher: Launcher, method: str, path: str, body: str
) -> None:
    teacher = _teacher(launcher)
    response = _send(teacher, method, path, body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "bad_body"


@SQLITE
@pytest.mark.parametrize("body", [{"module": ["B832"]}, {"sub": {"$ne": ""}}, {"module": 832}])
def test_release_refuses_fields_that_are_not_text(launcher: Launcher, body: Any) -> None:
    teacher = _teacher(launcher)
    make_eligible(launcher, "1001")
    held = {"score": 60, "outcome": "pass", "released": False}
    assert teacher.client.put(RESULT, json=held, headers=teacher.bearer).status_code == 200
    response = teacher.client.post(
        "/api/context/results/release", json=body, headers=teacher.bearer
    )
    _refused(response, 422, "bad_field", "must be text")
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(AssessmentResultRow.released)) is False


@SQLITE
def test_release_without_a_body_still_releases_everything(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    make_eligible(launcher, "1001")
    held = {"score": 60, "outcome": "pass", "released": False}
    assert teacher.client.put(RESULT, json=held, headers=teacher.bearer).status_code == 200
    response = teacher.client.post("/api/context/results/release", headers=teacher.bearer)
    assert response.status_code == 200 and response.get_json() == {"released": 1}


@SQLITE
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"score": 60, "outcome": "pass", "released": "maybe"}, "bad_boolean"),
        ({"score": 60, "outcome": "pass", "released": 1}, "bad_boolean"),
        ({"score": 60, "outcome": "pass", "comment": ["a", "b"]}, "bad_text"),
        ({"score": 60, "outcome": "pass", "override_reason": {"why": "x"}}, "bad_text"),
        ({"score": 60, "outcome": "pass", "override_reason": 5}, "bad_text"),
    ],
    ids=["released word", "released number", "list comment", "object reason", "number reason"],
)
def test_result_fields_of_the_wrong_type_are_refused(
    launcher: Launcher, body: dict[str, Any], code: str
) -> None:
    teacher = _teacher(launcher)
    make_eligible(launcher, "1001")
    _refused(teacher.client.put(RESULT, json=body, headers=teacher.bearer), 422, code)
    assert _count(launcher, AssessmentResultRow) == 0


@SQLITE
def test_reasons_that_are_not_text_are_refused(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    start = {"B832": "2027-05-30", "reason": ["late", "registration"]}
    response = teacher.client.put(
        "/api/context/module-starts/1001", json=start, headers=teacher.bearer
    )
    _refused(response, 422, "bad_reason", "reason must be text")
    completion = {"status": "completed", "completed_at": "2026-06-01", "reason": 7}
    response = teacher.client.put(
        "/api/context/completions/1001/GB080", json=completion, headers=teacher.bearer
    )
    _refused(response, 422, "bad_reason", "reason must be text")
    assert _count(launcher, AuditEntry) == 0


@SQLITE
@pytest.mark.parametrize("date", ["9999-12-31", "0207-05-30", "1899-01-01", "2100-01-01"])
def test_start_dates_outside_a_sane_range_are_refused(launcher: Launcher, date: str) -> None:
    teacher = _teacher(launcher)
    response = teacher.client.put(
        "/api/context/module-starts", json={"B832": date}, headers=teacher.bearer
    )
    _refused(response, 422, "date_out_of_range", date, "check the year")
    assert _count(launcher, CohortModuleStart) == 0
    # and a launch's preset cannot slip one in either
    open_tool(launcher, "student2", changes={c.CUSTOM: {"b832_start": date}})
    overview = teacher.client.get("/api/context/module-starts", headers=teacher.bearer)
    assert overview.status_code == 200
    assert _count(launcher, CohortModuleStart) == 0


# --- NUL characters (PostgreSQL refuses them; checked before they get there) --------------


@STORAGE
def test_nul_characters_in_json_fields_are_refused(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    make_eligible(launcher, "1001")
    for body in (
        {"score": 60, "outcome": "pass", "comment": "good\x00work"},
        {"score": 60, "outcome": "pass", "override_reason": "APL\x00"},
        {"score": 60, "outcome": "pass", "comment\x00": "x"},
    ):
        response = teacher.client.put(RESULT, json=body, headers=teacher.bearer)
        _refused(response, 422, "nul_character", "NUL character")
    start = {"B832": "2027-05-30", "reason": "late\x00"}
    response = teacher.client.put(
        "/api/context/module-starts/1001", json=start, headers=teacher.bearer
    )
    _refused(response, 422, "nul_character")
    assert _count(launcher, AssessmentResultRow) == 0
    assert _count(launcher, AuditEntry) == 0


@STORAGE
def test_nul_characters_in_paths_queries_and_forms_are_refused(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    body = {"score": 60, "outcome": "pass", "override_reason": "x"}
    response = teacher.client.put(
        "/api/context/results/B832/10%0001", json=body, headers=teacher.bearer
    )
    _refused(response, 422, "nul_character", "sub contains")
    response = teacher.client.get("/api/context/students?group=%00", headers=teacher.bearer)
    _refused(response, 422, "nul_character", "group contains")
    form = {
        "csrf_token": csrf_token(teacher.page),
        "module": "B832",
        "score": "60",
        "outcome": "pass",
        "comment": "good\x00work",
        "override_reason": "x",
    }
    response = teacher.client.post("/staff/class/results/1001", data=form)
    assert response.status_code == 422
    assert "NUL character" in response.get_data(as_text=True)
    assert _count(launcher, AssessmentResultRow) == 0


@STORAGE
@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Ann\x00Other"},
        {c.CONTEXT: {"id": "course\x00-1", "title": "Course", "label": "C1"}},
        {c.CUSTOM: {"b832_start": "2027-05-30\x00"}},
    ],
    ids=["name", "context id", "custom parameter"],
)
def test_a_launch_carrying_a_nul_character_is_refused(
    launcher: Launcher, changes: dict[str, Any]
) -> None:
    users = _count(launcher, User)
    response = launcher.launch(launcher.app.test_client(), "student1", changes=changes)
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert "NUL character" in response.get_data(as_text=True)
    assert _count(launcher, User) == users


@SQLITE
def test_an_id_token_nested_past_reason_is_refused(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client, "student1")

    def part(value: str) -> str:
        return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")

    header = part(json.dumps({"alg": "RS256", "kid": "k", "typ": "JWT"}))
    token = f"{header}.{part('[' * 30_000 + ']' * 30_000)}.c2ln"
    response = launcher.post_launch(client, token, login.state)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:500]


# --- CSV files ------------------------------------------------------------------------------


def _import(teacher: Opened, raw: bytes) -> TestResponse:
    return teacher.client.post(
        "/api/context/results/import",
        data=raw,
        headers={**teacher.bearer, "Content-Type": "text/csv"},
    )


def _comments(launcher: Launcher) -> list[str | None]:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        return list(session.scalars(select(AssessmentResultRow.comment)))


HEADER = "student,module,score,outcome,comment,override_reason\n"


@STORAGE
def test_a_csv_cell_over_128_kb_is_refused(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    raw = (HEADER + f"1001,B832,60,pass,{'x' * 140_000},APL\n").encode()
    _refused(_import(teacher, raw), 422, "csv_invalid", "Line 2", "longer than 128 KB")
    assert _comments(launcher) == []


@SQLITE
def test_a_csv_file_that_is_not_utf8_is_refused_not_garbled(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    cp1252 = (HEADER + "1001,B832,60,pass,Zoë did well,APL\n").encode("cp1252")
    _refused(_import(teacher, cp1252), 422, "csv_invalid", "Line 2", "not saved as UTF-8")
    utf16 = (HEADER + "1001,B832,60,pass,Zoë,APL\n").encode("utf-16")
    _refused(_import(teacher, utf16), 422, "csv_invalid", "UTF-8")
    assert _comments(launcher) == []
    with_bom = (HEADER + "1001,B832,60,pass,Zoë did well,APL\n").encode("utf-8-sig")
    assert _import(teacher, with_bom).get_json() == {"imported": 1}
    assert _comments(launcher) == ["Zoë did well"]


@STORAGE
def test_a_csv_file_with_nul_bytes_is_refused(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    raw = (HEADER + "1001,B832,60,pass,good\x00work,APL\n").encode()
    _refused(_import(teacher, raw), 422, "csv_invalid", "Line 2", "NUL")
    assert _comments(launcher) == []


@SQLITE
def test_a_csv_file_with_a_repeated_column_is_refused(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    raw = b"student,module,score,outcome,Score,override_reason\n1001,B832,60,pass,6,APL\n"
    _refused(_import(teacher, raw), 422, "csv_invalid", "Line 1", "score", "more than once")
    assert _comments(launcher) == []


@SQLITE
@pytest.mark.parametrize(("word", "released"), [("yes", True), ("FALSE", False), ("0", False)])
def test_csv_released_takes_yes_or_no_words(launcher: Launcher, word: str, released: bool) -> None:
    teacher = _teacher(launcher)
    raw = f"student,module,score,outcome,released,override_reason\n1001,B832,60,pass,{word},A\n"
    assert _import(teacher, raw.encode()).get_json() == {"imported": 1}
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(AssessmentResultRow.released)) is released


@SQLITE
def test_csv_released_that_is_not_a_boolean_is_refused(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    raw = b"student,module,score,outcome,released,override_reason\n1001,B832,60,pass,later,A\n"
    _refused(_import(teacher, raw), 422, "csv_invalid", "Line 2", "Released must be yes or no")
    assert _comments(launcher) == []


def _form_import(teacher: Opened, path: str, raw: bytes, **fields: str) -> str:
    response = teacher.client.post(
        path,
        data={
            "csrf_token": csrf_token(teacher.page),
            "file": (io.BytesIO(raw), "upload.csv"),
            **fields,
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


@SQLITE
@pytest.mark.parametrize(
    ("path", "raw", "fields"),
    [
        ("/staff/class/results/import", (HEADER + "1001,B832,60,pass,Zoë,A\n"), {}),
        ("/staff/module-starts/import", "student,module,start_date\n*,B832,2027-05-30 ë\n", {}),
        (
            "/staff/completions/import",
            "student,course_code,status,completed_at\n1001,GB080,completed,2026-06-01 ë\n",
            {"reason": "records from the old system"},
        ),
    ],
    ids=["results", "module starts", "completions"],
)
def test_the_three_import_forms_refuse_a_file_not_in_utf8(
    launcher: Launcher, path: str, raw: str, fields: dict[str, str]
) -> None:
    teacher = _teacher(launcher)
    page = _form_import(teacher, path, raw.encode("cp1252"), **fields)
    assert "Nothing was imported." in page and "not saved as UTF-8" in page
    assert _count(launcher, AuditEntry) == 0


@SQLITE
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("student,module,start_date\n*,B832,0207-05-30\n", "Line 2: Start date: 0207-05-30"),
        ("student,module,start_date,Module\n*,B832,2027-05-30,B833\n", "more than once"),
    ],
    ids=["year typo", "repeated column"],
)
def test_the_start_date_import_checks_dates_and_columns(
    launcher: Launcher, text: str, message: str
) -> None:
    teacher = _teacher(launcher)
    page = _form_import(teacher, "/staff/module-starts/import", text.encode())
    assert "Nothing was imported." in page and message in page
    assert _count(launcher, CohortModuleStart) == 0


@STORAGE
def test_nul_characters_from_the_platforms_roster_are_not_stored(
    launcher: Launcher, platform: Any
) -> None:
    teacher = _teacher(launcher)
    platform.roster[0]["name"] = "Ann\x00 Other"
    platform.roster.append({**platform.roster[1], "user_id": "77\x0077", "name": "Nobody"})
    response = teacher.client.post("/api/context/roster/refresh", headers=teacher.bearer)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        names = set(session.scalars(select(User.name)))
        subs = set(session.scalars(select(User.sub)))
    assert "Ann Other" in names and not any("\x00" in (n or "") for n in names)
    assert not any("\x00" in s for s in subs)
