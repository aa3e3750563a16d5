"""Next steps in plain English: at most three, the most urgent first, dated as the plan is.

Overdue courses make one step (who to speak to); a module whose deadline the plan cannot meet
makes one (the next start to register for); then assessment news; then the plan's next courses
to finish or start, on the plan's own dates. What the student cannot act on (a start date not
set yet) is a quiet note instead (``quiet_notes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from itertools import groupby

from lti_tool.rules.checklist import ModuleProgress, Requirement, RequirementKind
from lti_tool.rules.dates import month_rule, spoken
from lti_tool.rules.model import Qualification
from lti_tool.rules.records import AssessmentOutcome
from lti_tool.rules.records import CompletionStatus as Status
from lti_tool.rules.study_plan import ModulePlan, PlanEntry, StudyPlan

MAX_STEPS = 3


class Urgency(IntEnum):
    """Sort order of steps: a lower value comes first."""

    OVERDUE = 0
    LATE_PLAN = 1
    ASSESSMENT = 2
    PLANNED = 3


@dataclass(frozen=True, order=True)
class _Step:
    urgency: Urgency
    due: date
    order: int
    text: str


def next_steps(
    qualification: Qualification,
    modules: tuple[ModuleProgress, ...],
    today: date,
    plan: StudyPlan,
) -> tuple[str, ...]:
    """The student's next steps, at most ``MAX_STEPS`` (the checklist shows every course)."""
    if modules and all(module.passed for module in modules):
        return (
            f"You have passed every module: your {qualification.title}"
            f" ({qualification.credits_required} credits) is complete",
        )
    steps: list[_Step] = []

    def add(urgency: Urgency, due: date, text: str) -> None:
        steps.append(_Step(urgency, due, len(steps), text))

    open_modules = [module for module in modules if not module.passed]
    overdue = [r for m in open_modules for r in m.requirements if _outstanding_overdue(r)]
    late_plans = [module_plan for module_plan in plan.modules if not module_plan.feasible]
    covered = {code for module in open_modules for code in _overdue_modules(module)}
    if overdue:
        folded = [module_plan for module_plan in late_plans if module_plan.module in covered]
        add(Urgency.OVERDUE, today, _overdue_step(overdue, folded, _alternatives(modules, overdue)))
    for module_plan in late_plans:
        if module_plan.module not in covered and module_plan.next_start and module_plan.deadline:
            add(Urgency.LATE_PLAN, today, _late_plan_step(module_plan))
    for module in open_modules:
        text = _assessment_step(module)
        if text:
            add(Urgency.ASSESSMENT, today, text)
    skipped = {requirement.code for requirement in overdue}
    for due, text in _planned_steps(qualification, modules, plan, today, skipped):
        add(Urgency.PLANNED, due, text)
    return tuple(step.text for step in sorted(steps)[:MAX_STEPS])


def quiet_notes(modules: tuple[ModuleProgress, ...]) -> tuple[str, ...]:
    """Facts for the student that only staff can change: a module start not set yet, a course
    whose progress the LMS cannot track."""
    starts = [
        f"Your {module.code} start date is not set yet: CPD course deadlines will appear once it is"
        for module in modules
        if not module.passed and not module.cpd_complete and module.start_date is None
    ]
    unknown = [
        f"Your progress on {_names(list(module.unknown_courses))} can't be tracked yet, and your"
        f" tutor has been told: until it can, your {module.code} hours and eligibility may be"
        " more than shown here"
        for module in modules
        if module.unknown_courses
    ]
    return tuple(starts + unknown)


def _outstanding_overdue(requirement: Requirement) -> bool:
    return requirement.overdue and requirement.status is not Status.COMPLETED


def _overdue_modules(module: ModuleProgress) -> set[str]:
    return {module.code} if any(map(_outstanding_overdue, module.requirements)) else set()


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _alternatives(modules: tuple[ModuleProgress, ...], overdue: list[Requirement]) -> list[str]:
    """Optional courses that are neither done nor overdue but could be taken instead of an
    overdue optional one (the student chooses which of a group to do)."""
    late = {
        item.code
        for item in overdue
        if item.kind is RequirementKind.OPTIONAL and item.status is Status.NOT_STARTED
    }
    if not late:
        return []
    return [
        f"{item.code} {item.title}"
        for module in modules
        if late & {r.code for r in module.requirements}
        for item in module.requirements
        if item.kind is RequirementKind.OPTIONAL
        and item.code not in late
        and item.deadline is None
        and not item.exempt
        and item.status is Status.NOT_STARTED
        and not item.counts
    ]


