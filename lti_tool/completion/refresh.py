"""Keeping each student's completion copy fresh, without ever losing the last good data.

A fetch that fails leaves the stored rows as they were; a fetch that fails for some courses
updates only the others (``Student`` and the clients are built in ``sources``). The outcome
of the latest attempt (when, what went wrong, which courses the LMS cannot track) is kept in
the shared store so pages can say "as of … — the LMS did not answer".
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.completion.refresh_log import log_unreadable
from lti_tool.completion.setup import as_course_mappings, mappings_of, source_settings
from lti_tool.completion.sources import Student as Student  # re-exported: callers import it here
from lti_tool.completion.sources import build_source, cpd_codes, lms_user
from lti_tool.completion.store import store_completions
from lti_tool.container import Services
from lti_tool.jobs.leases import Renewing
from lti_tool.lms.source import (
    CompletionSource,
    CourseMapping,
    CourseUntrackable,
    SourceConfigError,
    SourceError,
    SourceUnavailable,
)
from lti_tool.logs import request_correlation_id
from lti_tool.persistence.models import CompletionRecord, utcnow
from lti_tool.rules import Completion


@dataclass(frozen=True)
class RefreshOutcome:
    # "ok" | "untrackable" (all read, but the LMS cannot track some courses) | "partial" |
    # "unavailable" | "config" | "not_configured"
    status: str
    fetched: int
    errors: list[str]
    # CPD course code → why the LMS cannot track it (for staff), when it cannot.
    untrackable: dict[str, str] = field(default_factory=dict)


# A student's own refresh holds this lock in the shared store while it runs.
REFRESHING = "refreshing"
REFRESH_LOCK_SECONDS = 60

READ = frozenset({"ok", "untrackable", "not_configured"})  # every course that can be read was


@dataclass(frozen=True)
class PreparedSource:
    """A registration's source, built once: its settings, course mapping and client."""

    kind: str
    mapping: list[CourseMapping]
    source: CompletionSource | None


@dataclass(frozen=True)
class Fetched:
    """One student's fetch: the outcome, and the completions to store (if any)."""

    outcome: RefreshOutcome
    completions: list[Completion]
    # When the LMS was asked: stored as the records' ``fetched_at``.
    read_at: dt.datetime = field(default_factory=utcnow)


def prepare_source(
    services: Services, registration_pk: int, context_pk: int | None
) -> PreparedSource | None:
    """Read the settings (decrypting the secret) and build the client; None when the
    registration has no LMS source to read (not configured, or manual records only)."""
    with services.db.read_only() as session:
        settings = source_settings(session, services.secrets, registration_pk)
        mapping = as_course_mappings(mappings_of(session, registration_pk))
    if settings is not None and settings.kind == "ags":
        # AGS columns are found by resourceId/tag = CPD code, for each qualification none of
        # whose courses is mapped (every one with nothing mapped).
        mapped = {m.code for m in mapping}
        mapping = [*mapping, *(m for m in cpd_codes(services, mapped) if m.code not in mapped)]
    if settings is None or settings.kind in {"manual"} or not mapping:
        return None
    return PreparedSource(settings.kind, mapping, build_source(services, settings, context_pk))


def fetch_student(
    prepared: PreparedSource, student: Student, reference: str | None = None
) -> Fetched:
    """Ask the LMS about one student; touches no database (safe to run many at once). What
    could not be read is logged (WARNING) under ``reference``: the request's correlation id
    or the job's id."""
    user = lms_user(prepared.kind, student)
    asked = utcnow()

    def unreadable(status: str, errors: list[SourceError]) -> None:
        log_unreadable(
            reference,
            registration_pk=student.registration_pk,
            context_pk=student.context_pk,
            source=prepared.kind,
            status=status,
            errors=errors,
        )

    if prepared.source is None:
        problem = f"the {prepared.kind} source is not fully configured"
        return Fetched(RefreshOutcome("config", 0, [problem]), [])
    try:
        result = prepared.source.fetch(user, prepared.mapping)
    except SourceConfigError as exc:
        unreadable("config", [exc] if exc.course_code else [])
        return Fetched(RefreshOutcome("config", 0, [exc.message]), [])
    except SourceUnavailable as exc:
        unreadable("unavailable", [exc] if exc.course_code else [])
        return Fetched(RefreshOutcome("unavailable", 0, [exc.message]), [])
    messages = [_describe(e) for e in result.errors]
    untrackable = {
        e.course_code: e.message
        for e in result.errors
        if isinstance(e, CourseUntrackable) and e.course_code
    }
    status = "ok"
    if result.errors:
        only_untrackable = all(isinstance(e, CourseUntrackable) for e in result.errors)
        status = "untrackable" if only_untrackable else "partial"
        unreadable(status, result.errors)
    outcome = RefreshOutcome(status, len(result.completions), messages, untrackable)
    return Fetched(outcome, result.completions, asked)


