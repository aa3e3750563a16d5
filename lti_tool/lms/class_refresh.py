"""Refreshing a whole class: every active student of a course, a bounded number at a time.

It runs as a job (``run_class_refresh``); one student's failure is counted, not fatal.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select

from lti_tool.container import Services
from lti_tool.lms.refresh import RefreshOutcome, Student, refresh_student
from lti_tool.lti.claims import normalise_roles
from lti_tool.persistence.models import Context, Deployment, Membership, User

log = logging.getLogger("lti_tool.lms")


def _refresh_quietly(services: Services, student: Student) -> RefreshOutcome:
    """One student's failure is that student's, not the whole class refresh's."""
    try:
        return refresh_student(services, student)
    except Exception as exc:  # logged and counted; the other students go on
        log.warning("refresh failed", extra={"fields": {"sub": student.sub, "error": repr(exc)}})
        return RefreshOutcome("unavailable", 0, [f"{type(exc).__name__}: {exc}"])


@dataclass(frozen=True)
class ClassRefresh:
    students: int
    ok: int
    failed: int
    seconds: float
    errors: dict[str, list[str]]


def refresh_class(services: Services, context_pk: int, *, concurrency: int = 16) -> ClassRefresh:
    """Refresh every active student of a course, ``concurrency`` students at a time (each
    student's own calls are bounded by the source). Runs as a job for a whole class."""

    with services.db.read_only() as session:
        rows = session.execute(
            select(
                User.id, User.sub, User.lms_user_id, Membership.roles, Deployment.registration_id
            )
            .join(Membership, Membership.user_pk == User.id)
            .join(Context, Context.id == Membership.context_pk)
            .join(Deployment, Deployment.id == Context.deployment_pk)
            .where(Membership.context_pk == context_pk, Membership.status == "active")
        ).all()
    students = [
        Student(
            int(r.registration_id),
            int(r.id),
            str(r.sub),
            {"canvas_user_id": r.lms_user_id} if r.lms_user_id else {},
            context_pk,
        )
        for r in rows
        if not normalise_roles(r.roles or []).is_staff
    ]
    started = time.monotonic()
    errors: dict[str, list[str]] = {}
    ok = 0
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for student, outcome in zip(
            students, pool.map(lambda s: _refresh_quietly(services, s), students), strict=True
        ):
            if outcome.status in {"ok", "not_configured"}:
                ok += 1
            else:
                errors[student.sub] = outcome.errors
    return ClassRefresh(len(students), ok, len(students) - ok, time.monotonic() - started, errors)


def run_class_refresh(services: Services, context_pk: int) -> None:
    """The job behind "refresh the whole class" (a thread, or an RQ worker)."""
    outcome = refresh_class(services, context_pk)
    log.info(
        "class refresh done",
        extra={
            "fields": {
                "context": context_pk,
                "ok": outcome.ok,
                "failed": outcome.failed,
                "seconds": round(outcome.seconds, 2),
            }
        },
    )
