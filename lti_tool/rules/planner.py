"""One study plan across every unpassed module, meeting each six-month deadline where it can."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from lti_tool.rules.checklist import ModuleProgress, Requirement
from lti_tool.rules.dates import in_words, month_rule, next_start_after, spoken
from lti_tool.rules.model import Module, Qualification, TimeRules
from lti_tool.rules.progress import merge_completions, module_progress, optional_picks
from lti_tool.rules.records import AssessmentResult, Completion
from lti_tool.rules.records import CompletionStatus as Status
from lti_tool.rules.study_plan import ModulePlan, PlanEntry, StudyPlan
from lti_tool.rules.timeline import Slot, Task, overlapping, schedule


def plan_study(
    qualification: Qualification,
    completions: Iterable[Completion],
    module_starts: Mapping[str, date],
    today: date,
    assessments: Mapping[str, AssessmentResult] | None = None,
) -> StudyPlan:
    """Plan every unpassed module's outstanding CPD courses from ``today``, as one plan.

    Courses in progress keep their start and finish at the nominal length, never sooner than
    ``min_remaining_weeks`` from today; the others follow, earliest module deadline first
    (modules without a start date last), compulsory courses in file order, then as many
    optional ones as each group still needs. One course at a time at the nominal length when
    that meets every deadline, else as few at once across modules as meet them (two, then
    more, up to ``max_parallel_courses``; at each number the nominal length, then the
    shortest for the modules still late),
    shortening a late module's courses to the shortest length; a module still late is shown
    at its fastest with the next start to register for. Every course, even one planned
    before the module start (which the rule would exempt), is planned to finish by the
    deadline, so the plan holds whatever happens.
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
    rules = qualification.time_rules
    unpassed = [module for module in progress if not module.passed]
    tasks = [
        Task(module.code, item, (module.deadline or date.max, index, position))
        for index, module in enumerate(unpassed)
        for position, item in enumerate(_outstanding(qualification.module(module.code), module))
    ]
    attempt = _Attempt(tasks, unpassed, rules, today)
    alone = attempt.run(1, frozenset())
    planned, short, width = alone, frozenset[str](), 1
    # With a place for every course none waits, so more places change nothing: a huge
    # max_parallel_courses (a typo, or "no limit") is not tried number by number. Two at
    # least, as the shortest length is tried at one at a time only where the file allows
    # no more (max_parallel_courses = 1; the loader's fit check counts on it).
    widest = min(rules.max_parallel_courses, max(len(tasks), 2))
    if planned.missed and widest == 1:
        planned, short = attempt.shortened(1, planned)
    while planned.missed and width < widest:
        # As few courses at once as the deadlines allow, each at the nominal length if it
        # can be, else at the shortest: two at 8 weeks before three at 10 (fewer hours a week).
        width = width + 1
        planned, short = attempt.shortened(width, attempt.run(width, frozenset()))
    parallel = overlapping(planned.slots, today)
    plans = tuple(
        _module_plan(module, tasks, planned, alone.missed, short, parallel, rules, today, width)
        for module in unpassed
    )
    return StudyPlan(as_of=today, modules=plans, notes=tuple(n for p in plans for n in p.notes))


@dataclass(frozen=True)
class _Planned:
    slots: dict[str, Slot]
    missed: frozenset[str]


class _Attempt:
    """Runs the timeline for one limit on courses at once and one set of shortened modules."""

    def __init__(
        self, tasks: list[Task], modules: list[ModuleProgress], rules: TimeRules, today: date
    ) -> None:
        self.tasks, self.rules, self.today = tasks, rules, today
        self.deadlines = {module.code: module.deadline for module in modules}
        self.order = {module.code: index for index, module in enumerate(modules)}

    def deadline_rank(self, code: str) -> tuple[date, int]:
        return (self.deadlines[code] or date.max, self.order[code])

    def shortened(self, slots: int, planned: _Planned) -> tuple[_Planned, frozenset[str]]:
        """Shorten the courses of the first module (by deadline) still late, then look again
        (the modules planned after it may then fit at the nominal length), until none is."""
        short = frozenset[str]()
        while planned.missed - short:
            short = short | {min(planned.missed - short, key=self.deadline_rank)}
            planned = self.run(slots, short)
        return planned, short

    def run(self, slots: int, short: frozenset[str]) -> _Planned:
        planned = schedule(self.tasks, self.rules, self.today, slots, short)
        missed = frozenset(
            task.module
            for task in self.tasks
            if (deadline := self.deadlines[task.module]) is not None
            and not task.item.exempt
            and planned[task.item.code].finish > deadline
        )
        return _Planned(planned, missed)


