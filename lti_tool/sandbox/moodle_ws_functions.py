"""The five Moodle web service functions the sandbox fake implements, answered from the
in-memory site (``LmsData``) as Moodle 4.5.6 answers them, access checks and errors included;
``moodle_ws.py`` serves them over HTTP.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from lti_tool.sandbox.demo_data import Activity, Course, LmsData
from lti_tool.sandbox.moodle_ws_protocol import (
    INVALID_PARAMETER,
    MOODLE_EXCEPTION,
    WsFault,
    parse_int,
)

VERSION = "2024100706"
READ_FUNCTIONS = (
    "core_webservice_get_site_info",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "core_completion_get_course_completion_status",
    "core_completion_get_activities_completion_status",
)
# Functions this Moodle knows but the fake does not implement: reachable only as "not in service".
OTHER_FUNCTIONS = ("core_user_get_users_by_field", "core_enrol_get_enrolled_users")
_CM = {"cmid", "modname", "instance", "tracking"}  # in statuses[], not in completiondata
_REQUIREMENT = {
    "manual": "Marking yourself complete",
    "passgrade": "Achieving grade, Achieving passing grade",
    "view": "Viewing",
}
NO_COURSE = (
    "dml_missing_record_exception",
    "invalidrecord",
    "Can't find data record in database table course.",
)


@dataclass(frozen=True)
class WsToken:
    """A token: its user, the functions of its service, and whether it may read others."""

    user_id: int
    functions: tuple[str, ...] = READ_FUNCTIONS
    can_view_others: bool = True


def find_course(data: LmsData, value: Any) -> Course:
    """The course whose id is ``value``, else Moodle's missing record fault."""
    course = data.courses.get(parse_int(value))
    if course is None:
        raise WsFault(*NO_COURSE)
    return course


def site_info(data: LmsData, token: WsToken, site_url: str) -> dict[str, Any]:
    """``core_webservice_get_site_info``: the token's user and the functions it may call."""
    user = data.users[token.user_id]
    return {
        "sitename": data.site_name,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": f"{user.firstname} {user.lastname}",
        "lang": "en",
        "userid": token.user_id,
        "siteurl": site_url,
        "functions": [{"name": name, "version": VERSION} for name in token.functions],
        "release": "4.5.6 (Build: 20250811)",
        "version": VERSION,
        "advancedfeatures": [{"name": "enablecompletion", "value": 1}],
        "siteid": 1,
        "userissiteadmin": token.can_view_others,
    }


def courses_by_field(data: LmsData, params: dict[str, Any]) -> list[dict[str, Any]]:
    """``core_course_get_courses_by_field``: the courses matching ``field``/``value``."""
    name, value = str(params.get("field", "")), str(params.get("value", ""))
    courses = sorted(data.courses.values(), key=lambda c: c.id)
    if name == "":
        chosen = courses
    elif name in ("id", "category"):
        number = parse_int(value)
        chosen = [c for c in courses if (c.id if name == "id" else c.category) == number]
    elif name == "ids":
        wanted = {parse_int(part) for part in value.split(",")}
        chosen = [c for c in courses if c.id in wanted]
    elif name in ("shortname", "idnumber"):
        chosen = [c for c in courses if getattr(c, name) == value]
    else:
        raise WsFault(*INVALID_PARAMETER)
    return [_course_json(course) for course in chosen]


def _course_json(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "fullname": course.fullname,
        "displayname": course.fullname,
        "shortname": course.shortname,
        "categoryid": course.category,
        "categoryname": "Clinical leadership" if course.category else "",
        "summary": "",
        "summaryformat": 1,
        "idnumber": course.idnumber,
        "format": "topics" if course.category else "site",
        "startdate": 1767225600,
        "enddate": 0,
        "visible": 1,
        "enablecompletion": int(course.completion_enabled),
        "showcompletionconditions": True,
    }


