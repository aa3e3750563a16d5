"""One gradebook column per assessment module per course, never two.

The column's row is claimed in the database before the platform is asked, so of two syncs
starting at once only one looks up or creates the column; the other waits for its URL.
pylti1p3's ``find_or_create_lineitem`` has no such guard (11 columns for 2 tags were seen).
Nor is the creating POST ever sent twice blind: after a lost answer the columns are listed
again first (``_find_or_create``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lti_tool.errors import ToolError
from lti_tool.lti.ags_urls import lineitem_subpath
from lti_tool.lti.claims import SCOPE_LINEITEM, SCOPE_SCORE
from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.lti.service_errors import ServiceCallFailed
from lti_tool.persistence.db import Database
from lti_tool.persistence.models import LineItemRow, utcnow

LINEITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"
CLAIM_TIMEOUT = dt.timedelta(seconds=60)


class GradeSyncConfigError(ToolError):
    status = 409
    title = "Grades cannot be sent yet"


@dataclass(frozen=True)
class Column:
    module_code: str
    label: str
    score_maximum: float
    resource_link_id: str | None


@dataclass(frozen=True)
class AgsEndpoint:
    lineitems_url: str | None
    scopes: frozenset[str]
    own_lineitem_url: str | None  # the launch's line item, for "grade sync only" platforms


def scores_url(lineitem_url: str) -> str:
    """``…/lineitem?type_id=1`` → ``…/lineitem/scores?type_id=1`` (path first, then query)."""
    return lineitem_subpath(lineitem_url, "scores")


def ensure_line_item(
    db: Database,
    connector: ToolServiceConnector,
    context_pk: int,
    endpoint: AgsEndpoint,
    column: Column,
    wait_seconds: float = 15.0,
) -> str:
    """The URL of the module's column, found or created once."""
    with db.read_only() as session:
        known = session.scalar(
            select(LineItemRow.url).where(
                LineItemRow.context_pk == context_pk, LineItemRow.module_code == column.module_code
            )
        )
    if known:
        return known
    if SCOPE_LINEITEM not in endpoint.scopes:
        if endpoint.own_lineitem_url and SCOPE_SCORE in endpoint.scopes:
            return endpoint.own_lineitem_url
        raise GradeSyncConfigError(
            "no_lineitem_scope",
            "The platform lets the tool send scores only to the column of the link it was "
            "launched from, and this course has none. In Moodle, set the tool's \"IMS LTI "
            'Assignment and Grade Services" to "Use this service for grade sync and column '
            'management".',
        )
    if not endpoint.lineitems_url:
        raise GradeSyncConfigError(
            "no_ags", "The platform did not offer Assignment and Grade Services for this course."
        )
    if not _claim(db, context_pk, column.module_code):
        return _wait_for_url(db, context_pk, column.module_code, wait_seconds)
    try:
        url = _find_or_create(connector, endpoint, column)
    except BaseException:
        with db.unit_of_work() as session:  # release the claim for the next attempt
            session.execute(
                update(LineItemRow)
                .where(
                    LineItemRow.context_pk == context_pk,
                    LineItemRow.module_code == column.module_code,
                    LineItemRow.url.is_(None),
                )
                .values(claimed_at=utcnow() - CLAIM_TIMEOUT)
            )
        raise
    with db.unit_of_work() as session:
        session.execute(
            update(LineItemRow)
            .where(
                LineItemRow.context_pk == context_pk, LineItemRow.module_code == column.module_code
            )
            .values(url=url)
        )
    return url


def replace_gone_column(
    db: Database,
    connector: ToolServiceConnector,
    context_pk: int,
    endpoint: AgsEndpoint,
    column: Column,
    gone_url: str,
) -> str | None:
    """The column at ``gone_url`` answered 404 (deleted in the gradebook): forget it, then find
    or create the module's column again, once across every sync (the claim in
    ``ensure_line_item``). ``None`` when there is nothing to replace it with: the launch's own
    column (a platform that lets the tool manage no columns: ``ensure_line_item`` gives that
    column again), or the platform listing the gone column still (the 404 was about something
    else)."""
    with db.unit_of_work() as session:
        # Only the URL that is gone: a sync that already replaced it keeps the new one. The
        # claim is left stale so the next ensure_line_item takes it at once.
        session.execute(
            update(LineItemRow)
            .where(
                LineItemRow.context_pk == context_pk,
                LineItemRow.module_code == column.module_code,
                LineItemRow.url == gone_url,
            )
            .values(url=None, claimed_at=utcnow() - CLAIM_TIMEOUT)
        )
    url = ensure_line_item(db, connector, context_pk, endpoint, column)
    return None if url == gone_url else url


def _claim(db: Database, context_pk: int, module_code: str) -> bool:
    """True when this caller may look up / create the column."""
    try:
        with db.unit_of_work() as session:
            session.add(LineItemRow(context_pk=context_pk, module_code=module_code))
        return True
    except IntegrityError:
        pass
    # Someone claimed it; take over a claim abandoned by a crashed sync.
    stale = utcnow() - CLAIM_TIMEOUT
    with db.unit_of_work() as session:
        taken = session.execute(
            update(LineItemRow)
            .where(
                LineItemRow.context_pk == context_pk,
                LineItemRow.module_code == module_code,
                LineItemRow.url.is_(None),
                LineItemRow.claimed_at < stale,
            )
            .values(claimed_at=utcnow())
        )
    return bool(getattr(taken, "rowcount", 0))


def _wait_for_url(db: Database, context_pk: int, module_code: str, wait_seconds: float) -> str:
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        with db.read_only() as session:
            url = session.scalar(
                select(LineItemRow.url).where(
                    LineItemRow.context_pk == context_pk, LineItemRow.module_code == module_code
                )
            )
        if url:
            return url
        time.sleep(0.1)
    raise GradeSyncConfigError(
        "lineitem_pending", "Another sync is still creating the gradebook column; try again."
    )


def _find_or_create(connector: ToolServiceConnector, endpoint: AgsEndpoint, column: Column) -> str:
    """The module's column as the platform lists it, else a new one. Creating is not
    idempotent: a POST whose answer was lost (a 5xx, a timeout) may have made the column, so
    it is never sent again blind; the container is listed again first."""
    listed = _listed_column(connector, endpoint, column)
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
