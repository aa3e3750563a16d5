"""Auto-discovery of CPD course mappings, shown to an admin for confirmation.

Moodle: courses whose shortname or idnumber equals the CPD code
(``core_course_get_courses_by_field``), or activities of one course whose name carries the
code (``core_course_get_contents``). Canvas: courses of the account (or, for a teacher's
token, the teacher's own) whose ``course_code`` is the code, or modules of one course whose
name carries it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lti_tool.lms.canvas.client import CanvasRestClient
from lti_tool.lms.canvas.parsing import CanvasApiError
from lti_tool.lms.moodle.client import MoodleWsClient
from lti_tool.lms.source import MappingMode


@dataclass(frozen=True)
class Proposal:
    code: str
    course_id: str
    activity_id: str | None
    label: str
    matched_by: str


@dataclass(frozen=True)
class Discovery:
    proposals: list[Proposal]
    missing: list[str]
    ambiguous: dict[str, list[str]]


def _code_in(code: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![A-Za-z0-9])", text, re.I) is not None


def _settle(codes: Sequence[str], found: dict[str, list[Proposal]]) -> Discovery:
    proposals: list[Proposal] = []
    ambiguous: dict[str, list[str]] = {}
    for code in codes:
        options = found.get(code, [])
        if len(options) == 1:
            proposals.append(options[0])
        elif len(options) > 1:
            ambiguous[code] = [f"{p.label} ({p.course_id}/{p.activity_id or '-'})" for p in options]
    missing = [code for code in codes if not found.get(code)]
    return Discovery(proposals, missing, ambiguous)


def discover_moodle(
    client: MoodleWsClient, codes: Sequence[str], mode: MappingMode, course_id: str | None = None
) -> Discovery:
    found: dict[str, list[Proposal]] = {}
    if mode is MappingMode.COURSE:
        for course in client.get_courses_by_field():
            for code in codes:
                how = (
                    "shortname"
                    if course.shortname.upper() == code.upper()
                    else "idnumber"
                    if course.idnumber.upper() == code.upper()
                    else None
                )
                if how:
                    found.setdefault(code, []).append(
                        Proposal(code, str(course.id), None, course.fullname, how)
                    )
        return _settle(codes, found)
    if course_id is None:
        raise ValueError("activity discovery needs the Moodle course that holds the activities")
    for module in client.get_course_contents(int(course_id)):
        _match_names(codes, found, course_id, str(module.cmid), module.name)
    return _settle(codes, found)


def discover_canvas(
    client: CanvasRestClient, codes: Sequence[str], mode: MappingMode, course_id: str | None = None
) -> Discovery:
    found: dict[str, list[Proposal]] = {}
    if mode is MappingMode.COURSE:
        for course in _canvas_courses(client):
            if not isinstance(course, dict):
                continue
            for code in codes:
                if str(course.get("course_code", "")).upper() == code.upper():
                    found.setdefault(code, []).append(
                        Proposal(
                            code,
                            str(course.get("id")),
                            None,
                            str(course.get("name")),
                            "course_code",
                        )
                    )
        return _settle(codes, found)
    if course_id is None:
        raise ValueError("module discovery needs the Canvas course that holds the modules")
    for module in client.get_all(f"/api/v1/courses/{course_id}/modules"):
        if isinstance(module, dict):
            _match_names(codes, found, course_id, str(module.get("id")), str(module.get("name")))
    return _settle(codes, found)


def _canvas_courses(client: CanvasRestClient) -> list[object]:
    """The published courses the token may see. An account admin's token (the README's advice)
    lists the root account's courses, sub-accounts included; ``/api/v1/courses`` is "List
    your courses", the token user's own enrolments, which for an admin are usually none. A
    teacher's token is refused the account list (401) and lists the courses it teaches."""
    available = {"state[]": ["available"]}
    try:
        return client.get_all("/api/v1/accounts/self/courses", available)
    except CanvasApiError as exc:
        if exc.status not in (401, 403, 404):
            raise
    return client.get_all("/api/v1/courses", available)


def _match_names(
    codes: Iterable[str],
    found: dict[str, list[Proposal]],
    course_id: str,
    item_id: str,
    name: str,
) -> None:
    for code in codes:
        if _code_in(code, name):
            found.setdefault(code, []).append(Proposal(code, course_id, item_id, name, "name"))