def contents(data: LmsData, token: WsToken, course: Course, site_url: str) -> list[dict[str, Any]]:
    """``core_course_get_contents``: sections, modules and the token user's completion."""
    sections = []
    for number, name in ((0, "General"), (1, "New section")):
        modules = []
        for activity in (a for a in course.activities if a.section == number):
            module: dict[str, Any] = {
                "id": activity.cmid,
                "url": f"{site_url}/mod/{activity.modname}/view.php?id={activity.cmid}",
                "name": activity.name,
                "instance": activity.instance,
                "visible": 1,
                "uservisible": True,
                "modname": activity.modname,
                "completion": activity.tracking,
            }
            if activity.tracking:
                status = _status(data, activity, token.user_id, token.user_id in course.students)
                module["completiondata"] = {k: v for k, v in status.items() if k not in _CM}
            modules.append(module)
        sections.append(
            {"id": course.id * 10 + number, "name": name, "section": number, "modules": modules}
        )
    return sections


def course_completion(
    data: LmsData, token: WsToken, course: Course, user_id: int, site_url: str
) -> dict[str, Any]:
    """``core_completion_get_course_completion_status`` for ``user_id``."""
    if not course.completion_enabled or (user_id != token.user_id and not token.can_view_others):
        raise WsFault(MOODLE_EXCEPTION, "cannotviewreport", "You cannot view this report")
    if user_id not in course.students:
        if user_id == token.user_id:
            raise WsFault(MOODLE_EXCEPTION, "notenroled", "You are not enrolled in this course")
        raise WsFault(MOODLE_EXCEPTION, "usernotenroled", "User is not enrolled in this course")
    if not course.criteria:
        raise WsFault(
            MOODLE_EXCEPTION, "nocriteriaset", "No completion criteria set for this course"
        )
    rows = []
    for activity in (a for a in course.activities if a.cmid in course.criteria):
        state, stamp = data.state(user_id, activity.cmid)
        complete = state in (1, 2)
        link = f"{site_url}/mod/{activity.modname}/view.php?id={activity.cmid}"
        details = {
            "type": "Activity completion",
            "criteria": f'<a href="{link}">{html.escape(activity.name)}</a>',
            "requirement": _REQUIREMENT[activity.rule],
            "status": "",
        }
        rows.append(
            {
                "type": 4,
                "title": "Activity completion",
                "status": "Yes" if complete else "No",
                "complete": complete,
                "timecompleted": stamp if complete else None,
                "details": details,
            }
        )
    done = all(row["complete"] for row in rows)
    return {
        "completionstatus": {"completed": done, "aggregation": 1, "completions": rows},
        "warnings": [],
    }


def activities_completion(
    data: LmsData, token: WsToken, course: Course, user_id: int
) -> dict[str, Any]:
    """``core_completion_get_activities_completion_status`` for ``user_id``."""
    if user_id != token.user_id and not token.can_view_others:
        raise WsFault(
            "core\\exception\\required_capability_exception",
            "nopermissions",
            "Sorry, but you do not currently have permission to do that "
            "(View activity completion reports).",
        )
    tracked = user_id in course.students
    statuses = [
        _status(data, activity, user_id, tracked)
        for activity in course.activities
        if activity.tracking
    ]
    return {"statuses": statuses, "warnings": []}


def _status(data: LmsData, activity: Activity, user_id: int, tracked: bool) -> dict[str, Any]:
    state, stamp = data.state(user_id, activity.cmid) if tracked else (0, 0)
    rules: list[dict[str, Any]] = []
    if activity.rule == "passgrade":
        graded, passed = int(state in (1, 2, 3)), {2: 1, 3: 3}.get(state, 0)
        rules = [
            _rule("completionusegrade", graded, "Receive a grade"),
            _rule("completionpassgrade", passed, "Receive a passing grade"),
        ]
    elif activity.rule == "view":
        rules = [_rule("completionview", int(state == 1), "View")]
    return {
        "cmid": activity.cmid,
        "modname": activity.modname,
        "instance": activity.instance,
        "state": state,
        "timecompleted": stamp,
        "tracking": activity.tracking,
        "overrideby": None,
        "valueused": False,
        "hascompletion": True,
        "isautomatic": activity.tracking == 2,
        "istrackeduser": tracked,
        "uservisible": True,
        "details": rules,
        "isoverallcomplete": state in (1, 2),
    }


def _rule(name: str, status: int, description: str) -> dict[str, Any]:
    return {"rulename": name, "rulevalue": {"status": status, "description": description}}
