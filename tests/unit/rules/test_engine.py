"""The checklist engine, table by table: statuses, hours, deadlines, credits, next steps."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from lti_tool.rules import (
    AssessmentOutcome,
    AssessmentResult,
    Checklist,
    Completion,
    CompletionStatus,
    evaluate,
)
from lti_tool.rules.dates import add_months, next_start_after, spoken
from tests.unit.rules.support import (
    B832_CODES,
    B833_COMPULSORY,
    B833_OPTIONAL,
    DEADLINE,
    START,
    all_done,
    done,
    going,
    made_up,
    pgcert,
)

TODAY = date(2027, 6, 15)
BOTH_STARTS = {"B832": START, "B833": date(2027, 10, 31)}


def run(
    completions: list[Completion],
    starts: dict[str, date] | None = None,
    today: date = TODAY,
    assessments: dict[str, AssessmentResult] | None = None,
) -> Checklist:
    return evaluate(
        pgcert(), completions, BOTH_STARTS if starts is None else starts, today, assessments
    )


def requirement(checklist: Checklist, code: str) -> dict[str, object]:
    for module in checklist.to_dict()["modules"]:
        for item in module["requirements"]:
            if item["code"] == code:
                return dict(item)
    raise AssertionError(code)


def test_no_data_everything_outstanding() -> None:
    checklist = run([], today=date(2026, 6, 1))

    assert checklist.qualification.credits_earned == 0
    assert not checklist.qualification.complete
    assert [m.hours_completed for m in checklist.modules] == [0, 0]
    assert [m.hours_required for m in checklist.modules] == [250, 250]
    assert not any(m.cpd_complete for m in checklist.modules)
    statuses = {r.status for m in checklist.modules for r in m.requirements}
    assert statuses == {CompletionStatus.NOT_STARTED}
    assert checklist.module("B832").deadline == DEADLINE
    assert {r.deadline for r in checklist.module("B832").requirements} == {DEADLINE}
    assert checklist.next_steps[0].startswith("Start GB080 What is clinical leadership? and GB081")
    assert len(checklist.next_steps) == 3
    assert checklist.notes == ()
    assert checklist.unknown_codes == ()


def test_all_cpd_done_makes_both_modules_eligible() -> None:
    checklist = run(all_done())

    assert [m.hours_completed for m in checklist.modules] == [250, 250]
    assert all(m.cpd_complete for m in checklist.modules)
    assert checklist.qualification.credits_earned == 0
    assert checklist.next_steps == (
        "You have completed every CPD course for B832: you are eligible for its assessment",
        "You have completed every CPD course for B833: you are eligible for its assessment",
    )
    assert all(m.to_dict()["assessment"] is None for m in checklist.modules)
    # Nothing outstanding: no deadline is shown for a finished course.
    assert {r.deadline for m in checklist.modules for r in m.requirements} == {None}


@pytest.mark.parametrize(
    ("optional_dates", "counting"),
    [
        pytest.param(
            {"GB090": date(2027, 3, 1), "GB091": date(2027, 2, 1), "GB092": date(2027, 1, 1)},
            {"GB091", "GB092"},
            id="earliest-two-count",
        ),
        pytest.param(
            {"GB090": date(2027, 3, 1), "GB091": date(2027, 3, 1), "GB092": date(2027, 3, 1)},
            {"GB090", "GB091"},
            id="same-day-ties-by-code",
        ),
        pytest.param(
            {"GB090": None, "GB091": date(2027, 3, 1), "GB092": date(2027, 4, 1)},
            {"GB091", "GB092"},
            id="undated-completion-counts-last",
        ),
    ],
)
def test_third_optional_course_counts_once(
    optional_dates: dict[str, date | None], counting: set[str]
) -> None:
    completions = [done(code) for code in B833_COMPULSORY] + [
        Completion(code, CompletionStatus.COMPLETED, None, on, "test")
        for code, on in optional_dates.items()
    ]

    b833 = run(completions).module("B833")

    assert {r.code for r in b833.requirements if r.counts} == set(B833_COMPULSORY) | counting
    assert b833.hours_completed == 250
    assert b833.hours_required == 250
    assert b833.cpd_complete


def test_one_optional_course_is_not_enough() -> None:
    checklist = run(
        [done(code) for code in B833_COMPULSORY] + [going("GB090", date(2027, 11, 1))],
        today=date(2027, 11, 15),
    )
    b833 = checklist.module("B833")

    assert b833.hours_completed == 150
    assert not b833.cpd_complete
    # The step's date is the plan's: ten weeks from 1 November 2027 would pass the deadline of
    # the courses that follow, so GB090 is planned at eight.
    (entry,) = [e for e in checklist.plan.entries if e.code == "GB090"]
    assert entry.finish == date(2027, 12, 27)
    assert f"Aim to finish GB090 Innovating across boundaries by {spoken(entry.finish)}" in (
        checklist.next_steps
    )


def test_completion_before_the_module_start_counts() -> None:
    early = date(2026, 11, 2)
    checklist = run([done("GB080", on=early, began=date(2026, 9, 1))])

    item = requirement(checklist, "GB080")
    assert item["status"] == "completed"
    assert item["counts"] is True
    assert item["completed_at"] == "2026-11-02"
    assert item["deadline"] is None
    assert checklist.module("B832").hours_completed == 25


def test_course_started_before_the_module_start_is_exempt_but_still_required() -> None:
    late = DEADLINE + timedelta(days=30)
    checklist = run([going("GB081", since=date(2027, 4, 1))], today=late)

    item = requirement(checklist, "GB081")
    assert item["exempt"] is True
    assert item["deadline"] is None
    assert item["overdue"] is False
    assert item["counts"] is False
    assert not checklist.module("B832").cpd_complete
    assert any(
        "Aim to finish GB081" in step and "six-month deadline does not apply" in step
        for step in checklist.next_steps
    )
    # The same course started on the module start day is bound by the rule.
    bound = requirement(run([going("GB081", since=START)], today=late), "GB081")
    assert (bound["exempt"], bound["overdue"], bound["deadline"]) == (False, True, "2027-11-30")


@pytest.mark.parametrize(
    ("today", "status", "at_risk", "overdue"),
    [
        pytest.param(DEADLINE - timedelta(weeks=12), "not_started", False, False, id="12-weeks"),
        pytest.param(DEADLINE - timedelta(weeks=8), "not_started", False, False, id="8-weeks"),
        pytest.param(DEADLINE - timedelta(days=55), "not_started", True, False, id="55-days"),
        pytest.param(DEADLINE, "not_started", True, False, id="deadline-day"),
        pytest.param(DEADLINE + timedelta(days=1), "not_started", False, True, id="day-after"),
        pytest.param(DEADLINE - timedelta(days=20), "in_progress", False, False, id="started"),
        pytest.param(DEADLINE + timedelta(days=1), "in_progress", False, True, id="started-late"),
        pytest.param(DEADLINE + timedelta(days=1), "completed", False, False, id="done"),
    ],
)
def test_at_risk_and_overdue(today: date, status: str, at_risk: bool, overdue: bool) -> None:
    record = Completion("GB085", CompletionStatus(status), START + timedelta(days=1), None)
    if status == "completed":
        record = done("GB085", on=DEADLINE)

    item = requirement(run([record], today=today), "GB085")

    assert (item["at_risk"], item["overdue"]) == (at_risk, overdue)


def test_overdue_and_late_plans_come_first_in_next_steps() -> None:
    # B832 is overdue; B833 (start 31 October 2027, deadline 30 April 2028) can no longer fit.
    today = date(2028, 3, 20)
    checklist = run([done(code) for code in B832_CODES[:6]], today=today)

    assert checklist.next_steps == (
        "Speak to your tutor: GB086 Developing options for service improvement is overdue (due"
        " by 30 November 2027); you could register for the next B832 start on 30 May 2028"
        " instead",
        "Speak to your tutor about registering for the next B833 start on 30 May 2028: your"
        " courses cannot all be finished by the 30 April 2028 deadline",
        "Start GB087 Understanding service innovation and GB088 Developing cases for innovation"
        " now, aiming to finish by 15 May 2028",
    )
    # One plan note per module that cannot be finished in time, none repeated as a step.
    assert [plan.feasible for plan in checklist.plan.modules] == [False, False]
    assert len(checklist.plan.notes) == 2
    assert not set(checklist.plan.notes) & set(checklist.next_steps)


def test_several_overdue_courses_are_one_step() -> None:
    checklist = run([done(code) for code in B832_CODES[:4]], today=DEADLINE + timedelta(days=3))

    overdue = [step for step in checklist.next_steps if "overdue" in step]
    assert overdue == [
        "Speak to your tutor: GB084 Your service: assessing quality, GB085 Evaluating the flow"
        " of activities and GB086 Developing options for service improvement are overdue (due"
        " by 30 November 2027); you could register for the next B832 start on 30 May 2028"
        " instead"
    ]
    assert len(checklist.next_steps) <= 3


def test_start_step_uses_the_plans_dates() -> None:
    checklist = run(
        [done(code) for code in B832_CODES[1:]], starts={"B832": START}, today=date(2027, 6, 1)
    )

    (entry,) = checklist.plan.module("B832").entries
    assert (entry.start, entry.finish) == (date(2027, 6, 1), date(2027, 8, 10))
    assert checklist.next_steps[0] == (
        "Start GB080 What is clinical leadership? now, aiming to finish by 10 August 2027"
    )


@pytest.mark.parametrize(
    ("outcome", "credits", "step"),
    [
        ("fail", 0, "You did not pass the B832 assessment, so its 30 credits are not awarded"),
        ("referred", 0, "Your B832 assessment was referred: resubmit it"),
        ("pass", 30, None),
    ],
)
def test_assessment_outcome_decides_the_credits(
    outcome: str, credits: int, step: str | None
) -> None:
    result = AssessmentResult(AssessmentOutcome(outcome), score=38.0, max_score=100.0)

    checklist = run(all_done(), assessments={"B832": result})
    b832 = checklist.module("B832")

    assert b832.credits_earned == credits
    assert checklist.qualification.credits_earned == credits
    assert not checklist.qualification.complete
    assert b832.to_dict()["assessment"] == {"outcome": outcome, "score": 38.0, "max": 100.0}
    b832_steps = [s for s in checklist.next_steps if "B832" in s]
    if step is None:
        assert b832_steps == []
    else:
        assert len(b832_steps) == 1
        assert b832_steps[0].startswith(step)


def test_a_failed_assessment_without_the_cpd_still_lists_the_courses() -> None:
    checklist = run([], assessments={"B832": AssessmentResult(AssessmentOutcome.FAIL)})

    assert checklist.module("B832").credits_earned == 0
    assert any(s.startswith("You did not pass the B832 assessment") for s in checklist.next_steps)
    # Both plans are too late to meet their deadlines: those steps come first, three at most.
    assert len(checklist.next_steps) == 3
    assert "GB080" in " ".join(e.code for e in checklist.plan.entries)


def test_both_modules_passed_completes_the_certificate() -> None:
    passed = AssessmentResult(AssessmentOutcome.PASS, 70.0, 100.0)

    checklist = run(all_done(), assessments={"B832": passed, "B833": passed})

    assert checklist.qualification.credits_earned == 60
    assert checklist.qualification.complete
    assert checklist.next_steps == (
        "You have passed every module: your Postgraduate Certificate in Clinical Leadership"
        " (60 credits) is complete",
    )
    assert checklist.plan.entries == ()


def test_a_passed_module_has_no_deadlines_left() -> None:
    checklist = run(
        [],
        today=DEADLINE + timedelta(days=5),
        assessments={"B832": AssessmentResult(AssessmentOutcome.PASS)},
    )

    b832 = checklist.module("B832")
    assert b832.credits_earned == 30
    assert not any(r.overdue or r.at_risk or r.deadline for r in b832.requirements)
    assert checklist.qualification.credits_earned == 30
    assert not any(code in " ".join(checklist.next_steps) for code in ("B832", *B832_CODES))
    assert [plan.module for plan in checklist.plan.modules] == ["B833"]


def test_unknown_course_codes_are_ignored_and_reported() -> None:
    completions = [done("ZZ999"), going("AB100"), done("ZZ999"), done("GB080")]

    checklist = run(completions)

    assert checklist.unknown_codes == ("AB100", "ZZ999")
    assert checklist.module("B832").hours_completed == 25
    assert checklist.to_dict()["unknown_codes"] == ["AB100", "ZZ999"]


def test_without_a_start_date_there_are_no_deadlines() -> None:
    checklist = run([], starts={}, today=date(2030, 1, 1))

    assert all(m.start_date is None and m.deadline is None for m in checklist.modules)
    assert not any(
        r.deadline or r.overdue or r.at_risk for m in checklist.modules for r in m.requirements
    )
    # Staff set start dates: a quiet note, not a step the student cannot act on.
    assert checklist.notes == (
        "Your B832 start date is not set yet: CPD course deadlines will appear once it is",
        "Your B833 start date is not set yet: CPD course deadlines will appear once it is",
    )
    assert checklist.to_dict()["notes"] == list(checklist.notes)
    assert not any("start date" in step for step in checklist.next_steps)
    assert checklist.next_steps[0] == (
        "Start GB080 What is clinical leadership? now, aiming to finish by 12 March 2030"
    )


@pytest.mark.parametrize(
    ("records", "status", "completed_at"),
    [
        ([going("GB080"), done("GB080", date(2027, 2, 1))], "completed", "2027-02-01"),
        (
            [done("GB080", date(2027, 3, 1)), done("GB080", date(2027, 2, 1))],
            "completed",
            "2027-02-01",
        ),
        ([Completion("GB080", CompletionStatus.NOT_STARTED), going("GB080")], "in_progress", None),
    ],
    ids=["completed-beats-in-progress", "earliest-completion", "in-progress-beats-not-started"],
)
def test_several_sources_for_one_course(
    records: list[Completion], status: str, completed_at: str | None
) -> None:
    item = requirement(run(records), "GB080")

    assert (item["status"], item["completed_at"]) == (status, completed_at)


def test_hours_never_exceed_what_is_required() -> None:
    everything = [done(code) for code in B832_CODES + B833_COMPULSORY + B833_OPTIONAL]

    checklist = run(everything + everything)

    assert all(m.hours_completed == m.hours_required == 250 for m in checklist.modules)


def test_to_dict_is_json_ready_and_has_the_agreed_shape() -> None:
    checklist = run([done("GB080"), going("GB090", TODAY), done("XX1")])

    data = json.loads(json.dumps(checklist.to_dict()))

    assert set(data) >= {"qualification", "modules", "next_steps", "unknown_codes", "as_of", "plan"}
    assert data["qualification"] == {
        "code": "PGCERT-CL",
        "title": "Postgraduate Certificate in Clinical Leadership",
        "credits_required": 60,
        "credits_earned": 0,
        "complete": False,
        "deadline_months": 6,
    }
    module = data["modules"][0]
    assert set(module) >= {
        "code",
        "title",
        "credits",
        "hours_required",
        "hours_completed",
        "cpd_complete",
        "assessment",
        "start_date",
        "deadline",
        "requirements",
    }
    assert (module["start_date"], module["deadline"]) == ("2027-05-30", "2027-11-30")
    assert set(module["requirements"][0]) >= {
        "code",
        "title",
        "hours",
        "kind",
        "counts",
        "status",
        "completed_at",
        "deadline",
        "at_risk",
        "overdue",
        "late",
    }
    assert requirement(checklist, "GB090")["kind"] == "optional"
    assert requirement(checklist, "GB080")["kind"] == "compulsory"
    assert data["as_of"] == "2027-06-15"
    assert data["plan"] == [entry.to_dict() for entry in checklist.plan.entries]
    assert data["plan"][0] == {
        "code": "GB081",
        "title": "Developing yourself for clinical leadership",
        "module": "B832",
        "start": "2027-06-15",
        "finish": "2027-08-10",
        "parallel": True,
        "in_progress": False,
    }
    assert [entry["start"] for entry in data["plan"]] == sorted(e["start"] for e in data["plan"])
    assert all(
        set(entry) == {"code", "title", "module", "start", "finish", "parallel", "in_progress"}
        for entry in data["plan"]
    )


def test_a_new_qualification_needs_no_new_code() -> None:
    # X100: T1, T2 compulsory (20 h each) + 1 of T3 (20 h) / T4 (35 h); three-month rule.
    checklist = evaluate(
        made_up(),
        [done("T1"), done("T2"), done("T4"), going("T5", date(2028, 1, 20))],
        {"X100": date(2028, 1, 15), "X200": date(2028, 1, 15)},
        date(2028, 2, 1),
    )

    x100, x200 = checklist.modules
    assert (x100.hours_completed, x100.hours_required, x100.cpd_complete) == (60, 60, True)
    assert x200.deadline == date(2028, 4, 15)
    assert x200.hours_completed == 0
    # Two at a time meet the deadline: T6 beside T5 now, T7 once T5 is done.
    assert (
        "Start T6 Queues now, aiming to finish by 7 March 2028 (instead of an optional course you"
        " may choose T8)"
    ) in checklist.next_steps
    assert checklist.qualification.credits_required == 45


@pytest.mark.parametrize("bad", ["done", "COMPLETED", ""])
def test_completion_refuses_an_unknown_status(bad: str) -> None:
    with pytest.raises(ValueError):
        Completion("GB080", bad)  # type: ignore[arg-type]


def test_statuses_and_outcomes_accept_their_stored_strings() -> None:
    assert Completion("GB080", "completed").status is CompletionStatus.COMPLETED  # type: ignore[arg-type]
    assert AssessmentResult("referred").outcome is AssessmentOutcome.REFERRED  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2027, 5, 30), 6, date(2027, 11, 30)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 10, 31), 6, date(2028, 4, 30)),
        (date(2027, 12, 15), 3, date(2028, 3, 15)),
    ],
)
def test_deadline_is_calendar_months_later(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (date(2027, 1, 1), date(2027, 5, 30)),
        (date(2027, 5, 30), date(2027, 10, 31)),
        (date(2027, 10, 31), date(2028, 5, 30)),
        (date(2027, 12, 31), date(2028, 5, 30)),
    ],
)
def test_next_start_after(after: date, expected: date) -> None:
    assert next_start_after(pgcert().time_rules.module_start_dates, after) == expected


def test_dates_are_spoken_in_plain_english() -> None:
    assert spoken(date(2027, 9, 1)) == "1 September 2027"
