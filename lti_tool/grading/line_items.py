"""One gradebook column per assessment module per course, never two.

The column's row is claimed in the database before the platform is asked, so of two syncs
starting at once only one looks up or creates the column; the other waits for its URL. The
claim is renewed while its holder asks the platform (``jobs/leases.py``): only a crashed holder's
claim grows old enough (``CLAIM_TIMEOUT``) for another sync to take over.
pylti1p3's ``find_or_create_lineitem`` has no such guard (11 columns for 2 tags were seen).
Which column is a module's, and the platform calls that find or make it (never a blind second
POST after a lost answer): ``module_columns.py``.
"""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lti_tool.grading.module_columns import (
    AgsEndpoint,
    Column,
    GradeSyncConfigError,
    NoModuleColumn,
    find_or_create,
)
from lti_tool.jobs.leases import Renewing
from lti_tool.lti.ags_urls import lineitem_subpath
from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.persistence.db import Database
from lti_tool.persistence.models import LineItemRow, utcnow

CLAIM_TIMEOUT = dt.timedelta(seconds=60)


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
    if not endpoint.can_list:
        if column.link_lineitem_url:
            return column.link_lineitem_url
        raise NoModuleColumn(column)
    if not _claim(db, context_pk, column.module_code):
        return _wait_for_url(db, context_pk, column.module_code, wait_seconds)
    try:
        # Renewed while the platform is asked: however slow it is, no other sync takes the
        # claim over and makes a second column.
        renewal = Renewing(
            lambda: _renew_claim(db, context_pk, column.module_code),
            CLAIM_TIMEOUT.total_seconds() / 4,
            {"course": context_pk, "module": column.module_code},
        )
        with renewal:
            url = find_or_create(connector, endpoint, column)
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
    ``ensure_line_item``). ``None`` when there is nothing to replace it with: the module's own
    placement's column (which the tool cannot make again: ``ensure_line_item`` gives it
    again), or the platform listing the gone column still (the 404 was about something
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


def _renew_claim(db: Database, context_pk: int, module_code: str) -> None:
    with db.unit_of_work() as session:
        session.execute(
            update(LineItemRow)
            .where(
                LineItemRow.context_pk == context_pk,
                LineItemRow.module_code == module_code,
                LineItemRow.url.is_(None),
            )
            .values(claimed_at=utcnow())
        )


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
