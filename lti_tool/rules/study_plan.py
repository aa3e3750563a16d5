"""The planner's answer: proposed course dates per module, and plain-words notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class PlanEntry:
    """One CPD course to study: when to start and finish it.

    ``parallel`` marks a course studied at the same time as another; ``in_progress`` one the
    student has already started (its ``start`` is the real start date when known).
    """

    code: str
    title: str
    module: str
    start: date
    finish: date
    parallel: bool
    in_progress: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{code, title, module, start, finish, parallel, in_progress}``."""
        return {
            "code": self.code,
            "title": self.title,
            "module": self.module,
            "start": self.start.isoformat(),
            "finish": self.finish.isoformat(),
            "parallel": self.parallel,
            "in_progress": self.in_progress,
        }


@dataclass(frozen=True)
class ModulePlan:
    """The plan for one module's outstanding CPD courses.

    ``feasible`` is False when even the fastest plan misses ``deadline``; ``next_start`` is
    then the next assessment-module start the student could register for instead.
    """

    module: str
    deadline: date | None
    feasible: bool
    course_weeks: int
    entries: tuple[PlanEntry, ...]
    notes: tuple[str, ...]
    next_start: date | None = None


@dataclass(frozen=True)
class StudyPlan:
    """Plans for every module not yet passed, in qualification order."""

    as_of: date
    modules: tuple[ModulePlan, ...]
    notes: tuple[str, ...]

    @property
    def entries(self) -> tuple[PlanEntry, ...]:
        """Every module's entries, earliest start first."""
        ordered = [
            (entry.start, entry.finish, index, position, entry)
            for index, plan in enumerate(self.modules)
            for position, entry in enumerate(plan.entries)
        ]
        return tuple(item[-1] for item in sorted(ordered, key=lambda item: item[:4]))

    def module(self, code: str) -> ModulePlan:
        """The plan for the module with this code (``KeyError`` when there is none)."""
        for plan in self.modules:
            if plan.module == code:
                return plan
        raise KeyError(code)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the entries and the notes."""
        return {
            "as_of": self.as_of.isoformat(),
            "entries": [entry.to_dict() for entry in self.entries],
            "notes": list(self.notes),
        }
