"""One score POST through AGS and how its answer is read: delivered, refused for good (the
platform will refuse the same body again), gone (the column is not there any more: deleted in
the gradebook) or failed (worth another sync)."""

from __future__ import annotations

import json
import logging

from lti_tool.grading.line_items import scores_url
from lti_tool.lti.claims import SCOPE_SCORE
from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.lti.service_errors import ServiceCallFailed
from lti_tool.persistence.models import OutboxRow

SCORE_MEDIA = "application/vnd.ims.lis.v1.score+json"
# 4xx answers about the token or the timing, not the score: worth sending again later.
_NOT_ABOUT_THE_SCORE = frozenset({401, 403, 408, 429})
REFUSED_PREFIX = "The gradebook refused this score: "

log = logging.getLogger("lti_tool.grading")


def send_score(
    connector: ToolServiceConnector, row: OutboxRow, lineitem_url: str
) -> tuple[str, str | None]:
    """POST one score: ("delivered", None), or ("refused" | "gone" | "failed", the platform's
    words). "gone": the platform answered 404, so no such column (AGS 2.0 lets a line item be
    deleted); nothing was recorded, and the score may go to the column found or made again.

    A refusal of the score's own timestamp (Moodle's 409, Canvas's 400) means it was stored
    when this is a resend: by a sync that crashed before recording it, or by an earlier try of
    this POST whose answer was lost (a proxy's 5xx, a timeout) and which the connector sent
    again."""
    try:
        connector.make_service_request(
            [SCOPE_SCORE],
            scores_url(lineitem_url),
            is_post=True,
            data=json.dumps(row.payload),
            content_type=SCORE_MEDIA,
        )
    except ServiceCallFailed as exc:
        resend = row.attempts > 0 or exc.unanswered_before > 0
        if resend and already_there(exc):
            return "delivered", None  # an earlier send had delivered it: same timestamp
        if exc.http_status == 404:
            return "gone", REFUSED_PREFIX + (exc.words or "HTTP 404")
        if refused_for_good(exc):
            return "refused", REFUSED_PREFIX + (exc.words or f"HTTP {exc.http_status}")
        return "failed", exc.message
    return "delivered", None


def refused_for_good(exc: ServiceCallFailed) -> bool:
    """A 4xx about the score itself: sending the same body again would be refused again."""
    status = exc.http_status
    return status is not None and 400 <= status < 500 and status not in _NOT_ABOUT_THE_SCORE


def already_there(exc: ServiceCallFailed) -> bool:
    """Moodle: 409 for a timestamp not newer than the stored one. Canvas: 400 naming it."""
    if exc.http_status == 409:
        return True
    return exc.http_status == 400 and "timestamp" in exc.body.lower()


def log_undelivered(
    job_id: str, registration_pk: int, context_pk: int, row: OutboxRow, status: str
) -> None:
    """A WARNING an operator can follow up: the job, the registration, the course and the
    outbox row; no token, no score, no name (the platform's words are on the row)."""
    log.warning(
        "score not delivered",
        extra={
            "fields": {
                "job": job_id,
                "registration": registration_pk,
                "course": context_pk,
                "module": row.module_code,
                "outbox_row": row.id,
                "status": status,
            }
        },
    )
