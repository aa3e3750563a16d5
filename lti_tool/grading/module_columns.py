"""Which gradebook column is an assessment module's, and the platform calls that find or
make it (``line_items.py`` claims the module first, so one sync asks).

AGS 2.0 lets a tool read the platform's columns with the ``lineitem`` or ``lineitem.readonly``
scope, and make them with ``lineitem``. A module's column is the one the platform lists with
the module's code as ``resourceId`` (the tool's own, or the one a Deep Linking placement of
the module brought); else the line item of the module's own placement (a resource link whose
custom ``module`` is the module's code: the only column a "grade sync only" platform, granting
``score`` alone, lets the tool use); else a column the tool makes, when it may. A module with
none of these gets no score: ``NoModuleColumn`` says, in words for the tutor, what to ask of
the LMS administrator or the teacher. Scores never go to another link's column.

Creating is not idempotent: a POST whose answer was lost (a 5xx, a timeout) may have made the
column, so it is never sent again blind; the container is listed again first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException

from lti_tool.errors import ToolError
from lti_tool.lti.claims import SCOPE_LINEITEM, SCOPE_LINEITEM_READ
from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.lti.service_errors import ServiceCallFailed

LINEITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"


class GradeSyncConfigError(ToolError):
    status = 409
    title = "Grades cannot be sent yet"


class NoModuleColumn(GradeSyncConfigError):
    """The module has no column the tool may send its scores to (its rows are "failed" with
    these words; the next sync looks again)."""

    def __init__(self, column: Column) -> None:
        super().__init__(
            "no_module_column",
            f"Not sent: the gradebook has no column for {column.label} that the tool may use. "
            f"Add the {column.module_code} assessment link to the course from the tool (it "
            "brings its own gradebook column), or ask your LMS administrator to let the tool "
            "manage gradebook columns (in Moodle: the tool's \"IMS LTI Assignment and Grade "
            'Services" set to "Use this service for grade sync and column management"). '
            "Then send the results again.",
        )


@dataclass(frozen=True)
class Column:
    """A module's gradebook column as the tool asks for it. ``resource_link_id`` and
    ``link_lineitem_url``: the module's own placement, if any, and the line item its launches
    carried; a column the tool makes is bound to that placement only (never another link)."""

    module_code: str
    label: str
    score_maximum: float
    resource_link_id: str | None
    link_lineitem_url: str | None = None


@dataclass(frozen=True)
class AgsEndpoint:
    lineitems_url: str | None
    scopes: frozenset[str]

    @property
    def can_list(self) -> bool:
        """The platform lets the tool read its columns (and so find a module's)."""
        readable = {SCOPE_LINEITEM, SCOPE_LINEITEM_READ} & self.scopes
        return bool(readable and self.lineitems_url)


def find_or_create(connector: ToolServiceConnector, endpoint: AgsEndpoint, column: Column) -> str:
    """The module's column as the platform lists it, else its own placement's, else a new one
    (``lineitem`` scope); ``NoModuleColumn`` when there is none the tool may use."""
    listed = _listed_column(connector, endpoint, column)
    if listed is not None:
        return listed
    if column.link_lineitem_url:
        return column.link_lineitem_url
    if SCOPE_LINEITEM not in endpoint.scopes:
        raise NoModuleColumn(column)
    attempt = 0
    while listed is None:
        try:
            return _create(connector, endpoint, column)
        except ServiceCallFailed as exc:
            if not connector.pause_before_retry(attempt, exc):
                raise
        attempt += 1
        listed = _listed_column(connector, endpoint, column)
    return listed


def _listed_column(
    connector: ToolServiceConnector, endpoint: AgsEndpoint, column: Column
) -> str | None:
    """The URL of the listed line item whose ``resourceId`` is the module's code, if any."""
    assert endpoint.lineitems_url is not None
    service_data: Any = {"lineitems": endpoint.lineitems_url, "scope": sorted(endpoint.scopes)}
    ags = AssignmentsGradesService(connector, service_data)
    try:
        items = ags.get_lineitems()
    except LtiException as exc:  # pylti1p3: a listing that is not a list of line items
        raise GradeSyncConfigError(
            "lineitems_unreadable",
            "The platform's list of gradebook columns could not be read; try again later.",
            status=502,
        ) from exc
    for item in items:
        if (
            isinstance(item, dict)
            and item.get("resourceId") == column.module_code
            and item.get("id")
        ):
            return str(item["id"])
    return None


def _create(connector: ToolServiceConnector, endpoint: AgsEndpoint, column: Column) -> str:
    """POST the module's column, once (``retry=False``: see ``_find_or_create``)."""
    assert endpoint.lineitems_url is not None
    body: dict[str, object] = {
        "label": column.label,
        "scoreMaximum": column.score_maximum,
        "resourceId": column.module_code,
        "tag": column.module_code,
    }
    if column.resource_link_id:
        body["resourceLinkId"] = column.resource_link_id
    created = connector.make_service_request(
        [SCOPE_LINEITEM],
        endpoint.lineitems_url,
        is_post=True,
        data=json.dumps(body),
        content_type=LINEITEM_MEDIA,
        accept=LINEITEM_MEDIA,
        retry=False,
    )
    item = created["body"]
    if not isinstance(item, dict) or not item.get("id"):
        raise GradeSyncConfigError("lineitem_create", "The platform did not return the new column.")
    return str(item["id"])
