"""The sandbox LMS's Moodle web services: an honest fake of ``/webservice/rest/server.php``.

Five functions over an in-memory site (``LmsData``), checking what they receive as
Moodle 4.5.6 does and answering as it does — errors included: HTTP 200 with
``{exception, errorcode, message}``, namespaced exception names, XML unless
``moodlewsrestformat=json`` (copied from ``fixtures/moodle-4.5.6/ws-*``). Tests steer it through
``MoodleWsFake``: ``latency`` (seconds per call), ``fail_next`` (HTTP statuses), ``raise_next``
(Moodle exceptions such as ``dml_read_exception``), ``tokens`` (each with its user, its service's
functions and whether it may read others' completion), ``service_enabled``, and a call log
(``calls``, ``calls_to``, ``call_count``) with the peak concurrency (``max_in_flight``).
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections import deque
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, request

from lti_tool.sandbox.demo_data import ADMIN, Activity, Course, LmsData

REST_PATH = "/webservice/rest/server.php"
VERSION = "2024100706"
MOODLE_EXCEPTION = "core\\exception\\moodle_exception"
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
_RESERVED = {"wstoken", "wsfunction", "moodlewsrestformat", "moodlewssettingfilter"}
_REQUIREMENT = {
    "manual": "Marking yourself complete",
    "passgrade": "Achieving grade, Achieving passing grade",
    "view": "Viewing",
}


@dataclass(frozen=True)
class WsToken:
    """A token: its user, the functions of its service, and whether it may read others."""

    user_id: int
    functions: tuple[str, ...] = READ_FUNCTIONS
    can_view_others: bool = True


SANDBOX_TOKEN = "sandbox-moodle-token"  # noqa: S105 - the sandbox's published demo token


class WsFault(Exception):
    """A Moodle error answer: ``{exception, errorcode, message}``."""

    def __init__(self, exception: str, errorcode: str, message: str) -> None:
        super().__init__(message)
        self.body = {"exception": exception, "errorcode": errorcode, "message": message}


INVALID_PARAMETER = (
    "core\\exception\\invalid_parameter_exception",
    "invalidparameter",
    "Invalid parameter value detected",
)
NO_COURSE = (
    "dml_missing_record_exception",
    "invalidrecord",
    "Can't find data record in database table course.",
)
DML_READ = ("dml_read_exception", "dmlreadexception", "Error reading from database")


class MoodleWsFake:
    """The fake's data and controls; thread-safe (the sandbox server is threaded)."""

    def __init__(
        self, data: LmsData, tokens: dict[str, WsToken] | None = None, latency: float = 0.0
    ) -> None:
        self.data = data
        self.tokens = tokens if tokens is not None else {SANDBOX_TOKEN: WsToken(ADMIN)}
        self.service_enabled = True
        self.latency = latency
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.max_in_flight = 0
        self._faults: deque[int | tuple[str, str, str]] = deque()
        self._in_flight = 0
        self._lock = threading.Lock()

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """The next ``count`` calls answer HTTP ``status`` with an HTML page."""
        with self._lock:
            self._faults.extend([status] * count)

    def raise_next(self, count: int = 1, error: tuple[str, str, str] = DML_READ) -> None:
        """The next ``count`` calls answer a Moodle error ``(exception, errorcode, message)``."""
        with self._lock:
            self._faults.extend([error] * count)

    def reset_faults(self) -> None:
        """Forget injected failures and latency."""
        with self._lock:
            self._faults.clear()
        self.latency = 0.0

    def calls_to(self, function: str) -> int:
        """How many calls named ``function`` arrived (failed ones included)."""
        with self._lock:
            return sum(1 for name, _ in self.calls if name == function)

    @property
    def call_count(self) -> int:
        """How many calls arrived in all."""
        with self._lock:
            return len(self.calls)

    def handle(self) -> Response:
        """Answer the current request as Moodle's REST server would."""
        values = {**request.args.to_dict(), **request.form.to_dict()}
        fmt = values.get("moodlewsrestformat", "xml")
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            fault = self._faults.popleft() if self._faults else None
            params = {k: v for k, v in values.items() if k != "wstoken"}
            self.calls.append((values.get("wsfunction", ""), params))
        try:
            time.sleep(self.latency)
            if isinstance(fault, int):
                page = f"<html><head><title>{fault} Error</title></head><body></body></html>"
                return Response(page, status=fault, mimetype="text/html")
            if fault is not None:
                raise WsFault(*fault)
            site_url = request.base_url.removesuffix(REST_PATH)
            return _answer(fmt, self._dispatch(values, site_url))
        except WsFault as exc:
            return _answer(fmt, exc.body, error=True)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _dispatch(self, values: dict[str, str], site_url: str) -> Any:
        data = self.data
        token = self.tokens.get(values.get("wstoken", ""))
        if token is None:
            raise WsFault(MOODLE_EXCEPTION, "invalidtoken", "Invalid token - token not found")
        if not self.service_enabled:
            raise WsFault(
                MOODLE_EXCEPTION,
                "servicenotavailable",
                "Web service is not available (it doesn't exist or might be disabled)",
            )
        function = values.get("wsfunction", "")
        if function not in READ_FUNCTIONS + OTHER_FUNCTIONS:
            raise WsFault(
                "dml_missing_record_exception",
                "invalidrecord",
                "Can't find data record in database table external_functions.",
            )
        if function not in token.functions:
            raise WsFault(
                "webservice_access_exception", "accessexception", "Access control exception"
            )
        params = _nested({k: v for k, v in values.items() if k not in _RESERVED})
        if function == "core_webservice_get_site_info":
            _check(params, optional={"serviceshortnames"})
            return _site_info(data, token, site_url)
        if function == "core_course_get_courses_by_field":
            _check(params, optional={"field", "value"})
            return {"courses": _courses_by_field(data, params), "warnings": []}
        if function == "core_course_get_contents":
            _check(params, required={"courseid"}, optional={"options"})
            return _contents(data, token, _course(data, params["courseid"]), site_url)
        _check(params, required={"courseid", "userid"})
        course = _course(data, params["courseid"])
        user_id = _int(params["userid"])
        if user_id not in data.users:
            raise WsFault("dml_missing_record_exception", "invaliduser", "Invalid user")
        if function == "core_completion_get_course_completion_status":
            return _course_completion(data, token, course, user_id, site_url)
        return _activities_completion(data, token, course, user_id)