def refresh_student(
    services: Services, student: Student, reference: str | None = None
) -> RefreshOutcome:
    """Fetch and store one student's completion from their platform's source."""
    prepared = prepare_source(services, student.registration_pk, student.context_pk)
    if prepared is None:
        return RefreshOutcome("not_configured", 0, [])
    fetched = fetch_student(prepared, student, reference)
    if fetched.completions:
        with services.db.unit_of_work() as session:
            store_completions(
                session,
                student.user_pk,
                prepared.kind,
                fetched.completions,
                fetched.read_at,
                student.context_pk,
            )
    remember_attempt(services, student.user_pk, fetched.outcome)
    return fetched.outcome


def last_fetched(session: Session, user_pk: int) -> dt.datetime | None:
    return session.scalar(
        select(func.max(CompletionRecord.fetched_at)).where(CompletionRecord.user_pk == user_pk)
    )


def last_attempt(services: Services, user_pk: int) -> dict[str, Any] | None:
    """What happened the last time the tool tried to refresh this student."""
    return services.store.get("refresh", str(user_pk))


def refresh_on_launch(services: Services, student: Student) -> None:
    """Refresh when the stored copy is older than the configured age. With no copy at all,
    wait for the fetch (bounded) so a first visit shows real data; otherwise refresh in the
    background and let the page show the stored copy."""
    max_age = services.settings.completion_max_age
    with services.db.read_only() as session:
        newest = last_fetched(session, student.user_pk)
    if newest is not None and utcnow() - newest < max_age:
        return
    # One refresh per student at a time, across workers.
    if not services.store.add(REFRESHING, str(student.user_pk), {}, REFRESH_LOCK_SECONDS):
        return
    reference = request_correlation_id()
    future = services.jobs.submit(_refresh_and_release, services, student, reference)
    if newest is None:
        try:
            future.result(timeout=services.settings.completion_first_fetch_wait_seconds)
        except FutureTimeout:
            pass  # the page renders with what there is; the fetch goes on


def _refresh_and_release(
    services: Services, student: Student, reference: str | None
) -> RefreshOutcome:
    """The refresh, its lock renewed while it runs (a slow LMS may take longer than the
    lock's lifetime; a lost worker's lock still goes), then released."""
    key = str(student.user_pk)
    lock = Renewing(
        lambda: services.store.put(REFRESHING, key, {}, REFRESH_LOCK_SECONDS),
        REFRESH_LOCK_SECONDS / 4,
        {"student": student.user_pk, "reference": reference},
    )
    try:
        with lock:
            return refresh_student(services, student, reference)
    finally:
        services.store.delete(REFRESHING, key)


ATTEMPT_TTL = 7 * 24 * 3600


def attempt_record(outcome: RefreshOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "errors": outcome.errors[:10],
        "untrackable": sorted(outcome.untrackable)[:50],
        "at": time.time(),
    }


def remember_attempt(services: Services, user_pk: int, outcome: RefreshOutcome) -> None:
    """Keep when the latest attempt was made and what went wrong (pages show it)."""
    services.store.put("refresh", str(user_pk), attempt_record(outcome), ATTEMPT_TTL)


def _describe(error: SourceError) -> str:
    return f"{error.course_code}: {error.message}" if error.course_code else error.message
