"""A qualification that asks for one course at a time (``max_parallel_courses = 1``) is said
in the singular: "one course at a time", never "1 courses at a time"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from lti_tool.rules import Completion, CompletionStatus, evaluate, load_qualification

WOUND_CARE = Path(__file__).parents[2] / "fixtures" / "qualifications" / "wound-care.toml"


def test_a_missed_deadline_at_one_course_at_a_time(tmp_path: Path) -> None:
    single = tmp_path / "single.toml"
    text = WOUND_CARE.read_text()
    single.write_text(text.replace("max_parallel_courses = 2", "max_parallel_courses = 1"))
    qualification = load_qualification(single)
    going = Completion("W01", CompletionStatus.IN_PROGRESS, date(2026, 11, 1), None, "test")
    # WC1 started in June: its October deadline has passed.
    checklist = evaluate(qualification, [going], {"WC1": date(2026, 6, 15)}, date(2026, 12, 7))
    said = " | ".join(checklist.plan.notes)
    assert "even studying one course at a time at the shortest length (2 weeks)" in said, said
    assert "1 courses" not in said


def test_one_course_at_a_time_is_shortened_to_meet_a_deadline(tmp_path: Path) -> None:
    """At one course at a time the shortest length is tried too, as the note and the
    loader's check that the rules can be met both say: W02 at 3 weeks would finish on
    11 January, after WC1's 6 January deadline; at 2 weeks it finishes on 4 January."""
    single = tmp_path / "single.toml"
    text = WOUND_CARE.read_text()
    single.write_text(text.replace("max_parallel_courses = 2", "max_parallel_courses = 1"))
    qualification = load_qualification(single)
    going = Completion("W01", CompletionStatus.IN_PROGRESS, date(2026, 11, 1), None, "test")
    checklist = evaluate(qualification, [going], {"WC1": date(2026, 9, 6)}, date(2026, 12, 7))
    wc1 = checklist.plan.module("WC1")
    assert wc1.deadline == date(2027, 1, 6)
    finishes = {entry.code: entry.finish for entry in wc1.entries}
    assert finishes == {"W01": date(2026, 12, 21), "W02": date(2027, 1, 4)}, finishes
    assert wc1.feasible, wc1.notes
