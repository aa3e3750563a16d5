"""Moodle web-service answers (REST, JSON) turned into typed records and ``Completion``s.

Shapes follow what Moodle 4.5.6 really sends (``/work/shared/fixtures/moodle-4.5.6/ws-*``):
errors come as HTTP 200 with ``{exception, errorcode, message}`` and namespaced exception names;
course completion has no course-level date; activity ``details`` may say 0 for every rule even
when the activity is complete, so they are only used to notice partial progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from lti_tool.lms.source import SourceError
from lti_tool.rules.records import Completion, CompletionStatus

# Activity completion states (lib/completionlib.php COMPLETION_*).
INCOMPLETE, COMPLETE, COMPLETE_PASS, COMPLETE_FAIL = 0, 1, 2, 3

# Database trouble on the Moodle side: worth a retry. dml_missing_record_exception is not here:
# it means "no such course/user/function", which retrying will not change.
_TRANSIENT_EXCEPTIONS = frozenset(
    {
        "dml_read_exception",
        "dml_write_exception",
        "dml_connection_exception",
        "dml_transaction_exception",
        "dml_sessionwait_exception",
    }
)
_TRANSIENT_CODES = frozenset(
    {"dmlreadexception", "dmlwriteexception", "dbconnectionfailed", "sitemaintenance"}
)


class MoodleFormatError(SourceError):
    """Moodle answered with a shape we do not understand."""


class MoodleWsError(SourceError):
    """An error object from Moodle: ``{exception, errorcode, message}``."""

    def __init__(self, exception: str, errorcode: str, ws_message: str) -> None:
        super().__init__(f"Moodle error {errorcode} ({exception}): {ws_message}")
        self.exception = exception
        self.errorcode = errorcode
        self.ws_message = ws_message

    @property
    def exception_name(self) -> str:
        """The exception class without its namespace (``core\\exception\\moodle_exception``)."""
        return self.exception.rsplit("\\", 1)[-1]

    @property
    def transient(self) -> bool:
        """Whether another try may succeed (database errors, maintenance mode)."""
        return self.exception_name in _TRANSIENT_EXCEPTIONS or self.errorcode in _TRANSIENT_CODES


def moodle_error(body: object) -> MoodleWsError | None:
    """The error in a decoded answer, or ``None`` when it is a normal answer."""
    if isinstance(body, Mapping) and "exception" in body and "errorcode" in body:
        return MoodleWsError(
            str(body.get("exception", "")),
            str(body.get("errorcode", "")),
            str(body.get("message", "")),
        )
    return None


def to_date(timestamp: object, tz: tzinfo) -> date | None:
    """A Moodle Unix timestamp (seconds) as a date in ``tz``; 0 and null mean "none"."""
    if timestamp is None or isinstance(timestamp, bool) or not isinstance(timestamp, int | str):
        return None
    seconds = int(timestamp)
    if seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC).astimezone(tz).date()


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
    status = _mapping(_mapping(body, "answer").get("completionstatus"), "completionstatus")
    criteria = tuple(
        CriterionStatus(
            type=_int(row.get("type")),
            title=str(row.get("title", "")),
            complete=bool(row.get("complete")),
            timecompleted=_int(row["timecompleted"]) if row.get("timecompleted") else None,
        )
        for row in (_mapping(item, "completion") for item in _list(status.get("completions")))
    )
    return CourseCompletionStatus(
        completed=bool(status.get("completed")),
        aggregation=_int(status.get("aggregation", 1)),
        criteria=criteria,
    )


@dataclass(frozen=True)
class ActivityStatus:
    """One activity's completion for one user (``statuses[]`` item)."""

    cmid: int
    modname: str
    state: int
    timecompleted: int
    tracking: int
    tracked_user: bool
    rule_statuses: tuple[int, ...] = ()


