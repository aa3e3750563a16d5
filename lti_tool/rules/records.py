"""What the engine is told about a student: course completions and assessment results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class CompletionStatus(StrEnum):
    """Where a student is with one CPD course."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    # The LMS answered that it cannot tell (a Moodle course without completion criteria): the
    # student's progress is unknown, not missing, so it is neither counted nor planned.
    UNTRACKABLE = "untrackable"


class AssessmentOutcome(StrEnum):
    """A recorded assessment result; only ``pass`` earns the module's credits."""

    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    REFERRED = "referred"


# Each outcome as tutors choose it (the marking menus) and read it back.
OUTCOME_NAMES = {
    AssessmentOutcome.PASS.value: "Pass",
    AssessmentOutcome.FAIL.value: "Fail",
    AssessmentOutcome.REFERRED.value: "Referred",
}


@dataclass(frozen=True)
class Completion:
    """One source's word on one CPD course for one student.

    ``status`` also accepts its string value (as stored in a database) and is turned into
    a ``CompletionStatus``; anything else raises ``ValueError``.
    """

    course_code: str
    status: CompletionStatus
    started_at: date | None = None
    completed_at: date | None = None
    source: str = ""
    # False when the LMS answered "not (or no longer) enrolled": not started as far as that
    # answer goes, but it says nothing of work done while the student was enrolled, so it
    # never replaces a stored completion (``completion.refresh``). Not part of equality.
    enrolled: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", CompletionStatus(self.status))


@dataclass(frozen=True)
class AssessmentResult:
    """A recorded assessment result for a module; ``outcome`` also accepts its string value."""

    outcome: AssessmentOutcome
    score: float | None = None
    max_score: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", AssessmentOutcome(self.outcome))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: ``{outcome, score, max}``."""
        return {"outcome": self.outcome.value, "score": self.score, "max": self.max_score}
