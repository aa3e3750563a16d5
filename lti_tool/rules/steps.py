"""Next steps in plain English, most urgent first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum

from lti_tool.rules.checklist import ModuleProgress, Requirement
from lti_tool.rules.dates import spoken
from lti_tool.rules.model import Module, OptionalGroup, Qualification
from lti_tool.rules.records import AssessmentOutcome
from lti_tool.rules.records import CompletionStatus as Status
from lti_tool.rules.study_plan import StudyPlan


class Urgency(IntEnum):
    """Sort order of steps: a lower value comes first."""

    OVERDUE = 0
    AT_RISK = 1
    ASSESSMENT = 2
    DATED = 3
    UNDATED = 4


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
    plan: StudyPlan | None = None,
) -> tuple[str, ...]:
    """Steps for every module; overdue, then at risk, then assessments, then by date.

    With a ``plan``, a module whose deadline can no longer be met gets the plan's advice as an
    at-risk step, and one that needs courses in parallel or shortened says so before its dated
    steps: the per-course "start by" dates alone would not show either.
    """
    if modules and all(module.passed for module in modules):
        return (
            f"You have passed every module: your {qualification.title}"
            f" ({qualification.credits_required} credits) is complete",
        )
    steps: list[_Step] = []
    for progress in modules:
        writer = _ModuleSteps(qualification, progress, today, order=len(steps))
        steps.extend(writer.steps())
    for module_plan in plan.modules if plan else ():
        pressed = module_plan.course_weeks < qualification.time_rules.course_weeks_nominal or any(
            entry.parallel and not entry.in_progress for entry in module_plan.entries
        )
        if not module_plan.feasible or pressed:
            urgency = Urgency.DATED if module_plan.feasible else Urgency.AT_RISK
            steps.extend(_Step(urgency, today, len(steps), note) for note in module_plan.notes)
    return tuple(step.text for step in sorted(steps))


class _ModuleSteps:
    """Writes the steps of one module, numbering them so ties keep the file's order."""

    def __init__(
        self, qualification: Qualification, progress: ModuleProgress, today: date, order: int
    ) -> None:
        self.module: Module = qualification.module(progress.code)
        self.rules = qualification.time_rules
        self.progress = progress
        self.today = today
        self.order = order
        self.found: list[_Step] = []

    def add(self, urgency: Urgency, due: date | None, text: str) -> None:
        self.found.append(_Step(urgency, due or date.max, self.order + len(self.found), text))

    def steps(self) -> list[_Step]:
        progress, code = self.progress, self.progress.code
        if progress.passed:
            return []
        self.assessment_step()
        if progress.cpd_complete:
            return self.found
        if progress.start_date is None:
            self.add(
                Urgency.UNDATED,
                None,
                f"Your {code} start date is not set yet: CPD course deadlines will appear once"
                " it is",
            )
        requirements = {requirement.code: requirement for requirement in progress.requirements}
        for course in self.module.compulsory:
            self.course_step(requirements[course])
        for group in self.module.optional_groups:
            self.group_steps(group, [requirements[course] for course in group.courses])
        return self.found

    def assessment_step(self) -> None:
        progress, code = self.progress, self.progress.code
        outcome = progress.assessment.outcome if progress.assessment else None
        if outcome is AssessmentOutcome.FAIL:
            self.add(
                Urgency.ASSESSMENT,
                None,
                f"You did not pass the {code} assessment, so its {progress.credits} credits are"
                " not awarded: speak to your tutor about taking the module again",
            )
        elif outcome is AssessmentOutcome.REFERRED:
            self.add(
                Urgency.ASSESSMENT,
                None,
                f"Your {code} assessment was referred: resubmit it as your tutor advises to earn"
                f" its {progress.credits} credits",
            )
        elif progress.cpd_complete:
            self.add(
                Urgency.ASSESSMENT,
                None,
                f"You have completed every CPD course for {code}: you are eligible for its"
                " assessment",
            )

    def course_step(self, requirement: Requirement) -> None:
        name = f"{requirement.code} {requirement.title}"
        deadline = requirement.deadline
        if requirement.status is Status.COMPLETED:
            return
        if requirement.status is Status.IN_PROGRESS:
            self.finish_step(requirement, name)
        elif deadline is None:
            self.add(Urgency.UNDATED, None, f"Start {name}")
        elif requirement.overdue:
            self.add(
                Urgency.OVERDUE,
                deadline,
                f"{name} is overdue: it had to be finished by {spoken(deadline)}; speak to your"
                " tutor about your options",
            )
        elif requirement.at_risk:
            self.add(Urgency.AT_RISK, deadline, f"{name} is at risk: {self.too_late(deadline)}")
        else:
            start_by = self.start_by(deadline)
            when = "now" if start_by == self.today else f"by {spoken(start_by)}"
            self.add(
                Urgency.DATED,
                start_by,
                f"Start {name} {when} to finish before the {spoken(deadline)} deadline",
            )

    def finish_step(self, requirement: Requirement, name: str) -> None:
        deadline = requirement.deadline
        if requirement.exempt:
            self.add(
                Urgency.UNDATED,
                None,
                f"Finish {name}: you started it before your {self.progress.code} start, so the"
                " six-month deadline does not apply",
            )
        elif deadline is None:
            self.add(Urgency.UNDATED, None, f"Finish {name}")
        elif requirement.overdue:
            self.add(
                Urgency.OVERDUE,
                deadline,
                f"Finish {name} as soon as you can: it was due by {spoken(deadline)}; speak to"
                " your tutor about your options",
            )
        else:
            self.add(Urgency.DATED, deadline, f"Finish {name} by {spoken(deadline)}")

    def group_steps(self, group: OptionalGroup, members: list[Requirement]) -> None:
        done = sum(member.status is Status.COMPLETED for member in members)
        if done >= group.choose:
            return
        started = [member for member in members if member.status is Status.IN_PROGRESS]
        for member in started:
            self.finish_step(member, f"{member.code} {member.title}")
        still = group.choose - done - len(started)
        options = [member for member in members if member.status is Status.NOT_STARTED]
        if still <= 0 or not options:
            return
        more = " more" if done or started else ""
        plural = "s" if still > 1 else ""
        codes = ", ".join(option.code for option in options)
        text = f"Choose {still}{more} optional course{plural} from {codes}"
        deadline = options[0].deadline
        if deadline is None:
            self.add(Urgency.UNDATED, None, text)
        elif options[0].overdue:
            self.add(
                Urgency.OVERDUE,
                deadline,
                f"{text}: the {spoken(deadline)} deadline has passed; speak to your tutor about"
                " your options",
            )
        elif options[0].at_risk:
            self.add(Urgency.AT_RISK, deadline, f"{text}: {self.too_late(deadline)}")
        else:
            start_by = self.start_by(deadline)
            when = "now" if start_by == self.today else f"by {spoken(start_by)}"
            pronoun = "them" if still > 1 else "it"
            self.add(
                Urgency.DATED,
                start_by,
                f"{text}, and start {pronoun} {when} to finish before the {spoken(deadline)}"
                " deadline",
            )

    def start_by(self, deadline: date) -> date:
        """Latest start that lets even the longest course finish by the deadline."""
        return max(self.today, deadline - timedelta(weeks=self.rules.course_weeks_max))

    def too_late(self, deadline: date) -> str:
        days = (deadline - self.today).days
        if days == 0:
            left = f"the {spoken(deadline)} deadline is today"
        else:
            remain = "only 1 day remains" if days == 1 else f"only {days} days remain"
            left = f"{remain} before the {spoken(deadline)} deadline"
        return (
            f"{left}, less than the {self.rules.course_weeks_min} weeks even the shortest course"
            " takes; speak to your tutor now"
        )
