"""The class view's columns, filters, sort orders and CSV lines come from the qualification:
the real certificate keeps its old keys, and the made-up diploma gets its own."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.grading.class_columns import CSV_HEADER, ClassColumns, Column, class_columns
from tests.unit.rules.support import made_up, pgcert


def module(
    code: str,
    hours: int = 0,
    required: int = 250,
    *,
    complete: bool = False,
    at_risk: bool = False,
    overdue: bool = False,
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One module of a class row, as ``grading.class_view.class_rows`` builds it."""
    return {
        "code": code,
        "hours_completed": hours,
        "hours_required": required,
        "cpd_complete": complete,
        "at_risk": at_risk,
        "overdue": overdue,
        "result": result,
    }


def result(outcome: str = "pass", sync: str = "pending", score: float = 70) -> dict[str, Any]:
    return {
        "score": score,
        "max": 100,
        "outcome": outcome,
        "comment": "",
        "released": sync != "held",
        "sync": {"status": sync, "synced_at": None, "error": None},
    }


def row(sub: str, name: str | None, *modules: dict[str, Any], launched: bool = True) -> Any:
    return {
        "sub": sub,
        "name": name,
        "email": f"{sub}@example.org",
        "status": "active",
        "launched": launched,
        "modules": list(modules),
        "groups": [],
    }


def shown(layout: ClassColumns, rows: list[dict[str, Any]], asked: str) -> list[str]:
    name = layout.filter_name(asked)
    return [r["sub"] for r in rows if layout.keep(r, name)]


def test_the_certificate_has_a_column_per_module_with_its_title_and_hours() -> None:
    layout = class_columns(pgcert())
    assert layout.columns == (
        Column("B832", "Leading health service delivery and improvement", 250),
        Column("B833", "Leading healthcare innovation", 250),
    )
    assert layout.columns[0].label == "B832 Leading health service delivery and improvement"
    assert (layout.qualification_code, layout.qualification_title) == (
        "PGCERT-CL",
        "Postgraduate Certificate in Clinical Leadership",
    )


def test_the_certificate_keeps_the_filter_and_sort_keys_of_existing_links() -> None:
    layout = class_columns(pgcert())
    for key in (
        "all",
        "at_risk",
        "eligible_no_result_B832",
        "eligible_no_result_B833",
        "sync_failed",
        "not_launched",
    ):
        assert layout.filter_name(key) == key
    assert list(layout.sorts) == ["name", "b832_hours", "b833_hours"]
    assert layout.filters["eligible_no_result_B833"] == (
        "Ready for B833 Leading healthcare innovation, no result yet"
    )
    assert layout.filters["missing_B832"] == (
        "Missing a B832 Leading health service delivery and improvement CPD requirement"
    )
    assert layout.sorts["b832_hours"] == (
        "Hours completed for B832 Leading health service delivery and improvement"
    )


def test_the_made_up_diploma_gets_its_own_columns_filters_and_sorts() -> None:
    layout = class_columns(made_up())
    assert layout.columns == (
        Column("X100", "Unit testing", 60),
        Column("X200", "Integration testing", 30),
    )
    assert layout.filters["eligible_no_result_X200"] == (
        "Ready for X200 Integration testing, no result yet"
    )
    assert layout.filters["missing_X100"] == "Missing a X100 Unit testing CPD requirement"
    assert list(layout.sorts) == ["name", "x100_hours", "x200_hours"]
    words = " ".join([*layout.filters, *layout.filters.values(), *layout.sorts])
    words += " ".join(layout.sorts.values())
    assert "B832" not in words and "B833" not in words and "b832" not in words


@pytest.mark.parametrize("asked", [None, "", "nope", "eligible_no_result_B832", "b832_hours"])
def test_a_value_this_qualification_does_not_offer_shows_everyone_by_name(
    asked: str | None,
) -> None:
    layout = class_columns(made_up())
    assert layout.filter_name(asked) == "all"
    assert layout.sort_name(asked) == "name"
    rows = [row("1", "Ann"), row("2", "Bo", launched=False)]
    assert shown(layout, rows, asked or "") == ["1", "2"]


def test_filters_pick_students_by_their_modules_and_results() -> None:
    layout = class_columns(made_up())
    rows = [
        # X100 ready without a result; X200 missing.
        row("ready", "Ready", module("X100", 60, complete=True), module("X200", 10)),
        # Both ready; X100 passed and sent, X200 failed and held.
        row(
            "graded",
            "Graded",
            module("X100", 60, complete=True, result=result("pass", "delivered")),
            module("X200", 30, complete=True, result=result("fail", "held")),
        ),
        # Nothing done, at risk in X200, referred in X100 (on an override) and a failed sync.
        row(
            "late",
            "Late",
            module("X100", 0, result=result("referred", "failed")),
            module("X200", 0, at_risk=True),
            launched=False,
        ),
        row(
            "overdue",
            "Overdue",
            module("X100", 20, overdue=True),
            module("X200", 30, complete=True),
        ),
    ]
    assert shown(layout, rows, "all") == ["ready", "graded", "late", "overdue"]
    assert shown(layout, rows, "eligible_no_result_X100") == ["ready"]
    assert shown(layout, rows, "eligible_no_result_X200") == ["overdue"]
    assert shown(layout, rows, "missing_X100") == ["late", "overdue"]
    assert shown(layout, rows, "missing_X200") == ["ready", "late"]
    assert shown(layout, rows, "at_risk") == ["late", "overdue"]
    assert shown(layout, rows, "result_pass") == ["graded"]
    assert shown(layout, rows, "result_fail") == ["graded"]
    assert shown(layout, rows, "result_referred") == ["late"]
    assert shown(layout, rows, "results_held") == ["graded"]
    assert shown(layout, rows, "sync_failed") == ["late"]
    assert shown(layout, rows, "not_launched") == ["late"]


def test_sorts_by_family_name_or_by_a_modules_hours_most_first() -> None:
    layout = class_columns(pgcert())
    rows = [
        row("3", "Zoë Adams", module("B832", 100), module("B833", 0)),
        row("1", "Ann Young", module("B832", 25), module("B833", 75)),
        row("2", "Bo Young", module("B832", 100), module("B833", 50)),
        row("4", None, module("B832", 0), module("B833", 0)),
    ]

    def order(asked: str) -> list[str]:
        return [r["sub"] for r in sorted(rows, key=layout.sort_key(layout.sort_name(asked)))]

    assert order("name") == ["4", "3", "1", "2"]
    assert order("b832_hours") == ["2", "3", "1", "4"]
    # Ties by the whole name, a missing name first.
    assert order("b833_hours") == ["1", "2", "4", "3"]
    assert order("x100_hours") == order("name")


def test_csv_has_one_line_per_student_and_module_in_the_qualifications_order() -> None:
    layout = class_columns(made_up())
    student = row(
        "1001",
        None,
        module("X200", 30, 30, complete=True, result=result("pass", "delivered", 81.5)),
        module("X100", 20, 60),
    )
    student["groups"] = ["Tutor group A", "Tutor group B"]
    assert layout.csv_header() == list(CSV_HEADER)
    assert CSV_HEADER[:8] == (
        "student",
        "module",
        "score",
        "max",
        "outcome",
        "comment",
        "released",
        "override_reason",
    )  # the results import's columns, so an export imports back
    who = ["", "1001@example.org"]
    groups = "Tutor group A; Tutor group B"
    assert list(layout.csv_rows([student])) == [
        ["1001", "X100", "", "", "", "", "", "", *who, groups],
        ["1001", "X200", "81.5", "100", "pass", "", "yes", "", *who, groups],
    ]
