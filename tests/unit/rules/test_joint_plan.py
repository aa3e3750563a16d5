"""One plan across both modules: its invariants, table by table, for random students (a seeded
loop: hypothesis is not installed) and for the sandbox's demo students."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta

import pytest

from lti_tool.rules import (
    AssessmentOutcome,
    AssessmentResult,
    Checklist,
    Completion,
    CompletionStatus,
    Qualification,
    evaluate,
)
from lti_tool.rules.dates import spoken
from lti_tool.sandbox import demo_data
from tests.unit.rules.support import (
    B832_CODES,
    B833_COMPULSORY,
    done,
    going,
    made_up,
    pgcert,
)

SPOKEN_DATE = re.compile(
    r"\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December) \d{4}"
)
ISSUE_STARTS = {"B832": date(2026, 10, 31), "B833": date(2027, 5, 30)}
ISSUE_TODAY = date(2026, 12, 6)


def assert_invariants(qualification: Qualification, checklist: Checklist) -> None:
    """What every plan and its steps must hold, whatever the student's state."""
    today, plan, rules = checklist.as_of, checklist.plan, qualification.time_rules
    entries = plan.entries
    # Never more than the limit at once across modules (only courses already in progress,
    # which the student chose, may together exceed it; the plan never adds to them then).
    for day in {max(entry.start, today) for entry in entries}:
        running = [e for e in entries if max(e.start, today) <= day < e.finish]
        begun = [e for e in running if e.in_progress]
        assert len(running) <= max(rules.max_parallel_courses, len(begun)), (day, running)
    assert all(entry.finish > today for entry in entries)
    requirements = {r.code: r for m in checklist.modules for r in m.requirements}
    for module_plan in plan.modules:
        if module_plan.feasible and module_plan.deadline:
            bound = [e for e in module_plan.entries if not requirements[e.code].exempt]
            assert all(entry.finish <= module_plan.deadline for entry in bound)
        assert len(module_plan.notes) == (1 if module_plan.entries else 0)
        assert module_plan.feasible is (module_plan.next_start is None)
    assert len(plan.notes) == len(set(plan.notes))
    assert not any("overlap" in note for note in plan.notes)
    steps = checklist.next_steps
    assert 1 <= len(steps) <= 3 or not entries
    assert not any("start date is not set" in step for step in steps)
    by_code = {entry.code: entry for entry in entries}
    for step in steps:
        if not step.startswith(("Start ", "Aim to finish ")):
            continue
        named = [by_code[code] for code in re.findall(r"\b[A-Z]+\d+\b", step) if code in by_code]
        assert named, step
        allowed = {spoken(day) for entry in named for day in (entry.start, entry.finish)}
        assert set(SPOKEN_DATE.findall(step)) <= allowed, step
        if step.startswith("Start ") and " now," in step:
            assert all(entry.start == today for entry in named), step
        if step.startswith("Start ") and " on " in step.split(", aiming to finish")[0]:
            assert all(entry.start > today for entry in named), step


def run(
    completions: list[Completion],
    starts: dict[str, date],
    today: date,
    assessments: dict[str, AssessmentResult] | None = None,
    qualification: Qualification | None = None,
) -> Checklist:
    qualification = qualification or pgcert()
    checklist = evaluate(qualification, completions, starts, today, assessments)
    assert_invariants(qualification, checklist)
    return checklist


