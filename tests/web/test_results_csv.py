"""The class results export has the results import's columns, so a downloaded file imports
back unchanged; booleans read yes/no; unmarked lines import nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, select

from lti_tool.persistence.models import AssessmentResultRow, OutboxRow
from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, add_completions, open_tool

B832_CODES = ("GB080", "GB081", "GB082", "GB083", "GB084", "GB085", "GB086")
IMPORT_COLUMNS = [
    "student",
    "module",
    "score",
    "max",
    "outcome",
    "comment",
    "released",
    "override_reason",
]


def _results(launcher: Launcher) -> list[tuple[Any, ...]]:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        rows = session.scalars(select(AssessmentResultRow).order_by(AssessmentResultRow.id))
        return [
            (
                r.user_pk,
                r.module_code,
                r.score,
                r.max_score,
                r.outcome,
                r.comment,
                r.released,
                r.override_reason,
            )
            for r in rows
        ]


def _export(teacher: Opened) -> str:
    response = teacher.client.get("/staff/class/export.csv", headers=teacher.bearer)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _marked(launcher: Launcher) -> Opened:
    teacher = open_tool(launcher, "teacher1")
    add_completions(launcher.app, "1002", {code: ("completed", None, None) for code in B832_CODES})
    for path, body in (
        # Text a spreadsheet would take for a formula: the export makes it inert, the
        # import gives it back as it was.
        ("B832/1002", {"score": 72.5, "outcome": "pass", "comment": "- clear, = well argued"}),
        (
            "B833/1001",
            {"score": 30, "outcome": "fail", "released": False, "override_reason": "+ APL"},
        ),
    ):
        saved = teacher.client.put(
            f"/api/context/results/{path}", json=body, headers=teacher.bearer
        )
        assert saved.status_code == 200, saved.get_data(as_text=True)
    return teacher


def test_the_export_has_the_imports_columns_and_yes_no(launcher: Launcher) -> None:
    teacher = _marked(launcher)
    lines = list(csv.DictReader(io.StringIO(_export(teacher))))
    assert list(lines[0])[: len(IMPORT_COLUMNS)] == IMPORT_COLUMNS
    by_key = {(line["student"], line["module"]): line for line in lines}
    priya = by_key[("1002", "B832")]
    assert (priya["score"], priya["max"], priya["outcome"], priya["released"]) == (
        "72.5",
        "100",
        "pass",
        "yes",
    )
    sam = by_key[("1001", "B833")]
    assert (sam["released"], sam["override_reason"], sam["score"]) == ("no", "'+ APL", "30")
    assert priya["comment"] == "'- clear, = well argued"
    unmarked = by_key[("1003", "B832")]
    assert unmarked["score"] == unmarked["outcome"] == unmarked["released"] == ""
    assert not any(v in {"True", "False"} for line in lines for v in line.values())


def test_an_exported_file_imports_back_leaving_results_unchanged(launcher: Launcher) -> None:
    teacher = _marked(launcher)
    before = _results(launcher)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        outbox = session.scalar(select(func.count()).select_from(OutboxRow))
    text = _export(teacher)
    imported = teacher.client.post(
        "/api/context/results/import",
        data=text.encode(),
        headers={**teacher.bearer, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.get_data(as_text=True)
    assert _results(launcher) == before
    assert len(before) == 2
    assert before[0][5] == "- clear, = well argued" and before[1][7] == "+ APL"
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        # Nothing changed, so nothing is queued for the gradebook again.
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == outbox


def test_a_filled_in_export_records_the_new_marks_only(launcher: Launcher) -> None:
    teacher = _marked(launcher)
    lines = list(csv.reader(io.StringIO(_export(teacher))))
    header = lines[0]
    for line in lines[1:]:
        if line[0] == "1003" and line[1] == "B832":
            line[header.index("score")] = "55"
            line[header.index("outcome")] = "pass"
            line[header.index("override_reason")] = "Portfolio seen"
            line[header.index("released")] = "no"
    out = io.StringIO()
    csv.writer(out).writerows(lines)
    imported = teacher.client.post(
        "/api/context/results/import",
        data=out.getvalue().encode(),
        headers={**teacher.bearer, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.get_data(as_text=True)
    results = _results(launcher)
    assert len(results) == 3
    assert results[-1][1:] == ("B832", 55.0, 100.0, "pass", None, False, "Portfolio seen")
