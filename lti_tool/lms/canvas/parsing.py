"""Canvas REST answers turned into typed records and ``Completion``s.

Shapes from the Canvas API documentation (``courses/:id/users/:user_id/progress`` and
``courses/:id/modules`` with ``student_id`` and ``include[]=items``) and Canvas's source
(``CourseProgress#to_json``: a course without completion requirements answers
``{"error": {"message": "no progress available because this course is not module based…"}}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from lti_tool.lms.source import SourceError
from lti_tool.outbound.excerpt import excerpt
from lti_tool.rules.records import Completion, CompletionStatus


class CanvasFormatError(SourceError):
    """Canvas answered with a shape we do not understand."""


class CanvasApiError(SourceError):
    """A Canvas refusal: the HTTP status and the messages of its error body."""

    def __init__(self, status: int, messages: list[str], what: str) -> None:
        # Staff and admins see this: a short escaped excerpt (the raw messages stay for checks).
        text = excerpt("; ".join(messages)) or "no message"
        super().__init__(f"Canvas answered HTTP {status} to {what}: {text}")
        self.status = status
        self.messages = messages

    @property
    def no_progress(self) -> bool:
        """Canvas keeps no module progress here (no completion requirements, or not a student)."""
        return any("no progress available" in m.lower() for m in self.messages)


def error_messages(body: object) -> list[str]:
    """The messages of any Canvas error body (``errors`` list or object, ``error``, ``message``)."""
    found: list[str] = []
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list):
            found.extend(
                str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors
            )
        elif isinstance(errors, Mapping):
            found.extend(f"{key}: {value}" for key, value in errors.items())
        error = body.get("error")
        if isinstance(error, Mapping):
            found.append(str(error.get("message", error)))
        elif isinstance(error, str):
            found.append(error)
        if isinstance(body.get("message"), str):
            found.append(str(body["message"]))
    elif isinstance(body, str) and body.strip():
        found.append(body.strip()[:200])
    return found


def to_date(value: object, tz: tzinfo) -> date | None:
    """An ISO 8601 timestamp (Canvas sends UTC, ``…Z``) as a date in ``tz``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CanvasFormatError(f"Canvas sent {value!r} where a timestamp was expected") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).date()


@dataclass(frozen=True)
class CourseProgress:
    """``GET /api/v1/courses/:course_id/users/:user_id/progress``."""

    requirement_count: int
    requirement_completed_count: int
    completed_at: str | None
    next_requirement_url: str | None


def parse_progress(body: object) -> CourseProgress:
    """Parse a progress answer; an ``error`` body raises ``CanvasApiError`` (``no_progress``)."""
    data = _mapping(body, "progress")
    if "error" in data:
        raise CanvasApiError(200, error_messages(data), "the progress request")
    return CourseProgress(
        requirement_count=_int(data.get("requirement_count", 0)),
        requirement_completed_count=_int(data.get("requirement_completed_count", 0)),
        completed_at=_optional_str(data.get("completed_at")),
        next_requirement_url=_optional_str(data.get("next_requirement_url")),
    )


@dataclass(frozen=True)
class CanvasModule:
    """A module as a student sees it: ``state`` is locked, unlocked, started or completed.

    ``has_requirements`` is ``None`` when Canvas left the items out (large modules).
    """

    id: str
    name: str
    state: str | None
    completed_at: str | None
    has_requirements: bool | None


def parse_modules(body: object) -> list[CanvasModule]:
    """Parse one page of ``GET /api/v1/courses/:id/modules``."""
    if not isinstance(body, list):
        raise CanvasFormatError("Canvas sent an unexpected module list: expected a list")
    modules = []
    for item in body:
        module = _mapping(item, "module")
        items = module.get("items")
        modules.append(
            CanvasModule(
                id=str(module.get("id", "")),
                name=str(module.get("name", "")),
                state=_optional_str(module.get("state")),
                completed_at=_optional_str(module.get("completed_at")),
                has_requirements=(
                    any(isinstance(i, Mapping) and i.get("completion_requirement") for i in items)
                    if isinstance(items, list)
                    else None
                ),
            )
        )
    return modules


def progress_record(code: str, progress: CourseProgress, tz: tzinfo, source: str) -> Completion:
    """Course mode: ``completed_at`` (or every requirement met) → completed; some met → in
    progress; none → not started. Canvas gives no start date."""
    done = progress.completed_at is not None or (
        progress.requirement_count > 0
        and progress.requirement_completed_count >= progress.requirement_count
    )
    if done:
        finished = to_date(progress.completed_at, tz)
        return Completion(code, CompletionStatus.COMPLETED, None, finished, source)
    if progress.requirement_completed_count > 0:
        return Completion(code, CompletionStatus.IN_PROGRESS, source=source)
    return Completion(code, CompletionStatus.NOT_STARTED, source=source)


def module_record(code: str, module: CanvasModule, tz: tzinfo, source: str) -> Completion:
    """Module mode: ``completed`` → completed on ``completed_at``; ``started`` → in progress;
    ``unlocked``/``locked`` → not started."""
    if module.state == "completed":
        finished = to_date(module.completed_at, tz)
        return Completion(code, CompletionStatus.COMPLETED, None, finished, source)
    if module.state == "started":
        return Completion(code, CompletionStatus.IN_PROGRESS, source=source)
    return Completion(code, CompletionStatus.NOT_STARTED, source=source)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CanvasFormatError(f"Canvas sent an unexpected {what}: expected an object")
    return value


def _optional_str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CanvasFormatError(f"Canvas sent {value!r} where a number was expected")
    try:
        return int(value)
    except ValueError as exc:
        raise CanvasFormatError(f"Canvas sent {value!r} where a number was expected") from exc
