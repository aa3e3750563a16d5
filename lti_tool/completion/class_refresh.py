"""Refreshing a whole class: every active student of a course, a bounded number at a time.

It runs as a job (``run_class_refresh``); one student's failure is counted, not fatal. The
source is set up once per platform (settings read, secret decrypted, client built), the LMS
calls run concurrently, and what they return is written in batches: one upsert and one store
write per ``batch_size`` students rather than per student.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from lti_tool.completion.refresh import (
    ATTEMPT_TTL,
    READ,
    Fetched,
    PreparedSource,
    RefreshOutcome,
    Student,
    attempt_record,
    fetch_student,
    prepare_source,
)
from lti_tool.completion.store import store_many_completions
from lti_tool.container import Services
from lti_tool.jobs.leases import Renewing
from lti_tool.jobs.tasks import task
from lti_tool.lti.claims import normalise_roles
from lti_tool.persistence.models import Context, Deployment, Membership, User
from lti_tool.rules import Completion

log = logging.getLogger("lti_tool.completion")


NOT_CONFIGURED = Fetched(RefreshOutcome("not_configured", 0, []), [])


def _fetch_quietly(prepared: PreparedSource | None, student: Student, reference: str) -> Fetched:
    """One student's failure is that student's, not the whole class refresh's."""
    if prepared is None:
        return NOT_CONFIGURED
    try:
        return fetch_student(prepared, student, reference)
    except Exception as exc:  # logged and counted; the other students go on
        fields = {
            "reference": reference,
            "registration": student.registration_pk,
            "course": student.context_pk,
            "user": student.user_pk,
            "failure": type(exc).__name__,
        }
        log.warning("refresh failed", extra={"fields": fields})
        return Fetched(RefreshOutcome("unavailable", 0, [f"{type(exc).__name__}: {exc}"]), [])


@dataclass(frozen=True)
class ClassRefresh:
    students: int
    ok: int
    failed: int
    seconds: float
    errors: dict[str, list[str]]
    # Who could not be read and why, in plain words: [{"sub", "name", "reason"}].
    unreadable: list[dict[str, str]]
    # What was written: students with records stored, and the records.
    stored_students: int = 0
    stored_records: int = 0
    # CPD course code → why the LMS cannot track it (once for the class, not per student).
    untrackable: dict[str, str] = field(default_factory=dict)


Progress = Callable[[int, int, int], None]  # (read, failed, total)


def refresh_class(
    services: Services,
    context_pk: int,
    *,
    concurrency: int = 16,
    batch_size: int = 100,
    progress: Progress | None = None,
    reference: str = "",
) -> ClassRefresh:
    """Refresh every active student of a course, ``concurrency`` students at a time (each
    student's own calls are bounded by the source). Runs as a job for a whole class.
    Moodle and Canvas read every roster member (Canvas says who each LTI ``sub`` is)."""

    with services.db.read_only() as session:
        rows = session.execute(
            select(
                User.id,
                User.sub,
                User.name,
                Membership.roles,
                Deployment.registration_id,
                Context.context_id,
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
            {},
            context_pk,
            str(r.context_id),
        )
        for r in rows
        if normalise_roles(r.roles or []).is_learner
    ]
    names = {str(r.sub): str(r.name or f"User {r.sub}") for r in rows}
    started = time.monotonic()
    prepared: dict[int, PreparedSource | None] = {}
    setup_errors: dict[int, str] = {}
    for registration_pk in {s.registration_pk for s in students}:
        try:
            prepared[registration_pk] = prepare_source(services, registration_pk, context_pk)
        except Exception as exc:  # e.g. an unreadable secret: every student of it fails
            setup_errors[registration_pk] = f"{type(exc).__name__}: {exc}"
    errors: dict[str, list[str]] = {}
    unreadable: list[dict[str, str]] = []
    untrackable: dict[str, str] = {}
    ok = 0
    if progress is not None:
        progress(0, 0, len(students))
    writer = _BatchWriter(services, batch_size)

    def fetch(student: Student) -> Fetched:
        if student.registration_pk in setup_errors:
            message = setup_errors[student.registration_pk]
            return Fetched(RefreshOutcome("unavailable", 0, [message]), [])
        return _fetch_quietly(prepared.get(student.registration_pk), student, reference)

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for student, fetched in zip(students, pool.map(fetch, students), strict=True):
            source = prepared.get(student.registration_pk)
            writer.add(student, fetched, source.kind if source else "")
            untrackable.update(fetched.outcome.untrackable)
            if fetched.outcome.status in READ:
                ok += 1
            else:
                errors[student.sub] = fetched.outcome.errors
                reason = plain_reason(source.kind if source else "", fetched.outcome)
                unreadable.append(
                    {"sub": student.sub, "name": names[student.sub], "reason": reason}
                )
            if progress is not None:
                progress(ok, len(errors), len(students))
    writer.flush()
    seconds = time.monotonic() - started
    failed = len(students) - ok
    return ClassRefresh(
        len(students),
        ok,
        failed,
        seconds,
        errors,
        unreadable,
        writer.stored_students,
        writer.stored_records,
        dict(sorted(untrackable.items())),
    )


