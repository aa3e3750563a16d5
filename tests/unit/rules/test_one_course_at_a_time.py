"""A qualification that asks for one course at a time (``max_parallel_courses = 1``) is said
in the singular: "one course at a time", never "1 courses at a time"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from lti_tool.rules import (
    Completion,
    CompletionStatus,
    Qualification,
    evaluate,
    load_qualification,
)

WOUND_CARE = Path(__file__).parents[2] / "fixtures" / "qualifications" / "wound-care.toml"


def _one_at_a_time(tmp_path: Path) -> Qualification:
    """The wound-care fixture with ``max_parallel_courses = 1``."""
    single = tmp_path / "single.toml"
    text = WOUND_CARE.read_text()
    single.write_text(text.replace("max_parallel_courses = 2", "max_parallel_courses = 1"))
    return load_qualification(single)


def test_a_missed_deadline_at_one_course_at_a_time(tmp_path: Path) -> None:
    qualification = _one_at_a_time(tmp_path)
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
    qualification = _one_at_a_time(tmp_path)
    going = Completion("W01", CompletionStatus.IN_PROGRESS, date(2026, 11, 1), None, "test")
    checklist = evaluate(qualification, [going], {"WC1": date(2026, 9, 6)}, date(2026, 12, 7))
    wc1 = checklist.plan.module("WC1")
    assert wc1.deadline == date(2027, 1, 6)
    finishes = {entry.code: entry.finish for entry in wc1.entries}
    assert finishes == {"W01": date(2026, 12, 21), "W02": date(2027, 1, 4)}, finishes
    assert wc1.feasible, wc1.notes


def test_courses_already_begun_together_are_not_called_up_to_1_at_a_time(tmp_path: Path) -> None:
    """A student who began two courses of a module at once, under one course at a time: the
    plan starts no two together, so no note tells them to "study up to 1 courses at the same
    time", even where WC2's courses must be shortened to meet its deadline."""
    qualification = _one_at_a_time(tmp_path)
    going = [
        Completion(code, CompletionStatus.IN_PROGRESS, date(2026, 11, day), None, "test")
        for code, day in (("W01", 20), ("W02", 25), ("W03", 25), ("W04", 25))
    ]
    starts = {"WC1": date(2026, 9, 6), "WC2": date(2026, 9, 6)}
    checklist = evaluate(qualification, going, starts, date(2026, 12, 7))
    said = " | ".join(checklist.plan.notes)
    assert "1 courses" not in said, said
    assert "To finish WC2 by the 6 January 2027 deadline you need to finish each course" in said


def test_the_certificate_never_says_up_to_1_at_the_same_time() -> None:
    """The certificate allows three at once, but one at a time meets B832's deadline here:
    the two courses already begun together do not make the note "up to 1 courses"."""
    certificate = (
        Path(__file__).parents[3] / "config/qualifications/pgcert-clinical-leadership.toml"
    )
    qualification = load_qualification(certificate)
    done = [
        Completion(code, CompletionStatus.COMPLETED, date(2026, 11, 1), date(2026, 11, 20), "t")
        for code in ("GB080", "GB081", "GB082", "GB083", "GB084")
    ]
    going = [
        Completion("GB085", CompletionStatus.IN_PROGRESS, date(2026, 11, 20), None, "t"),
        Completion("GB086", CompletionStatus.IN_PROGRESS, date(2026, 11, 25), None, "t"),
    ]
    checklist = evaluate(
        qualification, done + going, {"B832": date(2026, 10, 31)}, date(2026, 12, 7)
    )
    said = " | ".join(checklist.plan.notes)
    assert "up to 1" not in said, said
    assert "Your B832 plan takes one course at a time and finishes on 3 February 2027" in said
