"""The Moodle web-service REST client: form-encoded POSTs, timeouts, bounded retries.

Every request has a timeout; transient failures (HTTP 5xx, timeouts, connection errors, Moodle
database exceptions) are retried a bounded number of times with jittered backoff; the rest
become ``SourceConfigError`` (the admin must act) or ``MoodleWsError`` (for the caller). The
token travels in the POST body, never in a URL. Only read functions are called, so a retried
POST is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import requests

from lti_tool.lms.moodle import parsing as parse
from lti_tool.lms.moodle.activity_completion import ActivityStatus, parse_activities_completion
from lti_tool.lms.moodle.course_completion import CourseCompletionStatus, parse_course_completion
from lti_tool.lms.moodle.errors import http_problem, service_problem
from lti_tool.lms.moodle.site_identity import foreign_site
from lti_tool.lms.source import SourceConfigError, SourceUnavailable
from lti_tool.lms.transport import transport_failure
from lti_tool.outbound.answers import response_json
from lti_tool.outbound.retry import TRANSIENT_STATUSES, Backoff

REST_PATH = "/webservice/rest/server.php"
FORM = "application/x-www-form-urlencoded"
COMPLETION_FUNCTIONS = (
    "core_webservice_get_site_info",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "core_completion_get_course_completion_status",
    "core_completion_get_activities_completion_status",
)

WsParam = str | int | float | bool | None | Sequence["WsParam"] | Mapping[str, "WsParam"]


def encode_params(params: Mapping[str, WsParam]) -> list[tuple[str, str]]:
    """Flatten parameters into the form fields Moodle's REST server reads (PHP style).

    Lists become ``name[0]=…``, objects ``name[key]=…`` (nested as deep as needed), booleans
    ``1``/``0``, ``None`` an empty value.
    """
    fields: list[tuple[str, str]] = []

    def add(name: str, value: WsParam) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                add(f"{name}[{key}]", item)
        elif isinstance(value, Sequence) and not isinstance(value, str):
            for index, item in enumerate(value):
                add(f"{name}[{index}]", item)
        elif isinstance(value, bool):
            fields.append((name, "1" if value else "0"))
        else:
            fields.append((name, "" if value is None else str(value)))

    for key, value in params.items():
        add(key, value)
    return fields


def rest_endpoint(url: str) -> str:
    """The REST server URL from a site address or from the full ``…/server.php`` URL."""
    url = url.strip()
    return url if url.rstrip("/").endswith("server.php") else url.rstrip("/") + REST_PATH


class MoodleWsClient:
    """Calls Moodle web-service functions; raises ``SourceError``s, never ``requests`` ones."""

    def __init__(
        self,
        endpoint_url: str,
        token: str,
        http_session: requests.Session,
        retries: int = 2,
        backoff: float = 0.5,
        *,
        timeout: float = 10.0,
        max_backoff: float = 8.0,
    ) -> None:
        self.endpoint_url = rest_endpoint(endpoint_url)
        self._token = token
        self._http = http_session
        self.backoff = Backoff(retries, backoff, max_backoff)
        self.timeout = timeout

    def call(self, function: str, params: Mapping[str, WsParam] | None = None) -> Any:
        """Call ``function``; the decoded JSON answer, or a ``SourceError``.

        Moodle's own refusals that concern the whole source (bad token, function not in the
        service) are ``SourceConfigError``s; the others are ``MoodleWsError``s for the caller.
        """
        fields = [
            ("wstoken", self._token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
            *encode_params(params or {}),
        ]
        failure = SourceUnavailable(f"Moodle did not answer {function}")
        for attempt in range(self.backoff.attempts):
            if attempt:
                time.sleep(self.backoff.delay(attempt - 1))
            try:
                return self._once(function, fields)
            except SourceUnavailable as exc:
                failure = exc
        raise SourceUnavailable(
            f"{failure.message} (gave up after {self.backoff.attempts} attempts)"
        )

    def _once(self, function: str, fields: list[tuple[str, str]]) -> Any:
        try:
            response = self._http.post(
                self.endpoint_url,
                # Encoded here, as requests would: handed a list, requests runs a dozen
                # isinstance checks against typing protocols per call (slow, and a class
                # refresh makes thousands of calls).
                data=urlencode(fields),
                timeout=self.timeout,
                allow_redirects=False,
                headers={"Accept": "application/json", "Content-Type": FORM},
            )
        except requests.RequestException as exc:
            raise transport_failure(
                exc,
                lms="Moodle",
                what=function,
                url=self.endpoint_url,
                timeout=self.timeout,
                url_label="Moodle web-service URL",
                fix="set it to the site address",
            ) from exc
        with response:
            if response.status_code in TRANSIENT_STATUSES or response.status_code == 429:
                raise SourceUnavailable(
                    f"Moodle answered HTTP {response.status_code} to {function}"
                )
            if response.status_code != 200:
                raise http_problem(self.endpoint_url, response)
            try:
                body = response_json(response)
            except ValueError as exc:
                raise SourceConfigError(
                    f"Moodle's answer to {function} at {self.endpoint_url} is not JSON: check "
                    "the URL is the site address and the REST protocol is enabled "
                    "(Site administration > Server > Web services > Manage protocols)"
                ) from exc
        error = parse.moodle_error(body)
        if error is None:
            return body
        if error.transient:
            raise SourceUnavailable(
                f"Moodle had a database problem answering {function} ({error.errorcode})"
            )
        raise service_problem(function, error) or error

    def get_site_info(self) -> parse.SiteInfo:
        """``core_webservice_get_site_info``: the token's user and allowed functions."""
        return parse.parse_site_info(self.call("core_webservice_get_site_info"))

    def check_service(self, needed: Sequence[str] = COMPLETION_FUNCTIONS) -> parse.SiteInfo:
        """Site info, or a ``SourceConfigError`` naming the functions the service lacks."""
        info = self.get_site_info()
        missing = [name for name in needed if name not in info.functions]
        if missing:
            raise SourceConfigError(
                "the Moodle external service of this token lacks "
                + ", ".join(missing)
                + ": add them under Site administration > Server > Web services > "
                "External services > Functions"
            )
        return info

    def check_own_site(self, issuer: str) -> parse.SiteInfo:
        """Site info, or a ``ForeignMoodleSite`` when the site Moodle says it is (its
        ``siteurl``) is not the platform's (``issuer``, Moodle's wwwroot too)."""
        info = self.get_site_info()
        problem = foreign_site(info, issuer)
        if problem is not None:
            raise problem
        return info

    def get_courses_by_field(
        self, field: str = "", value: str | int = ""
    ) -> list[parse.MoodleCourse]:
        """``core_course_get_courses_by_field`` (field ``id``, ``ids``, ``shortname``,
        ``idnumber``, ``category``; empty for every course)."""
        params: dict[str, WsParam] = {"field": field, "value": value} if field else {}
        return parse.parse_courses(self.call("core_course_get_courses_by_field", params))

    def get_course_contents(self, course_id: int) -> list[parse.MoodleModule]:
        """``core_course_get_contents``: the course's activities, section by section."""
        return parse.parse_contents(self.call("core_course_get_contents", {"courseid": course_id}))

    def get_course_completion_status(self, course_id: int, user_id: int) -> CourseCompletionStatus:
        """``core_completion_get_course_completion_status`` for one user."""
        return parse_course_completion(
            self.call(
                "core_completion_get_course_completion_status",
                {"courseid": course_id, "userid": user_id},
            )
        )

    def get_activities_completion_status(
        self, course_id: int, user_id: int
    ) -> list[ActivityStatus]:
        """``core_completion_get_activities_completion_status`` for one user."""
        return parse_activities_completion(
            self.call(
                "core_completion_get_activities_completion_status",
                {"courseid": course_id, "userid": user_id},
            )
        )
