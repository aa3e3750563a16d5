"""The sandbox LMS's Moodle web services: an honest fake of ``/webservice/rest/server.php``.

Five functions over an in-memory site (``LmsData``), checking what they receive as
Moodle 4.5.6 does and answering as it does — errors included: HTTP 200 with
``{exception, errorcode, message}``, namespaced exception names, XML unless
``moodlewsrestformat=json`` (copied from ``fixtures/moodle-4.5.6/ws-*``). Tests steer it through
``MoodleWsFake``: ``latency`` (seconds per call), ``fail_next`` (HTTP statuses), ``raise_next``
(Moodle exceptions such as ``dml_read_exception``), ``tokens`` (each with its user, its service's
functions and whether it may read others' completion), ``service_enabled``, and a call log
(``calls``, ``calls_to``, ``call_count``) with the peak concurrency (``max_in_flight``).
The site it answers as (``siteurl``, and the start of its activities' addresses) is
``site_url()`` when given (the sandbox platform's issuer: Moodle's LTI issuer is its wwwroot),
else the address it is served under.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, request

from lti_tool.sandbox.demo_data import ADMIN, LmsData
from lti_tool.sandbox.moodle_ws_functions import (
    OTHER_FUNCTIONS,
    READ_FUNCTIONS,
    WsToken,
    activities_completion,
    contents,
    course_completion,
    courses_by_field,
    find_course,
    site_info,
)
from lti_tool.sandbox.moodle_ws_protocol import (
    DML_READ,
    MOODLE_EXCEPTION,
    WsFault,
    answer,
    check_params,
    nested_params,
    parse_int,
)

REST_PATH = "/webservice/rest/server.php"
_RESERVED = {"wstoken", "wsfunction", "moodlewsrestformat", "moodlewssettingfilter"}
SANDBOX_TOKEN = "sandbox-moodle-token"  # noqa: S105 - the sandbox's published demo token


class MoodleWsFake:
    """The fake's data and controls; thread-safe (the sandbox server is threaded)."""

    def __init__(
        self,
        data: LmsData,
        tokens: dict[str, WsToken] | None = None,
        latency: float = 0.0,
        site_url: Callable[[], str] | None = None,
    ) -> None:
        self.data = data
        self.site_url = site_url
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
            site_url = (
                self.site_url() if self.site_url else request.base_url.removesuffix(REST_PATH)
            )
            return answer(fmt, self._dispatch(values, site_url))
        except WsFault as exc:
            return answer(fmt, exc.body, error=True)
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
        params = nested_params({k: v for k, v in values.items() if k not in _RESERVED})
        if function == "core_webservice_get_site_info":
            check_params(params, optional={"serviceshortnames"})
            return site_info(data, token, site_url)
        if function == "core_course_get_courses_by_field":
            check_params(params, optional={"field", "value"})
            return {"courses": courses_by_field(data, params), "warnings": []}
        if function == "core_course_get_contents":
            check_params(params, required={"courseid"}, optional={"options"})
            return contents(data, token, find_course(data, params["courseid"]), site_url)
        check_params(params, required={"courseid", "userid"})
        course = find_course(data, params["courseid"])
        user_id = parse_int(params["userid"])
        if user_id not in data.users:
            raise WsFault("dml_missing_record_exception", "invaliduser", "Invalid user")
        if function == "core_completion_get_course_completion_status":
            return course_completion(data, token, course, user_id, site_url)
        return activities_completion(data, token, course, user_id)


def register_moodle_ws(
    app: Flask,
    data: LmsData,
    *,
    tokens: dict[str, WsToken] | None = None,
    url_prefix: str = "/moodle",
    latency: float = 0.0,
    site_url: Callable[[], str] | None = None,
) -> MoodleWsFake:
    """Serve the fake at ``{url_prefix}/webservice/rest/server.php``; returns its controls.

    Without ``tokens``, ``SANDBOX_TOKEN`` belongs to the admin with all five functions; without
    ``site_url``, the site it answers as is the address it is served under.
    """
    fake = MoodleWsFake(data, tokens, latency, site_url)
    blueprint = Blueprint("moodle_ws", __name__)
    blueprint.add_url_rule(REST_PATH, "server", fake.handle, methods=["GET", "POST"])
    app.register_blueprint(blueprint, url_prefix=url_prefix)
    app.extensions["moodle_ws"] = fake
    return fake