def _overdue_step(
    overdue: list[Requirement], late_plans: list[ModulePlan], instead: Sequence[str] = ()
) -> str:
    names = _names([f"{item.code} {item.title}" for item in overdue])
    deadlines = _names(
        [spoken(day) for day in sorted({item.deadline for item in overdue if item.deadline})]
    )
    verb = "is" if len(overdue) == 1 else "are"
    other = f"; {_either(list(instead))} would do in its place" if instead else ""
    text = f"Speak to your tutor: {names} {verb} overdue (due by {deadlines}{other})"
    starts = [
        f"the next {plan.module} start on {spoken(plan.next_start)}"
        for plan in late_plans
        if plan.next_start
    ]
    if starts:
        text += f"; you could register for {_names(starts)} instead"
    return text


def _late_plan_step(plan: ModulePlan) -> str:
    assert plan.deadline is not None and plan.next_start is not None
    return (
        f"Speak to your tutor about registering for the next {plan.module} start on"
        f" {spoken(plan.next_start)}: your courses cannot all be finished by the"
        f" {spoken(plan.deadline)} deadline"
    )


def _assessment_step(module: ModuleProgress) -> str | None:
    outcome = module.assessment.outcome if module.assessment else None
    if outcome is AssessmentOutcome.FAIL:
        return (
            f"You did not pass the {module.code} assessment, so its {module.credits} credits are"
            " not awarded: speak to your tutor about taking the module again"
        )
    if outcome is AssessmentOutcome.REFERRED:
        return (
            f"Your {module.code} assessment was referred: resubmit it as your tutor advises to"
            f" earn its {module.credits} credits"
        )
    if module.cpd_complete:
        return (
            f"You have completed every CPD course for {module.code}: you are eligible for its"
            " assessment"
        )
    return None


def _planned_steps(
    qualification: Qualification,
    modules: tuple[ModuleProgress, ...],
    plan: StudyPlan,
    today: date,
    skipped: set[str],
) -> list[tuple[date, str]]:
    """The plan's courses as steps: those in progress (by finish), then those to start, the
    courses starting and finishing on the same days in one step."""
    by_code = {r.code: r for m in modules for r in m.requirements}
    entries = [entry for entry in plan.entries if entry.code not in skipped]
    rule = month_rule(qualification.time_rules.deadline_months)
    found: list[tuple[date, str]] = []
    for entry in sorted((e for e in entries if e.in_progress), key=lambda e: e.finish):
        # Plan dates pace the work (each course its weeks); the module's deadline, when its
        # start is set, is said apart: "aim to", so a target never reads as the deadline.
        text = f"Aim to finish {entry.code} {entry.title} by {spoken(entry.finish)}"
        if by_code[entry.code].exempt:
            text += (
                f": you started it before your {entry.module} start, so the {rule} deadline"
                " does not apply"
            )
        found.append((today, text))
    waiting = [entry for entry in entries if not entry.in_progress]
    for (start, finish), group in groupby(waiting, key=lambda e: (e.start, e.finish)):
        together = list(group)
        when = "now" if start <= today else f"on {spoken(start)}"
        names = _names([f"{entry.code} {entry.title}" for entry in together])
        text = f"Start {names} {when}, aiming to finish by {spoken(finish)}"
        others = _other_options(qualification, together, by_code, plan)
        if others:
            text += f" (instead of an optional course you may choose {_names(others)})"
        found.append((start, text))
    return found


def _other_options(
    qualification: Qualification,
    entries: list[PlanEntry],
    by_code: dict[str, Requirement],
    plan: StudyPlan,
) -> list[str]:
    """Optional courses not planned that could replace one of ``entries``."""
    planned = {entry.code for entry in plan.entries}
    others: list[str] = []
    for entry in entries:
        module = qualification.module(entry.module)
        for group in module.optional_groups:
            if entry.code in group.courses:
                others += [
                    code
                    for code in group.courses
                    if code not in planned
                    and code not in others
                    and by_code[code].status is Status.NOT_STARTED
                ]
    return others
