"""Propose dates for each module's outstanding CPD courses that meet the six-month rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from lti_tool.rules.checklist import ModuleProgress, Requirement
from lti_tool.rules.dates import next_start_after, spoken
from lti_tool.rules.model import Module, Qualification, TimeRules
from lti_tool.rules.progress import merge_completions, module_progress
from lti_tool.rules.records import AssessmentResult, Completion
from lti_tool.rules.records import CompletionStatus as Status
from lti_tool.rules.study_plan import ModulePlan, PlanEntry, StudyPlan

_NUMBERS = {2: "two", 3: "three", 4: "four"}


def plan_study(
    qualification: Qualification,
    completions: Iterable[Completion],
    module_starts: Mapping[str, date],
    today: date,
    assessments: Mapping[str, AssessmentResult] | None = None,
) -> StudyPlan:
    """Plan every unpassed module's outstanding CPD courses from ``today``.

    Courses already in progress finish first; then compulsory courses in file order, then as
    many optional courses as each group still needs. One course at a time at the nominal length
    when that meets the deadline, else up to ``max_parallel_courses`` at once, else both at the
    shortest length; failing all that, the fastest plan is shown with the next start to
    register for. Every course, even one planned before the module start (which the rule would
    exempt), is planned to finish by the deadline, so the plan holds whatever happens.
    """
    records, _ = merge_completions(completions, qualification.course_codes())
    assessments = assessments or {}
    progress = tuple(
        module_progress(
            module,
            qualification.time_rules,
            records,
            module_starts.get(module.code),
            assessments.get(module.code),
            today,
        )
        for module in qualification.modules
    )
    return plan_from_progress(qualification, progress, today)


def plan_from_progress(
    qualification: Qualification, progress: tuple[ModuleProgress, ...], today: date
) -> StudyPlan:
    """Plan from already evaluated module progress (the engine's way in)."""
    plans = tuple(
        _plan_module(qualification.module(module.code), module, qualification.time_rules, today)
        for module in progress
        if not module.passed
    )
    notes = [note for plan in plans for note in plan.notes]
    return StudyPlan(as_of=today, modules=plans, notes=tuple(notes + _overlaps(plans)))


def _plan_module(
    module: Module, progress: ModuleProgress, rules: TimeRules, today: date
) -> ModulePlan:
    started, new = _outstanding(module, progress)
    deadline = progress.deadline
    if not started and not new:
        return ModulePlan(module.code, deadline, True, rules.course_weeks_nominal, (), ())
    if deadline is None:
        entries = _schedule(
            module.code, started, new, rules, rules.course_weeks_nominal, None, today
        )
        note = (
            f"Your {module.code} start date is not set yet, so there is no six-month deadline:"
            f" this plan takes one course at a time, {rules.course_weeks_nominal} weeks each"
        )
        return ModulePlan(
            module.code, None, True, rules.course_weeks_nominal, entries or (), (note,)
        )
    for weeks in dict.fromkeys((rules.course_weeks_nominal, rules.course_weeks_min)):
        entries = _schedule(module.code, started, new, rules, weeks, deadline, today)
        if entries is not None:
            note = _feasible_note(module.code, deadline, entries, weeks, rules)
            return ModulePlan(module.code, deadline, True, weeks, entries, (note,))
    fastest = _schedule(
        module.code, started, new, rules, rules.course_weeks_min, None, today, fastest=True
    )
    next_start = next_start_after(
        rules.module_start_dates, max(today, progress.start_date or today)
    )
    many = _NUMBERS.get(rules.max_parallel_courses, str(rules.max_parallel_courses))
    note = (
        f"The {spoken(deadline)} deadline for {module.code} can no longer be met, even studying"
        f" {many} courses at a time at the shortest length ({rules.course_weeks_min} weeks): the"
        " dates shown are the earliest you could finish. You can register for the next"
        f" {module.code} start on {spoken(next_start)} instead: courses you start before then"
        " are not bound by its six-month deadline"
    )
    return ModulePlan(
        module.code, deadline, False, rules.course_weeks_min, fastest or (), (note,), next_start
    )


def _outstanding(
    module: Module, progress: ModuleProgress
) -> tuple[list[Requirement], list[Requirement]]:
    """Courses to plan: those in progress, then those not started, as many as still needed."""
    by_code = {requirement.code: requirement for requirement in progress.requirements}
    compulsory = [by_code[code] for code in module.compulsory]
    started = [item for item in compulsory if item.status is Status.IN_PROGRESS]
    new = [item for item in compulsory if item.status is Status.NOT_STARTED]
    for group in module.optional_groups:
        members = [by_code[code] for code in group.courses]
        needed = group.choose - sum(item.status is Status.COMPLETED for item in members)
        if needed <= 0:
            continue
        going = sorted(
            (item for item in members if item.status is Status.IN_PROGRESS),
            key=lambda item: (item.started_at or date.max, item.code),
        )[:needed]
        started.extend(going)
        waiting = [item for item in members if item.status is Status.NOT_STARTED]
        new.extend(waiting[: needed - len(going)])
    return started, new


def _schedule(
    module: str,
    started: list[Requirement],
    new: list[Requirement],
    rules: TimeRules,
    weeks: int,
    deadline: date | None,
    today: date,
    fastest: bool = False,
) -> tuple[PlanEntry, ...] | None:
    """Dates at ``weeks`` per course, or None when ``deadline`` cannot be met that way.

    New courses go in consecutive slots after the courses in progress; when there are fewer
    slots before the deadline than courses, the earliest slots take two (or more) courses.
    """
    length = timedelta(weeks=weeks)
    entries: list[PlanEntry] = []
    cursor = today
    for item in started:
        begun = item.started_at or today
        # A course already past its nominal length is planned to finish now, not in the past.
        finish = max(begun + length, today)
        if deadline is not None and not item.exempt and finish > deadline:
            return None
        entries.append(_entry(module, item, begun, finish, len(started) > 1, True))
        cursor = max(cursor, finish)
    if not new:
        return tuple(entries)
    least = -(-len(new) // rules.max_parallel_courses)
    if fastest:
        slots = least
    elif deadline is None:
        slots = len(new)
    else:
        room = max((deadline - cursor).days // length.days, 0)
        if room < least:
            return None
        slots = min(room, len(new))
    waiting = iter(new)
    for index, size in enumerate(_spread(len(new), slots)):
        start = cursor + index * length
        for _ in range(size):
            entries.append(_entry(module, next(waiting), start, start + length, size > 1))
    return tuple(entries)


def _spread(count: int, slots: int) -> list[int]:
    """Split ``count`` courses over ``slots`` as evenly as possible, larger slots first."""
    base, extra = divmod(count, slots)
    return [base + 1] * extra + [base] * (slots - extra)


def _entry(
    module: str,
    item: Requirement,
    start: date,
    finish: date,
    parallel: bool,
    in_progress: bool = False,
) -> PlanEntry:
    return PlanEntry(item.code, item.title, module, start, finish, parallel, in_progress)


def _feasible_note(
    code: str, deadline: date, entries: tuple[PlanEntry, ...], weeks: int, rules: TimeRules
) -> str:
    finish = max(entry.finish for entry in entries)
    parallel = any(entry.parallel for entry in entries)
    short = weeks < rules.course_weeks_nominal
    if not parallel and not short:
        return (
            f"Your {code} plan takes one course at a time and finishes on {spoken(finish)},"
            f" before the {spoken(deadline)} deadline"
        )
    how = []
    if parallel:
        many = _NUMBERS.get(rules.max_parallel_courses, str(rules.max_parallel_courses))
        how.append(f"study up to {many} courses at the same time where the plan says so")
    if short:
        how.append(f"finish each course in the shortest time, {weeks} weeks")
    return f"To finish {code} by the {spoken(deadline)} deadline you need to " + " and ".join(how)


def _overlaps(plans: tuple[ModulePlan, ...]) -> list[str]:
    """Warn when two modules' plans would have the student studying for both at once."""
    spans = [
        (plan.module, min(e.start for e in plan.entries), max(e.finish for e in plan.entries))
        for plan in plans
        if plan.entries
    ]
    notes = []
    for index, (first, first_start, first_end) in enumerate(spans):
        for second, second_start, second_end in spans[index + 1 :]:
            if first_start < second_end and second_start < first_end:
                notes.append(
                    f"Your {first} and {second} plans overlap between"
                    f" {spoken(max(first_start, second_start))} and"
                    f" {spoken(min(first_end, second_end))}: speak to your tutor if studying for"
                    " both modules at once is too much"
                )
    return notes