def register_moodle_ws(
    app: Flask,
    data: LmsData,
    *,
    tokens: dict[str, WsToken] | None = None,
    url_prefix: str = "/moodle",
    latency: float = 0.0,
) -> MoodleWsFake:
    """Serve the fake at ``{url_prefix}/webservice/rest/server.php``; returns its controls.

    Without ``tokens``, ``SANDBOX_TOKEN`` belongs to the admin with all five functions.
    """
    fake = MoodleWsFake(data, tokens, latency)
    blueprint = Blueprint("moodle_ws", __name__)
    blueprint.add_url_rule(REST_PATH, "server", fake.handle, methods=["GET", "POST"])
    app.register_blueprint(blueprint, url_prefix=url_prefix)
    app.extensions["moodle_ws"] = fake
    return fake


def _nested(flat: dict[str, str]) -> dict[str, Any]:
    """PHP's reading of ``a[0][b]=…`` form fields into nested dicts."""
    params: dict[str, Any] = {}
    for key, value in flat.items():
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if match is None:
            raise WsFault(*INVALID_PARAMETER)
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = params
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise WsFault(*INVALID_PARAMETER)
        node[path[-1]] = value
    return params


def _check(
    params: dict[str, Any],
    required: AbstractSet[str] = frozenset(),
    optional: AbstractSet[str] = frozenset(),
) -> None:
    """Moodle's parameter validation: all required, nothing unexpected, scalars where due."""
    if not required <= params.keys() or not params.keys() <= required | optional:
        raise WsFault(*INVALID_PARAMETER)
    for name in required:
        if isinstance(params[name], dict):
            raise WsFault(*INVALID_PARAMETER)


def _int(value: Any) -> int:
    if not isinstance(value, str) or re.fullmatch(r"-?\d+", value.strip()) is None:
        raise WsFault(*INVALID_PARAMETER)
    return int(value)


def _course(data: LmsData, value: Any) -> Course:
    course = data.courses.get(_int(value))
    if course is None:
        raise WsFault(*NO_COURSE)
    return course


def _site_info(data: LmsData, token: WsToken, site_url: str) -> dict[str, Any]:
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


def _courses_by_field(data: LmsData, params: dict[str, Any]) -> list[dict[str, Any]]:
    name, value = str(params.get("field", "")), str(params.get("value", ""))
    courses = sorted(data.courses.values(), key=lambda c: c.id)
    if name == "":
        chosen = courses
    elif name in ("id", "category"):
        number = _int(value)
        chosen = [c for c in courses if (c.id if name == "id" else c.category) == number]
    elif name == "ids":
        wanted = {_int(part) for part in value.split(",")}
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


def _contents(data: LmsData, token: WsToken, course: Course, site_url: str) -> list[dict[str, Any]]:
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


def _course_completion(
    data: LmsData, token: WsToken, course: Course, user_id: int, site_url: str
) -> dict[str, Any]:
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


def _activities_completion(
    data: LmsData, token: WsToken, course: Course, user_id: int
) -> dict[str, Any]:
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


def _answer(fmt: str, body: Any, error: bool = False) -> Response:
    if fmt == "json":
        # PHP's json_encode escapes slashes; keep the bytes Moodle sends.
        text = json.dumps(body, separators=(",", ":")).replace("/", "\\/")
        return Response(text, mimetype="application/json")
    if error:
        text = (
            f'<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="{body["exception"]}">\n'
            f"<ERRORCODE>{body['errorcode']}</ERRORCODE>\n<MESSAGE>{html.escape(body['message'])}"
            "</MESSAGE>\n</EXCEPTION>\n"
        )
    else:
        text = f'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n{_xml(body)}</RESPONSE>\n'
    response = Response(text, content_type="application/xml; charset=utf-8")
    response.headers["Content-Disposition"] = 'inline; filename="response.xml"'
    return response


def _xml(value: Any) -> str:
    """Moodle's REST XML (webservice_rest_server::xmlize_result)."""
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, dict):
        keys = "".join(f'<KEY name="{k}">{_xml(v)}</KEY>\n' for k, v in value.items())
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(_xml(v) for v in value) + "</MULTIPLE>\n"
    text = str(int(value)) if isinstance(value, bool) else str(value)
    return f"<VALUE>{html.escape(text, quote=False)}</VALUE>\n"
