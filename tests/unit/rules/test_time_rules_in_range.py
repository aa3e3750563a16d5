"""Time rules the calendar can hold: a deadline of more than ten years, or a course of more
than ten years, is a typo the loader refuses in a sentence. Before, a huge deadline_months
stopped the loader with a bare ValueError (year out of range) and a huge course length loaded,
then broke every student's checklist (OverflowError while planning); so did a huge
at_risk_weeks (OverflowError while flagging courses at risk, a 500 on the student's page)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lti_tool.rules import RulesError, evaluate, load_qualification

WOUND_CARE = Path(__file__).parents[2] / "fixtures" / "qualifications" / "wound-care.toml"


def written(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "typo.toml"
    text = WOUND_CARE.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("deadline_months = 4", "deadline_months = 100000", "time_rules.deadline_months"),
        ("deadline_months = 4", "deadline_months = 121", "time_rules.deadline_months"),
        ("course_weeks_max = 4", "course_weeks_max = 2000000", "time_rules.course_weeks_max"),
        ("at_risk_weeks = 2", f"at_risk_weeks = {10**12}", "time_rules.at_risk_weeks"),
        ("at_risk_weeks = 2", "at_risk_weeks = 521", "time_rules.at_risk_weeks"),
    ],
    ids=[
        *("months-beyond-the-calendar", "months-over-ten-years", "weeks-over-ten-years"),
        *("at-risk-beyond-the-calendar", "at-risk-over-ten-years"),
    ],
)
def test_a_rule_longer_than_ten_years_is_refused(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    with pytest.raises(RulesError) as caught:
        load_qualification(written(tmp_path, old, new))
    assert caught.value.key == key
    assert "at most" in caught.value.reason


def test_ten_years_is_allowed(tmp_path: Path) -> None:
    path = written(tmp_path, "deadline_months = 4", "deadline_months = 120")
    qualification = load_qualification(path)
    checklist = evaluate(qualification, [], {"WC1": date(2099, 12, 31)}, date(2099, 12, 31))
    assert checklist.module("WC1").deadline == date(2109, 12, 31)


def test_a_ten_year_warning_is_allowed(tmp_path: Path) -> None:
    path = written(tmp_path, "at_risk_weeks = 2", "at_risk_weeks = 520")
    qualification = load_qualification(path)
    checklist = evaluate(qualification, [], {"WC1": date(2027, 2, 1)}, date(2027, 2, 1))
    assert all(r.at_risk for r in checklist.module("WC1").requirements)
