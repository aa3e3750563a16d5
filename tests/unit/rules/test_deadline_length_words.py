"""The deadline is said with the qualification's own length: the wound-care certificate's
four-month rule is never called "six-month" (the clinical-leadership certificate's)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest

from lti_tool.rules import Completion, CompletionStatus, Qualification, evaluate, load_qualification
from lti_tool.rules.dates import month_rule
from tests.unit.rules.support import pgcert

WOUND_CARE = Path(__file__).parents[2] / "fixtures" / "qualifications" / "wound-care.toml"
TODAY = date(2026, 12, 7)


@cache
def wound_care() -> Qualification:
    return load_qualification(WOUND_CARE)


def everything_said(starts: dict[str, date], began: date) -> str:
    going = Completion("W01", CompletionStatus.IN_PROGRESS, began, None, source="test")
    checklist = evaluate(wound_care(), [going], starts, TODAY)
    return " | ".join([*checklist.next_steps, *checklist.plan.notes, *checklist.notes])


@pytest.mark.parametrize(
    ("months", "words"),
    [(1, "one-month"), (4, "four-month"), (6, "six-month"), (12, "twelve-month"), (18, "18-month")],
)
def test_a_rule_is_named_by_its_length(months: int, words: str) -> None:
    assert month_rule(months) == words


def test_a_module_without_a_start_has_no_four_month_deadline() -> None:
    said = everything_said({}, TODAY)
    assert "so there is no four-month deadline" in said
    assert "six-month" not in said


def test_a_course_begun_before_the_start_is_free_of_the_four_month_deadline() -> None:
    # W01 begun in January, WC1 starting in February: W01 is not bound by WC1's deadline.
    said = everything_said({"WC1": date(2026, 10, 1)}, date(2026, 9, 1))
    assert "so the four-month deadline does not apply" in said, said
    assert "six-month" not in said


def test_a_missed_deadline_names_the_next_starts_four_month_deadline() -> None:
    starts = dict.fromkeys(("WC1", "WC2", "WC3"), date(2026, 6, 15))
    said = everything_said(starts, date(2026, 11, 1))
    assert "not bound by its four-month deadline" in said, said
    assert "six-month" not in said


def test_the_certificate_keeps_its_six_month_words() -> None:
    checklist = evaluate(pgcert(), [], {}, TODAY)
    assert any("no six-month deadline" in note for note in checklist.plan.notes)
