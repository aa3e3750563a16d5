"""The sandbox LMS's Canvas REST API: an honest fake of the progress and modules endpoints.

``GET /api/v1/courses/:id/users/:user_id/progress``, ``GET /api/v1/courses/:id/users/:user_id``
(a member; ``lti_1_3_id:<sub>`` names a user by their LTI sub, which in the sandbox is the
LMS user id, and ``lti_context_id:<id>`` a course by its LTI context id),
``GET /api/v1/courses/:id/modules``
(``student_id``, ``include[]=items``, ``per_page``/``page`` with Canvas-style ``Link`` headers),
``GET /api/v1/courses/:id`` and the course lists ``GET /api/v1/accounts/:id/courses`` and
``GET /api/v1/courses`` (``state[]``), over the shared sandbox data (``demo_data.LmsData``).
A module holds the activities whose ``module_id`` is its id; their completion rules become Canvas
requirements (must_mark_done, min_score, must_view). Checks the bearer token as Canvas does
(401 ``Invalid access token.``) and sends ``X-Rate-Limit-Remaining``/``X-Request-Cost``. Tests
steer it through ``CanvasRestFake``: ``latency``, ``throttle_next`` (429 with ``Retry-After``,
or the 403 "Rate Limit Exceeded" of older instances), ``fail_next`` (5xx), ``rate_limit_remaining``
and a call log with the peak concurrency.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from flask import Blueprint, Flask, Response, request

from lti_tool.sandbox.canvas_shapes import (
    course_json,
    iso,
    json_response,
    module_item,
    paged,
    site,
)
from lti_tool.sandbox.demo_data import COMPLETE, COMPLETE_PASS, Course, LmsData

SANDBOX_TOKEN = "sandbox-canvas-token"  # noqa: S105 - the sandbox's published demo token
NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}
UNAUTHORIZED = {
    "status": "unauthorized",
    "errors": [{"message": "user not authorized to perform that action"}],
}
NOT_MODULE_BASED = (
    "no progress available because this course is not module based (has modules and module "
    "completion requirements) or the user is not enrolled as a student in this course"
)


class CanvasRestFake:
    """The fake's controls; thread-safe (the sandbox server is threaded)."""

    def __init__(
        self, data: LmsData, tokens: frozenset[str] | None = None, latency: float = 0.0
    ) -> None:
        self.data = data
        self.tokens = tokens if tokens is not None else frozenset({SANDBOX_TOKEN})
        self.unauthorized_tokens: set[str] = set()  # valid, but may not read student progress
        self.latency = latency
        self.rate_limit_remaining = 700.0
        self.calls: list[str] = []
        self.max_in_flight = 0
        self._faults: deque[tuple[int, float | None]] = deque()
        self._in_flight = 0
        self._lock = threading.Lock()

    def throttle_next(
        self, count: int = 1, retry_after: float | None = 1.0, legacy_403: bool = False
    ) -> None:
        """The next ``count`` calls are throttled: 429 (or 403 "Rate Limit Exceeded")."""
        with self._lock:
            self._faults.extend([(403 if legacy_403 else 429, retry_after)] * count)

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """The next ``count`` calls answer HTTP ``status`` with an HTML page."""
        with self._lock:
            self._faults.extend([(status, None)] * count)

    def calls_to(self, suffix: str) -> int:
        """How many requests had a path ending with ``suffix`` (failed ones included)."""
        with self._lock:
            return sum(1 for path in self.calls if path.endswith(suffix))

    def serve(self, view: str, course_id: str, user_id: str = "") -> Response:
        """Answer one API request: faults, latency and the token check come first."""
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self.calls.append(request.path)
            fault = self._faults.popleft() if self._faults else None
        try:
            time.sleep(self.latency)
            response = self._answer(view, course_id, user_id, fault)
            response.headers["X-Rate-Limit-Remaining"] = f"{self.rate_limit_remaining:.1f}"
            response.headers["X-Request-Cost"] = "0.05"
            return response
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(
        self, view: str, course_id: str, user_id: str, fault: tuple[int, float | None] | None
    ) -> Response:
        if fault is not None:
            status, retry_after = fault
            if status in (403, 429):
                reason = "Forbidden" if status == 403 else "Too Many Requests"
                response = Response(f"{status} {reason} (Rate Limit Exceeded)\n", status=status)
                if retry_after is not None:
                    response.headers["Retry-After"] = f"{retry_after:g}"
                return response
            return Response("<html><body>Service unavailable</body></html>", status=status)
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.args.get("access_token")
        if not token:
            body = {
                "status": "unauthenticated",
                "errors": [{"message": "user authorization required"}],
            }
            return json_response(body, 401)
        if token not in self.tokens:
            response = json_response({"errors": [{"message": "Invalid access token."}]}, 401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="canvas-lms"'
            return response
        if view in ("account_courses", "my_courses"):
            return self._courses(view, course_id, token)
        if token in self.unauthorized_tokens and view not in ("course", "member"):
            return json_response(UNAUTHORIZED, 401)
        course = self._course(course_id)
        if course is None:
            return json_response(NOT_FOUND, 404)
        if view == "course":
            return json_response(course_json(course))
        if view == "member":
            return self._member(course, user_id)
        if view == "progress":
            return self._progress(course, user_id)
        return self._modules(course)

    def _course(self, course_id: str) -> Course | None:
        if course_id.startswith("lti_context_id:"):
            lti_id = course_id.removeprefix("lti_context_id:")
            found = [c for c in self.data.courses.values() if lti_id and c.lti_context_id == lti_id]
            return found[0] if found else None
        return self.data.courses.get(int(course_id)) if course_id.isdigit() else None

    def _member(self, course: Course, user_id: str) -> Response:
        """Canvas's "Get single user" of a course: its members only (404 for anyone else)."""
        ref = user_id.removeprefix("lti_1_3_id:")
        user = int(ref) if ref.isdigit() else 0
        if user not in course.students | course.other_roles or user not in self.data.users:
            return json_response(NOT_FOUND, 404)
        person = self.data.users[user]
        return json_response({"id": user, "name": f"{person.firstname} {person.lastname}"})

    def _progress(self, course: Course, user_id: str) -> Response:
        user = int(user_id) if user_id.isdigit() else 0
        if user not in course.students | course.other_roles:
            return json_response(NOT_FOUND, 404)
        required = [a for a in course.activities if a.tracking and a.module_id]
        if not required or user not in course.students:
            return json_response({"error": {"message": NOT_MODULE_BASED}}, 400)
        done = [
            a for a in required if self.data.state(user, a.cmid)[0] in (COMPLETE, COMPLETE_PASS)
        ]
        pending = [a for a in required if a not in done]
        finished = (
            max(self.data.state(user, a.cmid)[1] for a in done) if done and not pending else None
        )
        return json_response(
            {
                "requirement_count": len(required),
                "requirement_completed_count": len(done),
                "next_requirement_url": (
                    f"{site()}/courses/{course.id}/modules/items/{pending[0].cmid}"
                    if pending
                    else None
                ),
                "completed_at": iso(finished),
            }
        )

    def _modules(self, course: Course) -> Response:
        args = request.args
        student = args.get("student_id")
        if student is not None and (not student.isdigit() or int(student) not in course.students):
            return json_response(NOT_FOUND, 404)
        module_ids = sorted(course.modules)
        with_items = "items" in args.getlist("include[]")
        return paged(
            module_ids,
            lambda mid: self._module(course, mid, module_ids.index(mid) + 1, student, with_items),
        )

    def _courses(self, view: str, account: str, token: str) -> Response:
        """``GET /api/v1/accounts/:id/courses``, an account admin's list of every course of the
        account (``self`` or 1: the sandbox's root account), refused (401) to a token that is
        not an account admin's; and ``GET /api/v1/courses``, "List your courses": only the
        token user's own enrolments. The sandbox's admin is enrolled in no course; a token in
        ``unauthorized_tokens`` is a teacher's, enrolled in every course."""
        teacher = token in self.unauthorized_tokens
        if view == "account_courses":
            if account not in ("self", "1"):
                return json_response(NOT_FOUND, 404)
            if teacher:
                return json_response(UNAUTHORIZED, 401)
        elif not teacher:
            return paged([], course_json)
        states = request.args.getlist("state[]")
        wanted = not states or bool({"available", "all"} & set(states))
        courses = [self.data.courses[i] for i in sorted(self.data.courses)] if wanted else []
        return paged(courses, course_json)

    def _module(
        self, course: Course, module_id: int, position: int, student: str | None, with_items: bool
    ) -> dict[str, Any]:
        activities = [a for a in course.activities if a.module_id == module_id]
        module: dict[str, Any] = {
            "id": module_id,
            "name": course.modules[module_id],
            "position": position,
            "unlock_at": None,
            "require_sequential_progress": False,
            "requirement_type": "all",
            "prerequisite_module_ids": [],
            "published": True,
            "items_count": len(activities),
            "items_url": f"{site()}/api/v1/courses/{course.id}/modules/{module_id}/items",
        }
        states = (
            {a.cmid: self.data.state(int(student), a.cmid) for a in activities} if student else {}
        )
        if with_items:
            module["items"] = [module_item(course, a, states.get(a.cmid)) for a in activities]
        if student is not None:
            required = [a for a in activities if a.tracking]
            met = [a for a in required if states[a.cmid][0] in (COMPLETE, COMPLETE_PASS)]
            touched = any(states[a.cmid] != (0, 0) for a in activities)
            if len(met) == len(required):
                # Canvas calls a module without requirements complete once it is unlocked.
                module["state"] = "completed"
                module["completed_at"] = iso(max((states[a.cmid][1] for a in met), default=None))
            else:
                module["state"] = "started" if touched else "unlocked"
                module["completed_at"] = None
        return module


def register_canvas_rest(
    app: Flask,
    data: LmsData,
    *,
    tokens: frozenset[str] | None = None,
    url_prefix: str = "/canvas",
    latency: float = 0.0,
) -> CanvasRestFake:
    """Serve the fake's ``/api/v1/…`` under ``url_prefix``; returns its controls.

    Without ``tokens``, ``SANDBOX_TOKEN`` is the one valid access token.
    """
    fake = CanvasRestFake(data, tokens, latency)
    blueprint = Blueprint("canvas_rest", __name__)
    blueprint.add_url_rule(
        "/api/v1/courses/<course_id>", "course", lambda course_id: fake.serve("course", course_id)
    )
    blueprint.add_url_rule("/api/v1/courses", "my_courses", lambda: fake.serve("my_courses", ""))
    blueprint.add_url_rule(
        "/api/v1/accounts/<account>/courses",
        "account_courses",
        lambda account: fake.serve("account_courses", account),
    )
    blueprint.add_url_rule(
        "/api/v1/courses/<course_id>/users/<user_id>",
        "member",
        lambda course_id, user_id: fake.serve("member", course_id, user_id),
    )
    blueprint.add_url_rule(
        "/api/v1/courses/<course_id>/users/<user_id>/progress",
        "progress",
        lambda course_id, user_id: fake.serve("progress", course_id, user_id),
    )
    blueprint.add_url_rule(
        "/api/v1/courses/<course_id>/modules",
        "modules",
        lambda course_id: fake.serve("modules", course_id),
    )
    app.register_blueprint(blueprint, url_prefix=url_prefix)
    app.extensions["canvas_rest"] = fake
    return fake