def _module_plan(
    module: ModuleProgress,
    tasks: list[Task],
    planned: _Planned,
    needs_parallel: frozenset[str],
    short: frozenset[str],
    parallel: set[str],
    rules: TimeRules,
    today: date,
    width: int,
) -> ModulePlan:
    """One module's part of the plan; ``width`` is the most courses at once it was made with."""
    code, deadline = module.code, module.deadline
    weeks = rules.course_weeks_min if code in short else rules.course_weeks_nominal
    mine = sorted(
        (task for task in tasks if task.module == code),
        key=lambda task: (planned.slots[task.item.code].start, task.rank),
    )
    entries = tuple(
        PlanEntry(
            task.item.code,
            task.item.title,
            code,
            planned.slots[task.item.code].start,
            planned.slots[task.item.code].finish,
            task.item.code in parallel,
            task.in_progress,
        )
        for task in mine
    )
    if not entries:
        return ModulePlan(code, deadline, True, weeks, (), ())
    # At one course at a time the plan starts no two together: courses the student already
    # began at once may overlap, but "up to 1 courses at the same time" is no advice.
    together = width > 1 and any(entry.parallel for entry in entries)
    many = in_words(width)
    if deadline is None:
        how = (
            f"allows {weeks} weeks for each course, up to {many} at the same time where the plan"
            " says so"
            if together
            else f"takes one course at a time, {weeks} weeks each"
        )
        note = (
            f"Your {code} start date is not set yet, so there is no"
            f" {month_rule(rules.deadline_months)} deadline: this plan {how}"
        )
        return ModulePlan(code, None, True, weeks, entries, (note,))
    if code in planned.missed:
        # A qualification may ask for one course at a time (max_parallel_courses = 1).
        studying = f"{many} course{'' if width == 1 else 's'}"
        next_start = next_start_after(
            rules.module_start_dates, max(today, module.start_date or today)
        )
        note = (
            f"The {spoken(deadline)} deadline for {code} can no longer be met, even studying"
            f" {studying} at a time at the shortest length ({rules.course_weeks_min} weeks):"
            f" the dates shown are the earliest you could finish. You can register for the next"
            f" {code} start on {spoken(next_start)} instead: courses you start before then are"
            f" not bound by its {month_rule(rules.deadline_months)} deadline"
        )
        return ModulePlan(code, deadline, False, weeks, entries, (note,), next_start)
    # A course begun before the module start is not bound by the deadline: the note speaks of
    # the courses that are (a bound course that ran past it would have made the plan late).
    exempt = {task.item.code for task in mine if task.item.exempt}
    bound = [entry.finish for entry in entries if entry.code not in exempt]
    if bound:
        note = _feasible_note(
            code, deadline, max(bound), together, code in needs_parallel, code in short, weeks, many
        )
    else:
        names = " and ".join(entry.code for entry in entries)
        note = (
            f"You began {names} before your {code} start, so the {spoken(deadline)} deadline"
            f" does not apply to {'it' if len(entries) == 1 else 'them'}"
        )
    return ModulePlan(code, deadline, True, weeks, entries, (note,))


def _outstanding(module: Module, progress: ModuleProgress) -> list[Requirement]:
    """Courses to plan: compulsory ones in file order, then as many optional ones as needed
    (those in progress before those not started). A course the LMS cannot track is left out:
    it may be done already, so it is never planned as one to start."""
    by_code = {requirement.code: requirement for requirement in progress.requirements}
    # A course the LMS cannot track is neither done nor to start: its progress is unknown.
    wanted = [
        by_code[code]
        for code in module.compulsory
        if by_code[code].status not in (Status.COMPLETED, Status.UNTRACKABLE)
    ]
    for group in module.optional_groups:
        picks = optional_picks(
            group, lambda code: by_code[code].status, lambda code: by_code[code].started_at
        )
        wanted.extend(by_code[code] for code in picks)
    return wanted


def _feasible_note(
    code: str,
    deadline: date,
    finish: date,
    together: bool,
    needs_parallel: bool,
    short: bool,
    weeks: int,
    many: str,
) -> str:
    before = f"finishes on {spoken(finish)}, before the {spoken(deadline)} deadline"
    if not together and not short:
        return f"Your {code} plan takes one course at a time and {before}"
    if not short and not needs_parallel:
        together_words = f"up to {many} courses at the same time where the plan says so"
        return f"Your {code} plan {before}, with {together_words}"
    how = []
    if together:
        how.append(f"study up to {many} courses at the same time where the plan says so")
    if short:
        how.append(f"finish each course in the shortest time, {weeks} weeks")
    return f"To finish {code} by the {spoken(deadline)} deadline you need to " + " and ".join(how)
