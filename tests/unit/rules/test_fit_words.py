"""The loader's refusal of time rules that cannot be met counts a module's courses in words
that agree: "1 course", never "1 courses"."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.rules import RulesError, load_qualification

WOUND_CARE = Path(__file__).parents[2] / "fixtures" / "qualifications" / "wound-care.toml"


def test_a_one_course_module_that_cannot_fit(tmp_path: Path) -> None:
    # One month from a start, courses of at least 6 weeks: WC3 (one course from each of its
    # two groups) needs 6 weeks at two at a time; a month leaves about 4.
    text = WOUND_CARE.read_text().replace("deadline_months = 4", "deadline_months = 1")
    text = text.replace("course_weeks_min = 2", "course_weeks_min = 6")
    text = text.replace("course_weeks_max = 4", "course_weeks_max = 8")
    text = text.replace("course_weeks_nominal = 3", "course_weeks_nominal = 7")
    # WC1 down to its one course W01.
    text = text.replace('compulsory = ["W01", "W02"]', 'compulsory = ["W01"]')
    text = text.replace('    { code = "W02", title = "Wound assessment tools", hours = 20 },\n', "")
    text = text.replace("cpd_hours = 30", "cpd_hours = 10")
    path = tmp_path / "short.toml"
    path.write_text(text)
    with pytest.raises(RulesError) as caught:
        load_qualification(path)
    assert "WC1 (1 course, 2 at a time" in caught.value.reason, caught.value.reason
    assert "1 courses" not in caught.value.reason