def plain_reason(kind: str, outcome: RefreshOutcome) -> str:
    """Why one student could not be read, for a tutor."""
    detail = "; ".join(outcome.errors[:3])
    if outcome.status == "config":
        return f"the LMS connection is not set up fully ({detail})"
    if outcome.status == "partial":
        return f"some CPD courses could not be read ({detail})"
    return f"the LMS did not answer ({detail})" if detail else "the LMS did not answer"


class _BatchWriter:
    """Completions and attempt records, written ``size`` students at a time."""

    def __init__(self, services: Services, size: int) -> None:
        self._services = services
        self._size = max(1, size)
        # By source and course (an AGS reading is that course's gradebook).
        self._rows: dict[tuple[str, int | None], list[tuple[int, list[Completion], dt.datetime]]]
        self._rows = {}
        self._attempts: dict[str, dict[str, Any]] = {}
        self.stored_students = 0
        self.stored_records = 0

    def add(self, student: Student, fetched: Fetched, kind: str) -> None:
        if fetched.completions:
            batch = self._rows.setdefault((kind, student.context_pk), [])
            batch.append((student.user_pk, fetched.completions, fetched.read_at))
        if fetched.outcome.status != "not_configured":
            self._attempts[str(student.user_pk)] = attempt_record(fetched.outcome)
        if len(self._attempts) >= self._size:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            with self._services.db.unit_of_work() as session:
                for (kind, context_pk), batch in self._rows.items():
                    store_many_completions(session, kind, batch, context_pk)
            for batch in self._rows.values():
                self.stored_students += len(batch)
                self.stored_records += sum(len({c.course_code for c in cs}) for _, cs, _ in batch)
        if self._attempts:
            self._services.store.put_many("refresh", self._attempts, ATTEMPT_TTL)
        self._rows = {}
        self._attempts = {}


@task
def run_class_refresh(services: Services, context_pk: int, reference: str | None = None) -> None:
    """The job behind "refresh the whole class" (a thread, or an RQ worker), started by a
    staff launch or the staff button (``class_progress.start_class_refresh``); its log lines
    carry ``reference`` (the starting request's correlation id) or a job id of its own."""
    from lti_tool.completion import class_progress

    reference = reference or f"class-refresh-{uuid.uuid4().hex[:16]}"
    writer = class_progress.ProgressWriter(services, context_pk)
    # The lock is renewed while the refresh runs (however long a slow LMS makes it), and
    # only then released. The outcome is written before the lock goes: "running" without a
    # lock means a lost worker (``class_progress.is_stale``), never one about to say "done".
    lock = Renewing(
        lambda: class_progress.renew(services, context_pk),
        class_progress.LOCK_TTL / 4,
        {"course": context_pk, "reference": reference},
    )
    try:
        with lock:
            try:
                outcome = refresh_class(
                    services, context_pk, progress=writer.update, reference=reference
                )
            except Exception as exc:
                writer.fail(f"the class refresh stopped: {type(exc).__name__}")
                raise
            writer.finish(outcome.students, outcome.failed, outcome.unreadable, outcome.untrackable)
    finally:
        class_progress.release(services, context_pk)
    log.info(
        "class refresh done",
        extra={
            "fields": {
                "reference": reference,
                "course": context_pk,
                "students": outcome.students,
                "ok": outcome.ok,
                "failed": outcome.failed,
                "stored_students": outcome.stored_students,
                "stored_records": outcome.stored_records,
                "seconds": round(outcome.seconds, 2),
            }
        },
    )
