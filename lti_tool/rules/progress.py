"""Where a student stands on one module: requirement statuses, hours, deadlines and flags."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta

from lti_tool.rules.checklist import ModuleProgress, Requirement, RequirementKind
from lti_tool.rules.dates import add_months
from lti_tool.rules.model import Module, OptionalGroup, TimeRules
from lti_tool.rules.records import AssessmentOutcome, AssessmentResult, Completion
from lti_tool.rules.records import CompletionStatus as Status

# Any real answer beats "the LMS cannot track it" (another source may know).
_RANK = {Status.UNTRACKABLE: -1, Status.NOT_STARTED: 0, Status.IN_PROGRESS: 1, Status.COMPLETED: 2}


def merge_completions(
    completions: Iterable[Completion], known_codes: frozenset[str]
) -> tuple[dict[str, Completion], tuple[str, ...]]:
    """Keep the most advanced record per known course; return it and the unknown codes.

    Sources disagree (the LMS may still say "in progress" after a manual "completed"): a
    course done once stays done, so the furthest status wins, then the earliest date.
    """
    best: dict[str, Completion] = {}
    unknown: set[str] = set()
    known: list[Completion] = []
    for record in completions:
        if record.course_code not in known_codes:
            unknown.add(record.course_code)
            continue
        known.append(record)
        held = best.get(record.course_code)
        if held is None or _preference(record) < _preference(held):
            best[record.course_code] = record
    began = earliest_starts(known)
    merged = {code: with_start(record, began.get(code)) for code, record in best.items()}
    return merged, tuple(sorted(unknown))


def earliest_starts(records: Iterable[Completion]) -> dict[str, date]:
    """Per course, the earliest start date a record of it being begun or done gives."""
    began: dict[str, date] = {}
    for record in records:
        if record.started_at is not None and record.status in _BEGUN:
            began[record.course_code] = min(
                record.started_at, began.get(record.course_code, date.max)
            )
    return began


def with_start(record: Completion, began: date | None) -> Completion:
    """``record``, or, when it is a completion that does not say when the course was begun,
    with the start ``began`` another record gives, if no later than the completion: a course
    begun before the module start is exempt from its deadline. A record of a course only in
    progress takes none (a tutor's "in progress" overrules a start the LMS dated from a page
    view)."""
    if (
        record.started_at is None
        and record.status is Status.COMPLETED
        and began is not None
        and (record.completed_at is None or began <= record.completed_at)
    ):
        return replace(record, started_at=began)
    return record


_BEGUN = frozenset({Status.IN_PROGRESS, Status.COMPLETED})


def _preference(record: Completion) -> tuple[int, date, date, str]:
    return (
        -_RANK[record.status],
        record.completed_at or date.max,
        record.started_at or date.max,
        record.source,
    )


def module_progress(
    module: Module,
    rules: TimeRules,
    records: Mapping[str, Completion],
    start: date | None,
    assessment: AssessmentResult | None,
    today: date,
) -> ModuleProgress:
    """Evaluate one module for one student as of ``today``."""
    deadline = add_months(start, rules.deadline_months) if start else None
    passed = assessment is not None and assessment.outcome is AssessmentOutcome.PASS
    counting, satisfied_groups, hours = _counting_courses(module, records)
    picked = _optional_picks(module, records, satisfied_groups)
    requirements: list[Requirement] = []
    unknown: list[str] = []
    for course in module.courses:
        record = records.get(course.code)
        status = record.status if record else Status.NOT_STARTED
        compulsory = course.code in module.compulsory
        # A course is outstanding while it still matters: not done, the module not yet passed,
        # and (for an optional course) its group still short of the number to choose.
        outstanding = (
            status is not Status.COMPLETED
            and not passed
            and (compulsory or course.code not in satisfied_groups)
        )
        if outstanding and status is Status.UNTRACKABLE:
            unknown.append(course.code)
        exempt = _started_before(record, start)
        finished = record.completed_at if record and status is Status.COMPLETED else None
        late = finished is not None and deadline is not None and not exempt and finished > deadline
        # Of an optional group still short, only the courses a plan would take (those begun,
        # then in file order) are bound: "2 of 3" with one done makes neither of the other
        # two due on its own, so neither is called overdue or at risk.
        bound = compulsory or course.code in picked
        course_deadline = deadline if outstanding and bound and not exempt else None
        # Progress the LMS cannot track is unknown, not missing: never called overdue.
        overdue = (
            course_deadline is not None
            and today > course_deadline
            and status is not Status.UNTRACKABLE
        )
        at_risk = (
            course_deadline is not None
            and status is Status.NOT_STARTED
            and not overdue
            and course_deadline - today < timedelta(weeks=rules.at_risk_weeks)
        )
        requirements.append(
            Requirement(
                code=course.code,
                title=course.title,
                hours=course.hours,
                kind=RequirementKind.COMPULSORY if compulsory else RequirementKind.OPTIONAL,
                counts=course.code in counting,
                status=status,
                started_at=record.started_at if record else None,
                completed_at=record.completed_at if record else None,
                deadline=course_deadline,
                at_risk=at_risk,
                overdue=overdue,
                exempt=exempt,
                late=late,
            )
        )
    compulsory_done = all(code in counting for code in module.compulsory)
    return ModuleProgress(
        code=module.code,
        title=module.title,
        credits=module.credits,
        credits_earned=module.credits if passed else 0,
        hours_required=module.cpd_hours,
        hours_completed=hours,
        cpd_complete=compulsory_done
        and all(set(group.courses) <= satisfied_groups for group in module.optional_groups),
        assessment=assessment,
        start_date=start,
        deadline=deadline,
        requirements=tuple(requirements),
        unknown_courses=tuple(unknown),
    )


def _counting_courses(
    module: Module, records: Mapping[str, Completion]
) -> tuple[set[str], set[str], int]:
    """Completed courses that count, optional courses whose group is satisfied, and hours.

    In a "choose N" group the first N completed count (earliest completion first, ties and
    undated completions by code) so the answer never changes when a later course is added.
    """

    def done(code: str) -> bool:
        record = records.get(code)
        return record is not None and record.status is Status.COMPLETED

    counting = {code for code in module.compulsory if done(code)}
    hours = sum(module.course(code).hours for code in counting)
    satisfied: set[str] = set()
    for group in module.optional_groups:
        finished = sorted(
            (code for code in group.courses if done(code)),
            key=lambda code: (records[code].completed_at or date.max, code),
        )[: group.choose]
        counting.update(finished)
        # With unequal hours the chosen courses may exceed the group's share: never count more.
        hours += min(sum(module.course(code).hours for code in finished), module.group_hours(group))
        if len(finished) == group.choose:
            satisfied.update(group.courses)
    return counting, satisfied, hours


def _optional_picks(
    module: Module, records: Mapping[str, Completion], satisfied: set[str]
) -> set[str]:
    """Of each optional group still short, the courses a plan takes to make it up."""

    def status(code: str) -> Status:
        record = records.get(code)
        return record.status if record else Status.NOT_STARTED

    def started(code: str) -> date | None:
        record = records.get(code)
        return record.started_at if record else None

    return {
        code
        for group in module.optional_groups
        if not set(group.courses) <= satisfied
        for code in optional_picks(group, status, started)
    }


def optional_picks(
    group: OptionalGroup,
    status: Callable[[str], Status],
    started: Callable[[str], date | None],
) -> list[str]:
    """The courses of ``group`` to take to make it up: those in progress (earliest begun
    first), then those not started in file order, as many as are still needed. The planner
    plans these and the checklist holds them to the deadline: one choice, made here."""
    needed = group.choose - sum(status(code) is Status.COMPLETED for code in group.courses)
    going = sorted(
        (code for code in group.courses if status(code) is Status.IN_PROGRESS),
        key=lambda code: (started(code) or date.max, code),
    )
    waiting = [code for code in group.courses if status(code) is Status.NOT_STARTED]
    return (going + waiting)[: max(needed, 0)]


def _started_before(record: Completion | None, start: date | None) -> bool:
    """Whether the student began the course before the module start (the rule's exemption)."""
    if record is None or start is None or record.status is Status.NOT_STARTED:
        return False
    began = record.started_at or record.completed_at
    return began is not None and began < start
