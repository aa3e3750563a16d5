"""A CPD course the LMS cannot track (a Moodle course without completion criteria): its
progress is unknown, not missing. It is never planned or suggested as a course to start,
never counted, never called overdue, and the checklist says the module is not fully known."""

from __future__ import annotations

import json
from datetime import date

import pytest

from lti_tool.rules import Checklist, Completion, CompletionStatus, evaluate
from tests.unit.rules.support import B832_CODES, B833_COMPULSORY, START, done, pgcert

TODAY = date(2027, 6, 15)
STARTS = {"B832": START, "B833": date(2027, 10, 31)}


def untrackable(code: str) -> Completion:
    return Completion(code, CompletionStatus.UNTRACKABLE, source="moodle")


def run(completions: list[Completion], today: date = TODAY) -> Checklist:
    return evaluate(pgcert(), completions, STARTS, today)


def test_an_untrackable_course_is_never_a_start_step_nor_planned() -> None:
    # Everything in B832 done but GB080 and GB085; GB085's Moodle course has no criteria.
    completions = [done(c) for c in B832_CODES if c not in {"GB080", "GB085"}]
    checklist = run([*completions, untrackable("GB085")])

    planned = [entry.code for entry in checklist.plan.entries]
    assert "GB085" not in planned
    assert "GB080" in planned  # an ordinary not-started course is still planned
    assert not any("GB085" in step for step in checklist.next_steps)
    assert any(step.startswith("Start GB080") for step in checklist.next_steps)


def test_without_untrackable_the_same_course_would_be_a_start_step() -> None:
    # The control: the same data with GB085 simply not started does plan it.
    completions = [done(c) for c in B832_CODES if c not in {"GB080", "GB085"}]
    checklist = run(completions)

    assert "GB085" in [entry.code for entry in checklist.plan.entries]
    assert checklist.module("B832").fully_known


def test_an_untrackable_course_is_not_counted_and_the_module_is_not_fully_known() -> None:
    completions = [done(c) for c in B832_CODES if c != "GB085"]
    checklist = run([*completions, untrackable("GB085")])
    module = checklist.module("B832")
    gb085 = next(r for r in module.requirements if r.code == "GB085")

    assert gb085.status is CompletionStatus.UNTRACKABLE
    assert not gb085.counts
    assert module.hours_completed == module.hours_required - gb085.hours
    assert not module.cpd_complete  # not complete: unknown
    assert module.unknown_courses == ("GB085",) and not module.fully_known
    assert not any("eligible" in step for step in checklist.next_steps)
    assert any(
        "GB085 can't be tracked yet" in note and "tutor has been told" in note and "B832" in note
        for note in checklist.notes
    )


def test_an_untrackable_course_is_never_overdue_or_at_risk() -> None:
    after_deadline = date(2027, 12, 15)
    checklist = run([untrackable("GB085")], today=after_deadline)
    gb085 = next(r for r in checklist.module("B832").requirements if r.code == "GB085")
    gb084 = next(r for r in checklist.module("B832").requirements if r.code == "GB084")

    assert gb084.overdue  # not started and past the deadline: overdue
    assert not gb085.overdue and not gb085.at_risk
    assert gb085.deadline == date(2027, 11, 30)  # the deadline still applies to the student
    overdue_step = checklist.next_steps[0]
    assert "GB084" in overdue_step and "GB085" not in overdue_step


def test_an_untrackable_optional_course_leaves_room_for_the_others() -> None:
    b833 = [done(c) for c in B833_COMPULSORY] + [done("GB090")]
    checklist = run([*b833, untrackable("GB091")])

    planned = [e.code for e in checklist.plan.entries if e.module == "B833"]
    assert planned == ["GB092"]
    assert checklist.module("B833").unknown_courses == ("GB091",)


def test_once_the_group_is_made_up_an_untrackable_optional_course_does_not_matter() -> None:
    b833 = [done(c) for c in B833_COMPULSORY] + [done("GB090"), done("GB092")]
    checklist = run([*b833, untrackable("GB091")])

    assert checklist.module("B833").cpd_complete
    assert checklist.module("B833").fully_known
    assert not any("B833" in note for note in checklist.notes)


@pytest.mark.parametrize(
    ("other", "wins"),
    [
        (CompletionStatus.COMPLETED, CompletionStatus.COMPLETED),
        (CompletionStatus.IN_PROGRESS, CompletionStatus.IN_PROGRESS),
        (CompletionStatus.NOT_STARTED, CompletionStatus.NOT_STARTED),
    ],
)
def test_another_sources_real_answer_beats_untrackable(
    other: CompletionStatus, wins: CompletionStatus
) -> None:
    answer = Completion(
        "GB085",
        other,
        completed_at=date(2027, 1, 10) if other is CompletionStatus.COMPLETED else None,
        source="ags",
    )
    checklist = run([untrackable("GB085"), answer])

    gb085 = next(r for r in checklist.module("B832").requirements if r.code == "GB085")
    assert gb085.status is wins


def test_the_json_carries_the_status_and_what_is_not_known() -> None:
    data = json.loads(json.dumps(run([untrackable("GB085")]).to_dict()))
    module = data["modules"][0]
    gb085 = next(r for r in module["requirements"] if r["code"] == "GB085")

    assert gb085["status"] == "untrackable"
    assert module["fully_known"] is False
    assert module["unknown_courses"] == ["GB085"]
    assert data["modules"][1]["fully_known"] is True
