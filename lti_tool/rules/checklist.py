"""The engine's answer: frozen result types, each with a JSON-ready ``to_dict``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from lti_tool.rules.records import AssessmentOutcome, AssessmentResult, CompletionStatus
from lti_tool.rules.study_plan import StudyPlan


class RequirementKind(StrEnum):
    """Whether a course is always required or one of a "choose N" group."""

    COMPULSORY = "compulsory"
    OPTIONAL = "optional"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@dataclass(frozen=True)
class Requirement:
    """One CPD course of a module, as it stands for the student.

    ``deadline`` is set only for an outstanding course bound by the six-month rule; ``exempt``
    marks one the student started before the module start (still required, no deadline);
    ``late`` one completed after the module's deadline although bound by it (it still counts).
    """

    code: str
    title: str
    hours: int
    kind: RequirementKind
    counts: bool
    status: CompletionStatus
    started_at: date | None
    completed_at: date | None
    deadline: date | None
    at_risk: bool
    overdue: bool
    exempt: bool
    late: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; dates as ISO strings."""
        return {
            "code": self.code,
            "title": self.title,
            "hours": self.hours,
            "kind": self.kind.value,
            "counts": self.counts,
            "status": self.status.value,
            "started_at": _iso(self.started_at),
            "completed_at": _iso(self.completed_at),
            "deadline": _iso(self.deadline),
            "at_risk": self.at_risk,
            "overdue": self.overdue,
            "exempt": self.exempt,
            "late": self.late,
        }


@dataclass(frozen=True)
class ModuleProgress:
    """An assessment module: CPD hours, eligibility, assessment and credits."""

    code: str
    title: str
    credits: int
    credits_earned: int
    hours_required: int
    hours_completed: int
    cpd_complete: bool
    assessment: AssessmentResult | None
    start_date: date | None
    deadline: date | None
    requirements: tuple[Requirement, ...]
    # Courses still needed whose progress the LMS cannot track: hours and eligibility may be
    # more than shown until it can.
    unknown_courses: tuple[str, ...] = ()

    @property
    def fully_known(self) -> bool:
        """Whether every course the module still needs can be tracked."""
        return not self.unknown_courses

    @property
    def passed(self) -> bool:
        """Whether the module's assessment was recorded as passed."""
        return self.assessment is not None and self.assessment.outcome is AssessmentOutcome.PASS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; dates as ISO strings, ``assessment`` null while pending;
        ``fully_known`` false while a course it needs cannot be tracked (``unknown_courses``)."""
        return {
            "code": self.code,
            "title": self.title,
            "credits": self.credits,
            "credits_earned": self.credits_earned,
            "hours_required": self.hours_required,
            "hours_completed": self.hours_completed,
            "cpd_complete": self.cpd_complete,
            "assessment": self.assessment.to_dict() if self.assessment else None,
            "start_date": _iso(self.start_date),
            "deadline": _iso(self.deadline),
            "requirements": [requirement.to_dict() for requirement in self.requirements],
            "fully_known": self.fully_known,
            "unknown_courses": list(self.unknown_courses),
        }


@dataclass(frozen=True)
class QualificationProgress:
    """The qualification as a whole."""

    code: str
    title: str
    credits_required: int
    credits_earned: int
    complete: bool
    # Months from a module start to its CPD deadline (the qualification's own rule).
    deadline_months: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "code": self.code,
            "title": self.title,
            "credits_required": self.credits_required,
            "credits_earned": self.credits_earned,
            "complete": self.complete,
            "deadline_months": self.deadline_months,
        }


@dataclass(frozen=True)
class Checklist:
    """Everything a student needs to see, as of one day."""

    qualification: QualificationProgress
    modules: tuple[ModuleProgress, ...]
    next_steps: tuple[str, ...]
    unknown_codes: tuple[str, ...]
    as_of: date
    plan: StudyPlan
    # Facts the student cannot act on (a start date staff have not set yet), said quietly.
    notes: tuple[str, ...] = ()

    def module(self, code: str) -> ModuleProgress:
        """The progress of the module with this code (``KeyError`` when there is none)."""
        for module in self.modules:
            if module.code == code:
                return module
        raise KeyError(code)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API; ``plan`` lists the study plan's entries, ``notes`` the
        quiet notes."""
        return {
            "qualification": self.qualification.to_dict(),
            "modules": [module.to_dict() for module in self.modules],
            "next_steps": list(self.next_steps),
            "unknown_codes": list(self.unknown_codes),
            "as_of": self.as_of.isoformat(),
            "plan": [entry.to_dict() for entry in self.plan.entries],
            "plan_notes": list(self.plan.notes),
            "notes": list(self.notes),
        }
