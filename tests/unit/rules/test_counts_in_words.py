"""Counts of courses in the plan's notes are words from one to nine, as "one course at a
time" and "up to three courses at the same time" are: never "7 courses at a time"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lti_tool.resources import resource_dir
from lti_tool.rules import Qualification, evaluate, load_qualification
from lti_tool.rules.dates import in_words

PGCERT = resource_dir("config") / "qualifications" / "pgcert-clinical-leadership.toml"


def _at_a_time(tmp_path: Path, width: int) -> Qualification:
    """The certificate with ``max_parallel_courses = width``."""
    changed = tmp_path / "wide.toml"
    changed.write_text(
        PGCERT.read_text().replace("max_parallel_courses = 3", f"max_parallel_courses = {width}")
    )
    return load_qualification(changed)


def test_a_missed_deadline_says_seven_courses_in_words(tmp_path: Path) -> None:
    qualification = _at_a_time(tmp_path, 7)
    # B832 started in January: its July deadline has passed with none of its courses done.
    checklist = evaluate(qualification, [], {"B832": date(2026, 1, 5)}, date(2026, 12, 7))
    said = " | ".join(checklist.plan.notes)
    assert "even studying seven courses at a time" in said, said
    assert "7 courses" not in said


@pytest.mark.parametrize(
    ("count", "words"), [(1, "one"), (4, "four"), (7, "seven"), (9, "nine"), (10, "10")]
)
def test_counts_are_words_from_one_to_nine(count: int, words: str) -> None:
    assert in_words(count) == words