CASES = {
    "both starts, nothing done": ([], ISSUE_STARTS, ISSUE_TODAY, None),
    "part done, one in progress past its length": (
        [
            done("GB080", date(2026, 11, 1), date(2026, 9, 1)),
            done("GB081", date(2026, 11, 20), date(2026, 11, 2)),
            going("GB082", date(2026, 7, 1)),
            going("GB083", date(2026, 11, 20)),
            done("GB087", date(2026, 11, 1), date(2026, 9, 1)),
        ],
        ISSUE_STARTS,
        ISSUE_TODAY,
        None,
    ),
    "late in the window": (
        [done("GB080", date(2027, 8, 1), date(2027, 6, 1))],
        {"B832": date(2027, 5, 30)},
        date(2027, 9, 20),
        None,
    ),
    "no start dates": ([], {}, ISSUE_TODAY, None),
    "B832 passed": ([], ISSUE_STARTS, ISSUE_TODAY, {"B832": AssessmentResult("pass")}),  # type: ignore[arg-type]
    "optional group partly done": (
        [done(code) for code in B832_CODES + B833_COMPULSORY]
        + [done("GB090"), going("GB091", date(2027, 6, 2))],
        ISSUE_STARTS,
        date(2027, 6, 20),
        None,
    ),
    "in progress since long ago": (
        [going("GB085", date(2025, 1, 1))],
        ISSUE_STARTS,
        ISSUE_TODAY,
        None,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_joint_plan_cases_hold_the_invariants(name: str) -> None:
    completions, starts, today, assessments = CASES[name]
    run(completions, starts, today, assessments)


def test_both_starts_set_nothing_done() -> None:
    checklist = run([], ISSUE_STARTS, ISSUE_TODAY)

    b832, b833 = checklist.plan.modules
    # Seven courses cannot fit in the 145 days to 30 April 2027 even three at a time at 8 weeks.
    assert (b832.feasible, b832.next_start) == (False, date(2027, 5, 30))
    assert b833.feasible and b833.course_weeks == 10
    assert max(e.finish for e in b833.entries) == date(2027, 8, 15) <= date(2027, 11, 30)
    assert len(checklist.plan.notes) == 2
    assert checklist.next_steps[1] == (
        "Start GB080 What is clinical leadership?, GB081 Developing yourself for clinical"
        " leadership and GB082 Clinical teams and how they develop now, aiming to finish by 31"
        " January 2027"
    )


def test_plenty_of_time_keeps_one_course_at_a_time_across_modules() -> None:
    starts = {"B832": date(2027, 10, 31), "B833": date(2028, 10, 31)}
    checklist = run([], starts, date(2026, 6, 1))

    assert not any(entry.parallel for entry in checklist.plan.entries)
    finishes = [entry.finish for entry in checklist.plan.entries]
    starts_after = [entry.start for entry in checklist.plan.entries][1:]
    assert starts_after == finishes[:-1]


def test_an_in_progress_course_never_finishes_today_or_before() -> None:
    today = ISSUE_TODAY
    checklist = run([going("GB080", date(2026, 1, 5))], {}, today)

    (entry,) = [e for e in checklist.plan.entries if e.code == "GB080"]
    assert entry.in_progress and entry.start == date(2026, 1, 5)
    assert entry.finish == today + timedelta(weeks=pgcert().time_rules.min_remaining_weeks)
    assert checklist.next_steps[0] == (
        "Aim to finish GB080 What is clinical leadership? by 20 December 2026"
    )


def test_the_infeasible_module_is_said_once_with_the_next_start() -> None:
    checklist = run(*CASES["late in the window"][:3])

    b832 = checklist.plan.module("B832")
    assert not b832.feasible and b832.next_start == date(2027, 10, 31)
    (note,) = b832.notes
    assert checklist.plan.notes.count(note) == 1
    assert "31 October 2027" in note
    assert checklist.next_steps[0].startswith(
        "Speak to your tutor about registering for the next B832 start on 31 October 2027"
    )


def _random_student(
    qualification: Qualification, rng: random.Random
) -> tuple[list[Completion], dict[str, date], date, dict[str, AssessmentResult]]:
    today = date(2026, 1, 1) + timedelta(days=rng.randrange(900))
    starts = {
        module.code: today + timedelta(days=rng.randrange(-400, 300))
        for module in qualification.modules
        if rng.random() < 0.8
    }
    completions = []
    for code in sorted(qualification.course_codes()):
        roll = rng.random()
        began = today - timedelta(days=rng.randrange(0, 500))
        if roll < 0.3:
            on = began + timedelta(days=rng.randrange(0, (today - began).days + 1))
            completions.append(done(code, on, began if rng.random() < 0.7 else None))
        elif roll < 0.45:
            completions.append(going(code, began if rng.random() < 0.9 else None))
    assessments = {
        module.code: AssessmentResult(rng.choice(list(AssessmentOutcome)))
        for module in qualification.modules
        if rng.random() < 0.15
    }
    return completions, starts, today, assessments


@pytest.mark.parametrize("which", ["certificate", "made-up diploma"])
def test_random_students_hold_the_invariants(which: str) -> None:
    qualification = pgcert() if which == "certificate" else made_up()
    rng = random.Random(20261206)
    for _ in range(400):
        completions, starts, today, assessments = _random_student(qualification, rng)
        run(completions, starts, today, assessments, qualification)


def _demo_completions(user: int) -> list[Completion]:
    """The demo LMS's records as the tool reads them: both activities done is complete."""
    lms = demo_data.demo_lms()
    found = []
    for code in demo_data.CPD_COURSES:
        states = [
            lms.state(user, demo_data.log_cmid(code)),
            lms.state(user, demo_data.quiz_cmid(code)),
        ]
        days = [datetime.fromtimestamp(when).date() for state, when in states if state]
        if not days:
            continue
        passed = all(state in (demo_data.COMPLETE, demo_data.COMPLETE_PASS) for state, _ in states)
        status = CompletionStatus.COMPLETED if passed else CompletionStatus.IN_PROGRESS
        found.append(Completion(code, status, min(days), max(days) if passed else None, "demo"))
    return found


@pytest.mark.parametrize("user", [demo_data.STUDENT1, demo_data.STUDENT2, demo_data.STUDENT3])
@pytest.mark.parametrize(
    "starts",
    [{}, ISSUE_STARTS, {"B832": date(2026, 5, 30)}, {"B832": date(2025, 10, 31)}],
    ids=["no-starts", "issue-starts", "b832-may", "b832-long-ago"],
)
@pytest.mark.parametrize("today", [ISSUE_TODAY, date(2026, 7, 1), date(2027, 9, 1)])
def test_demo_students_hold_the_invariants(user: int, starts: dict[str, date], today: date) -> None:
    completions = _demo_completions(user)
    assert completions or user == demo_data.STUDENT3

    run(completions, starts, today)


def test_a_completion_after_the_deadline_is_late_but_still_counts() -> None:
    start = date(2026, 10, 31)
    checklist = run(
        [
            done("GB080", date(2027, 5, 3), date(2027, 1, 4)),  # after 30 April 2027: late
            done("GB081", date(2027, 5, 3), date(2026, 9, 1)),  # begun before the start: exempt
            done("GB082", date(2027, 4, 30), date(2027, 1, 4)),  # on the deadline day: in time
        ],
        {"B832": start},
        date(2027, 5, 10),
    )

    late = {r.code: r.late for r in checklist.module("B832").requirements if r.completed_at}
    assert late == {"GB080": True, "GB081": False, "GB082": False}
    assert checklist.module("B832").hours_completed == 75
    gb080 = checklist.module("B832").requirements[0].to_dict()
    assert gb080["late"] is True and gb080["counts"] is True