def parse_activities_completion(body: object) -> list[ActivityStatus]:
    """Parse ``{statuses: [{cmid, modname, state, timecompleted, tracking, …}], warnings}``."""
    statuses = []
    for item in _list(_mapping(body, "answer").get("statuses")):
        row = _mapping(item, "status")
        rules = tuple(
            _int(_mapping(rule, "rule").get("rulevalue", {}).get("status", 0))
            for rule in _list(row.get("details", []))
        )
        statuses.append(
            ActivityStatus(
                cmid=_int(row.get("cmid")),
                modname=str(row.get("modname", "")),
                state=_int(row.get("state")),
                timecompleted=_int(row.get("timecompleted") or 0),
                tracking=_int(row.get("tracking", 0)),
                # Moodle before 4.0 does not send istrackeduser; a status then means tracked.
                tracked_user=bool(row.get("istrackeduser", True)),
                rule_statuses=rules,
            )
        )
    return statuses


@dataclass(frozen=True)
class MoodleCourse:
    """A course from ``core_course_get_courses_by_field``."""

    id: int
    shortname: str
    idnumber: str
    fullname: str
    completion_enabled: bool


def parse_courses(body: object) -> list[MoodleCourse]:
    """Parse ``{courses: [...], warnings}``."""
    return [
        MoodleCourse(
            id=_int(row.get("id")),
            shortname=str(row.get("shortname", "")),
            idnumber=str(row.get("idnumber") or ""),
            fullname=str(row.get("fullname", "")),
            completion_enabled=bool(row.get("enablecompletion")),
        )
        for row in (
            _mapping(item, "course") for item in _list(_mapping(body, "answer").get("courses"))
        )
    ]


@dataclass(frozen=True)
class MoodleModule:
    """An activity from ``core_course_get_contents`` (``completion``: 0 none, 1 manual, 2 auto)."""

    cmid: int
    name: str
    modname: str
    section: int
    completion: int


def parse_contents(body: object) -> list[MoodleModule]:
    """Parse the list of sections, each with ``modules``, into a flat list of activities."""
    modules = []
    for item in _list(body):
        section = _mapping(item, "section")
        for entry in _list(section.get("modules", [])):
            module = _mapping(entry, "module")
            modules.append(
                MoodleModule(
                    cmid=_int(module.get("id")),
                    name=str(module.get("name", "")),
                    modname=str(module.get("modname", "")),
                    section=_int(section.get("section", 0)),
                    completion=_int(module.get("completion", 0)),
                )
            )
    return modules


@dataclass(frozen=True)
class SiteInfo:
    """Who the token belongs to and which functions its service allows."""

    site_name: str
    site_url: str
    user_id: int
    release: str
    functions: frozenset[str]


def parse_site_info(body: object) -> SiteInfo:
    """Parse ``core_webservice_get_site_info``."""
    info = _mapping(body, "answer")
    return SiteInfo(
        site_name=str(info.get("sitename", "")),
        site_url=str(info.get("siteurl", "")),
        user_id=_int(info.get("userid")),
        release=str(info.get("release", "")),
        functions=frozenset(
            str(_mapping(f, "function").get("name", "")) for f in _list(info.get("functions", []))
        ),
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


def activity_record(code: str, status: ActivityStatus, tz: tzinfo, source: str) -> Completion:
    """Activity mode: one activity (cmid) is the CPD course.

    1 (complete) and 2 (complete-pass) → completed on ``timecompleted``. 3 (complete-fail) →
    in progress since that date: attempted, not passed. 0 → in progress when Moodle still
    holds evidence of work: a completion record with a date (viewed, or ticked then unticked)
    or a rule of the activity already met; otherwise not started. A user Moodle does not track
    (not enrolled) → not started.
    """
    when = to_date(status.timecompleted, tz)
    if not status.tracked_user:
        return Completion(code, CompletionStatus.NOT_STARTED, source=source)
    if status.state in (COMPLETE, COMPLETE_PASS):
        return Completion(code, CompletionStatus.COMPLETED, when, when, source)
    if status.state == COMPLETE_FAIL or when is not None or any(status.rule_statuses):
        return Completion(code, CompletionStatus.IN_PROGRESS, when, None, source)
    return Completion(code, CompletionStatus.NOT_STARTED, source=source)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MoodleFormatError(f"Moodle sent an unexpected {what}: expected an object")
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise MoodleFormatError("Moodle sent an unexpected answer: expected a list")
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MoodleFormatError(f"Moodle sent {value!r} where a number was expected")
    try:
        return int(value)
    except ValueError as exc:
        raise MoodleFormatError(f"Moodle sent {value!r} where a number was expected") from exc
