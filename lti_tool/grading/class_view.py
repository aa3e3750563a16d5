"""The whole class at once: hours, eligibility, risks, results and their sync status.

Built from five queries for the whole course (not per student), then the pure rules engine
per student, so 500 students stay quick.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.lti.claims import normalise_roles
from lti_tool.pathway.checklist import completions_of_many
from lti_tool.pathway.module_starts import effective_starts_of_many
from lti_tool.persistence.models import (
    AssessmentResultRow,
    CompletionRecord,
    Membership,
    OutboxRow,
    User,
)
from lti_tool.rules import (
    AssessmentOutcome,
    AssessmentResult,
    Qualification,
    evaluate,
)


def class_rows(
    session: Session, qualification: Qualification, context_pk: int, today: dt.date
) -> list[dict[str, Any]]:
    """One entry per active student, sorted by family name then name."""
    people = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_pk == User.id)
        .where(Membership.context_pk == context_pk)
        .order_by(User.family_name, User.name, User.sub)
    ).all()
    students = [
        (user, membership)
        for user, membership in people
        if not normalise_roles(membership.roles or []).is_staff
    ]
    ids = [user.id for user, _ in students]
    completions = completions_of_many(session, ids)
    read_at = lms_read_at(session, ids)
    starts = effective_starts_of_many(session, context_pk, ids)
    results: dict[int, dict[str, AssessmentResultRow]] = defaultdict(dict)
    for result in session.scalars(
        select(AssessmentResultRow).where(AssessmentResultRow.context_pk == context_pk)
    ):
        results[result.user_pk][result.module_code] = result
    sync = latest_sync(session, context_pk)

    rows = []
    for user, membership in students:
        mine = results.get(user.id, {})
        assessments = {
            code: AssessmentResult(AssessmentOutcome(r.outcome), r.score, r.max_score)
            for code, r in mine.items()
        }
        checklist = evaluate(
            qualification,
            completions[user.id],
            starts[user.id],
            today,
            assessments,
        )
        modules = []
        for module in checklist.modules:
            held = mine.get(module.code)
            modules.append(
                {
                    "code": module.code,
                    "hours_completed": module.hours_completed,
                    "hours_required": module.hours_required,
                    "cpd_complete": module.cpd_complete,
                    # False while a course it needs cannot be tracked by the LMS.
                    "fully_known": module.fully_known,
                    "at_risk": any(r.at_risk for r in module.requirements),
                    "overdue": any(r.overdue for r in module.requirements),
                    "result": _result(held, sync.get(held.id) if held else None),
                }
            )
        rows.append(
            {
                "user_pk": user.id,
                "sub": user.sub,
                "name": user.name,
                "email": user.email,
                "status": membership.status,
                "launched": membership.last_launch_at is not None,
                # When the LMS was last read for this student; None: never (not a zero).
                "read_at": read_at.get(user.id),
                "modules": modules,
            }
        )
    return rows


def lms_read_at(session: Session, user_pks: list[int]) -> dict[int, dt.datetime]:
    """When each student's completion was last read from an LMS (manual records aside)."""
    rows = session.execute(
        select(CompletionRecord.user_pk, func.max(CompletionRecord.fetched_at))
        .where(CompletionRecord.user_pk.in_(user_pks), CompletionRecord.source != "manual")
        .group_by(CompletionRecord.user_pk)
    ).all()
    return {int(pk): at for pk, at in rows if at is not None}


def latest_sync(session: Session, context_pk: int) -> dict[int, OutboxRow]:
    """The newest outbox row of each result (what the sync status column shows)."""
    latest: dict[int, OutboxRow] = {}
    for row in session.scalars(
        select(OutboxRow).where(OutboxRow.context_pk == context_pk).order_by(OutboxRow.id)
    ):
        if row.status != "superseded":
            latest[row.result_pk] = row
    return latest


def _result(result: AssessmentResultRow | None, outbox: OutboxRow | None) -> dict[str, Any] | None:
    if result is None:
        return None
    if not result.released:
        sync = {"status": "held", "synced_at": None, "error": None}
    elif outbox is None:
        sync = {"status": "pending", "synced_at": None, "error": None}
    else:
        sync = {
            "status": {"sending": "pending"}.get(outbox.status, outbox.status),
            "synced_at": outbox.delivered_at.isoformat() if outbox.delivered_at else None,
            "error": outbox.last_error,
        }
    return {
        "score": result.score,
        "max": result.max_score,
        "outcome": result.outcome,
        "comment": result.comment,
        "released": result.released,
        # What a change sends back as expected_changed_at (the class table's cells do).
        "changed_at": result.changed_at.isoformat(),
        "override_reason": result.override_reason,
        "sync": sync,
    }
