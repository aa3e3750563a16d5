"""Moodle web-service answers (REST, JSON) turned into typed records: errors, courses, their
contents and site info, and the shape checks the completion parsers share (course completion
in ``course_completion``, activity completion in ``activity_completion``).

Shapes follow what Moodle 4.5.6 really sends (``tests/fixtures/moodle-4.5.6/ws-*``):
errors come as HTTP 200 with ``{exception, errorcode, message}`` and namespaced exception names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from lti_tool.lms.source import SourceError

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
            id=as_int(row.get("id")),
            shortname=str(row.get("shortname", "")),
            idnumber=str(row.get("idnumber") or ""),
            fullname=str(row.get("fullname", "")),
            completion_enabled=bool(row.get("enablecompletion")),
        )
        for row in (
            as_mapping(item, "course")
            for item in as_list(as_mapping(body, "answer").get("courses"))
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
    for item in as_list(body):
        section = as_mapping(item, "section")
        for entry in as_list(section.get("modules", [])):
            module = as_mapping(entry, "module")
            modules.append(
                MoodleModule(
                    cmid=as_int(module.get("id")),
                    name=str(module.get("name", "")),
                    modname=str(module.get("modname", "")),
                    section=as_int(section.get("section", 0)),
                    completion=as_int(module.get("completion", 0)),
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
    info = as_mapping(body, "answer")
    return SiteInfo(
        site_name=str(info.get("sitename", "")),
        site_url=str(info.get("siteurl", "")),
        user_id=as_int(info.get("userid")),
        release=str(info.get("release", "")),
        functions=frozenset(
            str(as_mapping(f, "function").get("name", ""))
            for f in as_list(info.get("functions", []))
        ),
    )


def as_mapping(value: object, what: str) -> Mapping[str, Any]:
    """``value`` if it is an object, else a ``MoodleFormatError`` naming ``what``."""
    if not isinstance(value, Mapping):
        raise MoodleFormatError(f"Moodle sent an unexpected {what}: expected an object")
    return value


def as_list(value: object) -> list[Any]:
    """``value`` if it is a list, else a ``MoodleFormatError``."""
    if not isinstance(value, list):
        raise MoodleFormatError("Moodle sent an unexpected answer: expected a list")
    return value


def as_int(value: object) -> int:
    """``value`` (a number or a numeric string) as an int, else a ``MoodleFormatError``."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MoodleFormatError(f"Moodle sent {value!r} where a number was expected")
    try:
        return int(value)
    except ValueError as exc:
        raise MoodleFormatError(f"Moodle sent {value!r} where a number was expected") from exc
