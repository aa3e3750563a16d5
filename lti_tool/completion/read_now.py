"""Reading one student's completion before a decision is taken on it (saving a result
judges the CPD requirement): when the stored copy is missing or stale, read it first, with
the same bounded wait as a student's first launch."""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout

from sqlalchemy import func, select

from lti_tool.completion.refresh import (
    READ,
    RefreshOutcome,
    Student,
    refresh_student,
    remember_attempt,
)
from lti_tool.container import Services
from lti_tool.logs import request_correlation_id
from lti_tool.persistence.models import CompletionRecord, Context, User, utcnow


def read_if_stale(
    services: Services, registration_pk: int, user_pk: int, context_pk: int | None
) -> bool:
    """True when the student's completion copy can be trusted: no LMS to read, a fresh
    copy, or a fresh read now. False when the LMS could not be read (in time, or fully)."""
    if not services.registry_cache.has_completion_source(registration_pk):
        return True
    with services.db.read_only() as session:
        newest = session.scalar(
            select(func.max(CompletionRecord.fetched_at)).where(
                CompletionRecord.user_pk == user_pk, CompletionRecord.source != "manual"
            )
        )
        user = session.get(User, user_pk)
        if user is None:
            return False
        sub = user.sub
        context = session.get(Context, context_pk) if context_pk is not None else None
        context_id = context.context_id if context is not None else None
    if newest is not None:
        stamp = newest if newest.tzinfo else newest.replace(tzinfo=utcnow().tzinfo)
        if utcnow() - stamp < services.settings.completion_max_age:
            return True
    student = Student(registration_pk, user_pk, sub, {}, context_pk, context_id)
    reference = request_correlation_id()
    future = services.jobs.submit(_refresh_quietly, services, student, reference)
    try:
        outcome = future.result(timeout=services.settings.completion_first_fetch_wait_seconds)
    except FutureTimeout:
        return False  # the read goes on and is stored; this decision cannot wait for it
    return outcome.status in READ


def _refresh_quietly(services: Services, student: Student, reference: str | None) -> RefreshOutcome:
    try:
        return refresh_student(services, student, reference)
    except Exception as exc:  # an unreadable secret, a bug in a parser: not readable now
        outcome = RefreshOutcome("unavailable", 0, [f"{type(exc).__name__}: {exc}"])
        remember_attempt(services, student.user_pk, outcome)
        return outcome
