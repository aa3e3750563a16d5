"""Two tutors import results files of one class at the same moment, the same students in
opposite orders, so each import waits for a row the other holds (PostgreSQL breaks the
deadlock by refusing one). The refused tutor reads, in words, that nothing from their file was
saved and to upload it again, on the class view (not an error page whose "Reload" would
send the file again); the other's file is saved whole, and nothing of the refused one is.
Real PostgreSQL; the interleaving is held by the test, not hoped for."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.grading import results
from lti_tool.persistence.models import AssessmentResultRow, User
from tests.support.lti import Launcher
from tests.support.outage_servers import CONDITION_SECONDS
from tests.support.pathway_web import Opened, csrf_token, open_tool, parse_html

pytestmark = [pytest.mark.postgres]
HEADER = "student,module,score,outcome,override_reason\n"


@pytest.fixture
def backend() -> str:  # the production database
    return "postgres"


def upload(teacher: Opened, text: str) -> tuple[int, str]:
    """The import form posted with ``text`` as its file: the status and the page's words."""
    response = teacher.client.post(
        "/staff/class/results/import",
        data={
            "csrf_token": csrf_token(teacher.page),
            "file": (io.BytesIO(text.encode()), "results.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    return response.status_code, parse_html(response.get_data(as_text=True)).text


def test_two_imports_at_once_save_one_file_whole_and_tell_the_other_to_try_again(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = open_tool(launcher, "teacher1"), open_tool(launcher, "teacher1")
    files = {
        "first": HEADER + "1001,B832,61,pass,Seen\n1002,B832,62,pass,Seen\n",
        "second": HEADER + "1002,B832,72,pass,Seen\n1001,B832,71,pass,Seen\n",
    }
    # Each import, having saved (and locked) its first student's result, waits until the
    # other has too: then each asks for the row the other holds.
    holding = {"first": threading.Event(), "second": threading.Event()}
    mine = threading.local()
    save = results.save_result

    def save_then_wait(session: Any, **values: Any) -> Any:
        saved = save(session, **values)
        name = getattr(mine, "name", None)
        if name is not None and not holding[name].is_set():
            holding[name].set()
            other = "second" if name == "first" else "first"
            assert holding[other].wait(CONDITION_SECONDS)
        return saved

    monkeypatch.setattr(results, "save_result", save_then_wait)
    answers: dict[str, tuple[int, str]] = {}
    errors: list[BaseException] = []

    def tutor(name: str, teacher: Opened) -> None:
        mine.name = name
        try:
            answers[name] = upload(teacher, files[name])
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    tutors = [
        threading.Thread(target=tutor, args=("first", first), daemon=True),
        threading.Thread(target=tutor, args=("second", second), daemon=True),
    ]
    for thread in tutors:
        thread.start()
    for thread in tutors:
        thread.join(CONDITION_SECONDS)
        assert not thread.is_alive()
    assert errors == []

    # Both land back on the class view (an error page's "Reload" would send the file again).
    assert {status for status, _ in answers.values()} == {200}, answers
    saved = [name for name, (_, words) in answers.items() if "Imported 2 results." in words]
    refused = [name for name, (_, words) in answers.items() if name not in saved]
    assert len(saved) == 1 and len(refused) == 1, answers
    words = answers[refused[0]][1]
    assert "Nothing from this file was saved" in words and "Upload the file again" in words

    services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        scores = dict(
            session.execute(
                select(User.sub, AssessmentResultRow.score)
                .join(User, User.id == AssessmentResultRow.user_pk)
                .where(AssessmentResultRow.module_code == "B832")
            ).all()
        )
    expected = {"first": {"1001": 61.0, "1002": 62.0}, "second": {"1001": 71.0, "1002": 72.0}}
    assert scores == expected[saved[0]]  # one file whole, nothing of the other
