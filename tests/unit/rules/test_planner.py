"""The study planner: sequential when there is time, parallel when tight, honest when too late."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lti_tool.rules import (
    AssessmentOutcome,
    AssessmentResult,
    Completion,
    ModulePlan,
    StudyPlan,
    evaluate,
    plan_study,
)
from lti_tool.rules.dates import spoken
from tests.unit.rules.support import (
    B832_CODES,
    B833_COMPULSORY,
    B833_DONE,
    DEADLINE,
    START,
    done,
    going,
    made_up,
    pgcert,
)


def plan_b832(completions: list[Completion], today: date, start: date | None = START) -> ModulePlan:
    starts = {"B832": start} if start else {}
    return plan_study(pgcert(), completions + B833_DONE, starts, today).module("B832")


def dates(plan: ModulePlan) -> list[tuple[str, date, date, bool]]:
    return [(e.code, e.start, e.finish, e.parallel) for e in plan.entries]


def test_plenty_of_time_one_course_after_another() -> None:
    today = date(2026, 6, 1)

    plan = plan_b832([], today)

    ten_weeks = timedelta(weeks=10)
    assert dates(plan) == [
        (code, today + index * ten_weeks, today + (index + 1) * ten_weeks, False)
        for index, code in enumerate(B832_CODES)
    ]
    assert plan.feasible
    assert plan.course_weeks == 10
    assert plan.entries[-1].finish == date(2027, 10, 4) <= DEADLINE
    assert plan.notes == (
        "Your B832 plan takes one course at a time and finishes on 4 October 2027, before the"
        " 30 November 2027 deadline",
    )


def test_tight_time_two_courses_in_parallel() -> None:
    # 394 days before the deadline: one at a time (70 weeks) misses it, two at a time fits.
    plan = plan_b832([], date(2026, 11, 1))

    assert plan.feasible
    assert plan.course_weeks == 10
    assert [e.parallel for e in plan.entries] == [True] * 6 + [False]
    assert plan.entries[0].start == plan.entries[1].start == date(2026, 11, 1)
    assert max(e.finish for e in plan.entries) <= DEADLINE
    assert [e.code for e in plan.entries] == list(B832_CODES)
    assert plan.notes == (
        "To finish B832 by the 30 November 2027 deadline you need to study up to two courses at"
        " the same time where the plan says so",
    )


def test_tighter_time_two_at_once_at_the_shortest_length() -> None:
    # 250 days: too few for four ten-week slots (two at a time), enough for four eight-week
    # ones: two at once at 8 weeks (12.5 hours a week) before three at once at 10 (15).
    today = DEADLINE - timedelta(days=250)

    plan = plan_b832([], today)

    assert plan.feasible
    assert plan.course_weeks == 8
    assert [e.parallel for e in plan.entries] == [True] * 6 + [False]
    assert all(e.finish - e.start == timedelta(weeks=8) for e in plan.entries)
    assert max(e.finish for e in plan.entries) == today + timedelta(weeks=32) <= DEADLINE
    assert "finish each course in the shortest time, 8 weeks" in plan.notes[0]
    assert "two courses at the same time" in plan.notes[0]


def test_tightest_time_parallel_at_the_shortest_length() -> None:
    # 180 days: too few for four eight-week slots (two at a time) or three ten-week ones,
    # enough for three eight-week ones (three at a time).
    today = DEADLINE - timedelta(days=180)

    plan = plan_b832([], today)

    assert plan.feasible
    assert plan.course_weeks == 8
    assert all(e.finish - e.start == timedelta(weeks=8) for e in plan.entries)
    assert max(e.finish for e in plan.entries) == today + timedelta(weeks=24) <= DEADLINE
    assert "finish each course in the shortest time, 8 weeks" in plan.notes[0]
    assert "three courses at the same time" in plan.notes[0]


def test_starting_b832_on_its_start_day_fits_its_deadline() -> None:
    """Outside review: with two courses at a time B832's seven could never fit in six months
    (4 rounds of 8 weeks), so every student starting on time was told to defer."""
    for start in (START, date(2027, 10, 31)):
        checklist = evaluate(pgcert(), B833_DONE, {"B832": start}, start)
        plan = checklist.plan.module("B832")
        assert plan.feasible, plan.notes
        assert not any("cannot all be finished" in step for step in checklist.next_steps)


@pytest.mark.parametrize(
    ("today", "start", "next_start"),
    [
        pytest.param(date(2027, 6, 20), START, date(2027, 10, 31), id="after-start"),
        pytest.param(date(2027, 9, 1), START, date(2027, 10, 31), id="late-in-the-window"),
        pytest.param(date(2027, 12, 5), START, date(2028, 5, 30), id="deadline-passed"),
    ],
)
def test_impossible_deadline_suggests_the_next_start(
    today: date, start: date, next_start: date
) -> None:
    plan = plan_b832([], today, start)

    assert not plan.feasible
    assert plan.next_start == next_start
    # The fastest plan is still shown: three at a time, eight weeks each, past the deadline.
    assert plan.course_weeks == 8
    assert len(plan.entries) == 7
    assert max(e.finish for e in plan.entries) > DEADLINE
    (note,) = plan.notes
    assert note.startswith("The 30 November 2027 deadline for B832 can no longer be met")
    assert "even studying three courses at a time" in note
    assert f"register for the next B832 start on {next_start.day} " in note


def test_in_progress_course_is_planned_to_finish_first() -> None:
    today = date(2027, 6, 1)
    completions = [done(code) for code in B832_CODES[:5]] + [going("GB085", today)]

    plan = plan_b832(completions, today)

    assert dates(plan) == [
        ("GB085", date(2027, 6, 1), date(2027, 8, 10), False),
        ("GB086", date(2027, 8, 10), date(2027, 10, 19), False),
    ]
    assert [e.in_progress for e in plan.entries] == [True, False]
    assert plan.feasible


def test_exempt_course_in_progress_keeps_its_real_start() -> None:
    completions = [done(code) for code in B832_CODES[1:6]] + [going("GB080", date(2027, 5, 1))]

    plan = plan_b832(completions, date(2027, 6, 1))

    assert dates(plan) == [
        ("GB080", date(2027, 5, 1), date(2027, 7, 10), False),
        ("GB086", date(2027, 7, 10), date(2027, 9, 18), False),
    ]


def test_in_progress_course_shortened_to_meet_the_deadline() -> None:
    # Ten weeks from 25 September would end on 4 December, after the deadline; eight fit.
    completions = [done(code) for code in B832_CODES[:6]] + [going("GB086", date(2027, 9, 25))]

    plan = plan_b832(completions, date(2027, 10, 1))

    assert dates(plan) == [("GB086", date(2027, 9, 25), date(2027, 11, 20), False)]
    assert plan.course_weeks == 8
    assert plan.feasible


@pytest.mark.parametrize(
    ("optional", "planned"),
    [
        pytest.param([], ["GB090", "GB091"], id="two-needed"),
        pytest.param([done("GB090")], ["GB091"], id="one-needed"),
        pytest.param([done("GB090"), going("GB092", date(2027, 11, 2))], ["GB092"], id="started"),
        pytest.param([done("GB090"), done("GB092")], [], id="none-needed"),
    ],
)
def test_only_as_many_optional_courses_as_still_needed(
    optional: list[Completion], planned: list[str]
) -> None:
    completions = [done(code) for code in B832_CODES + B833_COMPULSORY] + optional

    plan = plan_study(pgcert(), completions, {"B833": date(2027, 10, 31)}, date(2027, 11, 3))

    assert [e.code for e in plan.module("B833").entries] == planned
    assert plan.module("B832").entries == ()


def test_compulsory_courses_come_before_optional_ones() -> None:
    plan = plan_study(pgcert(), [], {}, date(2027, 1, 4)).module("B833")

    assert [e.code for e in plan.entries] == ["GB087", "GB088", "GB089", "GB090", "GB091"]


def test_without_a_start_date_the_plan_has_no_deadline() -> None:
    plan = plan_b832([], date(2027, 1, 4), start=None)

    assert plan.deadline is None
    assert plan.feasible
    assert [e.parallel for e in plan.entries] == [False] * 7
    assert plan.notes == (
        "Your B832 start date is not set yet, so there is no six-month deadline: this plan takes"
        " one course at a time, 10 weeks each",
    )


def test_passed_module_is_not_planned() -> None:
    plan = plan_study(
        pgcert(), [], {}, date(2027, 1, 4), {"B832": AssessmentResult(AssessmentOutcome.PASS)}
    )

    assert [module.module for module in plan.modules] == ["B833"]
    assert {e.module for e in plan.entries} == {"B833"}


def test_both_modules_share_one_plan_without_an_overlap_note() -> None:
    plan = plan_study(pgcert(), [], {}, date(2027, 1, 4))

    assert not any("overlap" in note for note in plan.notes)
    assert len(plan.notes) == 2
    # Without deadlines, one course at a time: B833's courses follow B832's.
    b832_end = max(e.finish for e in plan.module("B832").entries)
    assert min(e.start for e in plan.module("B833").entries) == b832_end
    assert [e.start for e in plan.entries] == sorted(e.start for e in plan.entries)


def test_made_up_qualification_plans_no_more_at_once_than_needed() -> None:
    # X200: choose 3 of 4 five-week courses within three months of 15 January 2028. From the
    # start two at a time fit; six weeks in, not even at four weeks each: three at a time.
    start = date(2028, 1, 15)
    x100_done = [done(code) for code in ("T1", "T2", "T3")]

    plan = plan_study(made_up(), x100_done, {"X100": start, "X200": start}, start).module("X200")
    assert dates(plan) == [
        ("T5", start, date(2028, 2, 19), True),
        ("T6", start, date(2028, 2, 19), True),
        ("T7", date(2028, 2, 19), date(2028, 3, 25), False),
    ]
    assert "up to two courses at the same time" in plan.notes[0]

    later = start + timedelta(weeks=6)
    plan = plan_study(made_up(), x100_done, {"X100": start, "X200": start}, later).module("X200")
    assert [entry.start for entry in plan.entries] == [later] * 3
    assert "up to three courses at the same time" in plan.notes[0]


def test_checklist_carries_the_same_plan() -> None:
    today = date(2026, 11, 1)
    starts = {"B832": START}

    checklist = evaluate(pgcert(), B833_DONE, starts, today)

    assert checklist.plan == plan_study(pgcert(), B833_DONE, starts, today)
    assert isinstance(checklist.plan, StudyPlan)
    assert checklist.to_dict()["plan_notes"] == list(checklist.plan.notes)
    # The plan's advice is a plan note, not repeated as a step; the steps follow its dates.
    assert checklist.plan.module("B832").notes[0] not in checklist.next_steps
    first = checklist.plan.entries[0]
    (step,) = [s for s in checklist.next_steps if s.startswith("Start")][:1]
    assert step.startswith(f"Start {first.code} {first.title}")
    assert f"finish by {spoken(first.finish)}" in step


def test_b833_on_time_is_not_asked_for_three_courses_at_once_when_two_fit() -> None:
    """B833 from its 31 October start: five 50-hour courses in 26 weeks. Two at a time at the
    shortest length (3 rounds of 8 weeks = 24 weeks, 12.5 hours a week) fit: the plan does
    not ask for three at once (15 hours a week)."""
    start = date(2027, 10, 31)
    completions = [done(code) for code in B832_CODES]
    plan = plan_study(pgcert(), completions, {"B832": START, "B833": start}, start)
    b833 = plan.module("B833")

    assert b833.feasible
    assert [e.code for e in b833.entries] == [*B833_COMPULSORY, "GB090", "GB091"]
    most_at_once = max(
        sum(1 for other in b833.entries if other.start <= e.start < other.finish)
        for e in b833.entries
    )
    assert most_at_once <= 2, b833.notes
