"""Moodle course completion (``core_completion_get_course_completion_status``): the answer
parsed, and turned into a ``Completion`` in course mode.

Moodle 4.5.6 gives no course-level completion date: the dates come from the criteria.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from lti_tool.lms.moodle.parsing import as_int, as_list, as_mapping, to_date
from lti_tool.rules.records import Completion, CompletionStatus


@dataclass(frozen=True)
class CriterionStatus:
    """One course completion criterion for one user."""

    type: int
    title: str
    complete: bool
    timecompleted: int | None


@dataclass(frozen=True)
class CourseCompletionStatus:
    """``core_completion_get_course_completion_status`` for one user and course."""

    completed: bool
    aggregation: int
    criteria: tuple[CriterionStatus, ...]


def parse_course_completion(body: object) -> CourseCompletionStatus:
    """Parse ``{completionstatus: {completed, aggregation, completions[…]}, warnings}``."""
    status = as_mapping(as_mapping(body, "answer").get("completionstatus"), "completionstatus")
    criteria = tuple(
        CriterionStatus(
            type=as_int(row.get("type")),
            title=str(row.get("title", "")),
            complete=bool(row.get("complete")),
            timecompleted=as_int(row["timecompleted"]) if row.get("timecompleted") else None,
        )
        for row in (as_mapping(item, "completion") for item in as_list(status.get("completions")))
    )
    return CourseCompletionStatus(
        completed=bool(status.get("completed")),
        aggregation=as_int(status.get("aggregation", 1)),
        criteria=criteria,
    )


def course_record(code: str, status: CourseCompletionStatus, tz: tzinfo, source: str) -> Completion:
    """Course mode: Moodle's ``completed`` flag decides; dates come from the criteria.

    There is no course-level completion date: ``completed_at`` is the latest criterion
    ``timecompleted``. ``started_at`` is the earliest one: the first recorded progress (the
    student began no later than that). Some criteria complete but not the course: in progress.
    """
    dates = sorted(
        d for c in status.criteria if c.complete and (d := to_date(c.timecompleted, tz)) is not None
    )
    if status.completed:
        kind = CompletionStatus.COMPLETED
    elif any(c.complete for c in status.criteria):
        kind = CompletionStatus.IN_PROGRESS
    else:
        return Completion(code, CompletionStatus.NOT_STARTED, source=source)
    return Completion(
        code,
        kind,
        started_at=dates[0] if dates else None,
        completed_at=dates[-1] if dates and kind is CompletionStatus.COMPLETED else None,
        source=source,
    )
