"""One timeline for every outstanding CPD course of a student, with a limit on courses at once.

List scheduling, earliest deadline first: courses in progress keep their real start and hold a
place until their planned finish; each course still to start begins on the first day, from
today on and never before the course planned ahead of it, on which fewer than ``slots`` courses
are running. A course runs from its start up to (not including) its finish day, so a course may
start on the day another finishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lti_tool.rules.checklist import Requirement
from lti_tool.rules.model import TimeRules
from lti_tool.rules.records import CompletionStatus as Status


@dataclass(frozen=True)
class Task:
    """One course to plan: its module, its place in the order and whether the deadline binds.

    ``rank`` orders the plan: the module's deadline (``date.max`` without one), then the
    module's place in the qualification, then the course's place in the module.
    """

    module: str
    item: Requirement
    rank: tuple[date, int, int]

    @property
    def in_progress(self) -> bool:
        return self.item.status is Status.IN_PROGRESS


@dataclass(frozen=True)
class Slot:
    """A planned course: start and finish day."""

    start: date
    finish: date


def schedule(
    tasks: list[Task], rules: TimeRules, today: date, slots: int, short: frozenset[str]
) -> dict[str, Slot]:
    """Dates for every task by course code: ``slots`` at once, the modules in ``short`` at the
    shortest course length and the others at the nominal one."""

    def length(task: Task) -> timedelta:
        short_one = task.module in short
        return timedelta(weeks=rules.course_weeks_min if short_one else rules.course_weeks_nominal)

    planned: dict[str, Slot] = {}
    # Courses in progress first: they hold their places whatever the order of the others.
    least = today + timedelta(weeks=rules.min_remaining_weeks)
    for task in tasks:
        if task.in_progress:
            begun = task.item.started_at or today
            planned[task.item.code] = Slot(begun, max(begun + length(task), least))
    finishes = [slot.finish for slot in planned.values()]
    cursor = today
    for task in sorted(tasks, key=lambda task: task.rank):
        if task.in_progress:
            continue
        busy = sorted(finish for finish in finishes if finish > cursor)
        if len(busy) >= slots:
            cursor = busy[len(busy) - slots]
        planned[task.item.code] = Slot(cursor, cursor + length(task))
        finishes.append(cursor + length(task))
    return planned


def overlapping(planned: dict[str, Slot], today: date) -> set[str]:
    """Codes of courses running on some day alongside another (from today on)."""
    spans = sorted((max(slot.start, today), slot.finish, code) for code, slot in planned.items())
    found: set[str] = set()
    for index, (start, finish, code) in enumerate(spans):
        for other_start, other_finish, other in spans[index + 1 :]:
            if other_start >= finish:
                break
            if start < other_finish and other_start < finish:
                found.update((code, other))
    return found
