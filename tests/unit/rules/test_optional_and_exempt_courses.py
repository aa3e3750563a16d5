"""What a student is told about optional courses not yet chosen and about courses begun before
the module start (outside review against the qualification's facts: "3 compulsory + 2 of 3
optional", and "a CPD course not already started before registering ... must be completed
within six months of that module's start")."""

from __future__ import annotations

from datetime import date, datetime

from lti_tool.pathway.checklist import CompletionCopy, completions_in_force
from lti_tool.rules import Completion, CompletionStatus, evaluate, plan_study
from tests.unit.rules.support import (
    B832_CODES,
    B833_COMPULSORY,
    B833_DONE,
    DEADLINE,
    START,
    done,
    going,
    pgcert,
)


def test_only_the_optional_course_still_needed_is_called_overdue() -> None:
    """One of GB090-GB092 done, one more needed: the plan's choice is due, the other is not
    called overdue, and the step says either will do."""
    completions = [done(c) for c in B832_CODES + B833_COMPULSORY] + [done("GB090")]
    checklist = evaluate(pgcert(), completions, {"B833": date(2027, 10, 31)}, date(2028, 5, 15))

    b833 = checklist.module("B833")
    assert [r.code for r in b833.requirements if r.overdue] == ["GB091"]
    assert [r.code for r in b833.requirements if r.at_risk] == []
    assert checklist.next_steps[0].startswith(
        "Speak to your tutor: GB091 User-centred service innovations is overdue (due by 30 April"
        " 2028; GB092 Innovating in primary care would do in its place)"
    )


def test_an_optional_course_begun_is_the_one_due() -> None:
    completions = [done(c) for c in B832_CODES + B833_COMPULSORY] + [
        done("GB090"),
        going("GB092", date(2027, 11, 20)),
    ]
    checklist = evaluate(pgcert(), completions, {"B833": date(2027, 10, 31)}, date(2028, 5, 15))

    assert [r.code for r in checklist.module("B833").requirements if r.overdue] == ["GB092"]
    assert "in its place" not in checklist.next_steps[0]  # GB092 is begun: it is the one


def test_the_plan_note_never_calls_a_finish_after_the_deadline_before_it() -> None:
    """GB086 was begun before the B832 start: it may run past the deadline, and the note says
    why instead of "finishes on 9 December, before the 30 November deadline"."""
    completions = [done(code) for code in B832_CODES[:6]] + [going("GB086", date(2027, 5, 1))]
    plan = plan_study(pgcert(), completions + B833_DONE, {"B832": START}, date(2027, 11, 25))

    b832 = plan.module("B832")
    assert max(e.finish for e in b832.entries) > DEADLINE
    (note,) = b832.notes
    assert "before the 30 November 2027 deadline" not in note
    assert note == (
        "You began GB086 before your B832 start, so the 30 November 2027 deadline does not apply"
        " to it"
    )


def test_a_course_begun_before_the_module_start_stays_exempt_when_staff_record_it_done() -> None:
    """Moodle says GB080 was begun on 1 May, before the 30 May start; a tutor records it done
    on 15 December without a start date: it is still exempt, so not "completed late"."""
    moodle = going("GB080", date(2027, 5, 1))
    manual = Completion("GB080", CompletionStatus.COMPLETED, None, date(2027, 12, 15), "manual")

    def stored(c: Completion) -> CompletionCopy:
        return CompletionCopy(
            c.course_code, c.status.value, c.started_at, c.completed_at, c.source, datetime.now()
        )

    for completions in ([moodle, manual], completions_in_force([stored(moodle), stored(manual)])):
        checklist = evaluate(pgcert(), completions, {"B832": START}, date(2027, 12, 20))
        gb080 = checklist.module("B832").requirements[0]
        assert gb080.code == "GB080"
        assert gb080.exempt and not gb080.late, completions


def test_a_staff_correction_to_not_started_keeps_no_start_date() -> None:
    moodle = going("GB080", date(2027, 5, 1))
    manual = Completion("GB080", CompletionStatus.NOT_STARTED, None, None, "manual")
    stored = [
        CompletionCopy(c.course_code, c.status.value, c.started_at, None, c.source, datetime.now())
        for c in (moodle, manual)
    ]
    (only,) = completions_in_force(stored)
    assert only.status is CompletionStatus.NOT_STARTED and only.started_at is None


def test_a_tutors_in_progress_correction_removes_a_stray_lms_start_date() -> None:
    """Moodle dates GB086 "in progress" from 1 May 2027 (the student only viewed it: an
    activity completion record with a date), before the 30 May B832 start, so it is exempt
    from the deadline. The tutor knows the student began it in July and records it "in
    progress" from the student's page, whose form has no start-date field (nor has the CSV
    import): the correction overrules the LMS's start, and the deadline applies."""
    copies = [
        CompletionCopy("GB086", "in_progress", date(2027, 5, 1), None, "moodle", datetime.now()),
        CompletionCopy("GB086", "in_progress", None, None, "manual", datetime.now()),
    ]
    completions = [done(code) for code in B832_CODES[:6]] + completions_in_force(copies)
    checklist = evaluate(pgcert(), completions, {"B832": START}, date(2027, 12, 15))

    gb086 = next(r for r in checklist.module("B832").requirements if r.code == "GB086")
    assert not gb086.exempt
    assert gb086.overdue
