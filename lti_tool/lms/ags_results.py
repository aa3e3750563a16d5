"""Completion from AGS results, for platforms with neither Moodle web services nor Canvas REST.

A CPD course delivered as an LTI link in the same course has a gradebook column; the column
whose ``resourceId`` or ``tag`` is the CPD code is the course, and a result at or above the
threshold (a fraction of the maximum) counts as completed. Only columns the tool may see
(those of its own links) can be read, so this suits CPD courses delivered as LTI links.
Results are read without ``limit``: Moodle answers ``…/results?limit=`` with an HTML 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from datetime import tzinfo
from typing import Any
from urllib.parse import quote, urlencode

from pylti1p3.assignments_grades import AssignmentsGradesService

from lti_tool.lms.source import (
    CourseMapping,
    FetchResult,
    LmsUser,
    SourceConfigError,
    SourceUnavailable,
)
from lti_tool.lti.ags_urls import lineitem_subpath
from lti_tool.lti.claims import SCOPE_LINEITEM, SCOPE_LINEITEM_READ, SCOPE_RESULT
from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.lti.service_errors import ServiceCallFailed
from lti_tool.rules import Completion, CompletionStatus

RESULTS_MEDIA = "application/vnd.ims.lis.v2.resultcontainer+json"
# Either lets a tool read the platform's columns; the narrower one is asked for first.
READ_SCOPES = (SCOPE_LINEITEM_READ, SCOPE_LINEITEM)


class AgsResultsSource:
    def __init__(
        self,
        connector: ToolServiceConnector,
        lineitems_url: str,
        threshold: float,
        tz: tzinfo,
        source_name: str = "ags",
        scopes: frozenset[str] | None = None,
    ) -> None:
        """``scopes``: what the platform granted in the course's launches (None: not known,
        ``lineitem.readonly`` and ``result.readonly`` are asked for)."""
        self.connector = connector
        self.lineitems_url = lineitems_url
        self.threshold = threshold
        self.tz = tz
        self.source_name = source_name
        self.scopes = scopes

    def _read_scopes(self) -> list[str] | None:
        """The scopes to read columns and results with, as granted (AGS 2.0 section 3.1:
        ``lineitem`` reads columns too); None when the platform granted too little."""
        if self.scopes is None:
            return [SCOPE_LINEITEM_READ, SCOPE_RESULT]
        columns = next((s for s in READ_SCOPES if s in self.scopes), None)
        if columns is None or SCOPE_RESULT not in self.scopes:
            return None
        return [columns, SCOPE_RESULT]

    def fetch(self, user: LmsUser, mapping: Sequence[CourseMapping]) -> FetchResult:
        """``user.user_id`` is the LTI ``sub``; ``mapping`` names the CPD codes to look for."""
        scopes = self._read_scopes()
        if scopes is None:
            return FetchResult(
                errors=[
                    SourceConfigError(
                        "the platform does not let the tool read its gradebook columns and "
                        "their results in this course (the Assignment and Grade Services "
                        "lineitem and result.readonly scopes)"
                    )
                ]
            )
        service_data: Any = {"lineitems": self.lineitems_url, "scope": scopes}
        ags = AssignmentsGradesService(self.connector, service_data)
        try:
            items = [i for i in ags.get_lineitems() if isinstance(i, dict)]
        except ServiceCallFailed as exc:
            raise _as_source_error(exc) from exc
        result = FetchResult()
        for entry in mapping:
            item = next(
                (i for i in items if entry.code in (i.get("resourceId"), i.get("tag"))), None
            )
            if item is None or not item.get("id"):
                result.errors.append(
                    SourceConfigError(
                        f"no gradebook column with resourceId or tag {entry.code} is visible to "
                        "the tool in this course",
                        course_code=entry.code,
                    )
                )
                continue
            try:
                result.completions.append(self._completion(entry.code, item, user.user_id))
            except ServiceCallFailed as exc:
                error = _as_source_error(exc)
                error.course_code = entry.code
                result.errors.append(error)
        return result

    def _completion(self, code: str, item: dict[str, Any], sub: str) -> Completion:
        url = lineitem_subpath(str(item["id"]), "results")
        separator = "&" if "?" in url else "?"
        # A sub may hold "+", "&", "#" or a space (any ASCII, LTI 1.3 Core 5.3.6): encoded, or
        # the platform reads another user.
        query = urlencode({"user_id": sub}, quote_via=quote)
        answer = self.connector.make_service_request(
            [SCOPE_RESULT], f"{url}{separator}{query}", accept=RESULTS_MEDIA
        )
        rows = answer["body"] if isinstance(answer["body"], list) else []
        mine = [r for r in rows if isinstance(r, dict) and str(r.get("userId")) == sub]
        if not mine:
            return Completion(code, CompletionStatus.NOT_STARTED, source=self.source_name)
        row = mine[0]
        score, maximum = (
            row.get("resultScore"),
            row.get("resultMaximum") or item.get("scoreMaximum"),
        )
        when = _date(row.get("timestamp"), self.tz)
        if isinstance(score, int | float) and isinstance(maximum, int | float) and maximum > 0:
            if score / maximum >= self.threshold:
                return Completion(code, CompletionStatus.COMPLETED, None, when, self.source_name)
        return Completion(code, CompletionStatus.IN_PROGRESS, when, None, self.source_name)


def _as_source_error(exc: ServiceCallFailed) -> SourceConfigError | SourceUnavailable:
    if exc.retryable:
        return SourceUnavailable(f"the platform's AGS did not answer: {exc.message}")
    return SourceConfigError(f"the platform refused the AGS call: {exc.message}")


def _date(value: Any, tz: tzinfo) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(tz).date()
    except ValueError:
        return None
