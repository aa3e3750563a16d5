"""What the staff views and API ask of marking: record, import and release results, send
them to the gradebook and follow the sync, one function each, from a launch session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lti_tool.completion.read_now import read_if_stale
from lti_tool.container import Services
from lti_tool.errors import NotFound
from lti_tool.grading import outbox
from lti_tool.grading import results as results_mod
from lti_tool.grading.sync import start_sync
from lti_tool.lti.launch_context import Launch
from lti_tool.pathway.checklist import build_checklist, student_named_in_file
from lti_tool.pathway.service import context_pk_of, qualification_of
from lti_tool.persistence.models import Membership, OutboxRow, Registration, SyncJobRow, User


def _platform_kind(services: Services, launch: Launch) -> str:
    with services.db.read_only() as session:
        kind = session.scalar(
            select(Registration.kind).where(Registration.id == launch.registration.pk)
        )
    return str(kind or "generic")


def save_result(
    services: Services, launch: Launch, module_code: str, sub: str, body: Any
) -> dict[str, Any]:
    """Record a result (validated, audited, queued for sync when released). The CPD
    requirement is judged on fresh completion: a missing or stale copy is read first
    (bounded wait), outside the transaction."""
    kind = _platform_kind(services, launch)
    with services.db.read_only() as session:
        student_pk = results_mod.roster_student(session, context_pk_of(launch), sub).id
    read = read_if_stale(services, launch.registration.pk, student_pk, launch.context_pk)
    with services.db.unit_of_work() as session:
        return _save(services, session, launch, kind, module_code, sub, body, read)


def import_results_csv(services: Services, launch: Launch, text: str) -> int:
    """Results from CSV, all or nothing, each row checked like a single result."""
    from lti_tool.grading.csv_import import import_results

    kind = _platform_kind(services, launch)
    context_pk = context_pk_of(launch)
    with services.db.unit_of_work() as session:

        def save(
            module: str, who: str, body: Any, email: str | None
        ) -> tuple[tuple[int, str], str]:
            student = student_named_in_file(session, context_pk, who, email)
            _save(services, session, launch, kind, module, student.sub, body)
            return (student.id, module), f"{module} for {student.name or who}"

        # The older outbox rows of every result in the file superseded at its end, in one
        # order, never a row at a time in the file's (outbox.py: no deadlock with a sync).
        with outbox.together(session):
            return import_results(session, text, save)


def _save(
    services: Services,
    session: Any,
    launch: Launch,
    kind: str,
    module_code: str,
    sub: str,
    body: Any,
    completion_read: bool = True,
) -> dict[str, Any]:
    """One result inside the caller's transaction: roster, CPD requirement, value checks.
    ``completion_read`` False: the LMS could not be read, so an unmet requirement is
    unknown rather than unmet."""
    context_pk = context_pk_of(launch)
    qualification = qualification_of(services, session, launch)
    student = results_mod.roster_student(session, context_pk, sub)
    checklist = build_checklist(
        session,
        qualification,
        context_pk,
        student.id,
        services.settings.today(),
        services.settings.completion_max_age,
        with_links=False,
    )
    complete = any(m["code"] == module_code and m["cpd_complete"] for m in checklist["modules"])
    result = results_mod.save_result(
        session,
        qualification=qualification,
        context_pk=context_pk,
        sub=sub,
        module_code=module_code,
        body=body,
        actor_user_pk=launch.user_pk,
        cpd_complete=complete,
        platform_kind=kind,
        completion_read=completion_read,
    )
    return {
        "sub": sub,
        "module": module_code,
        "score": result.score,
        "max": result.max_score,
        "outcome": result.outcome,
        "comment": result.comment,
        "released": result.released,
        "changed_at": result.changed_at.isoformat(),
    }


def release_results(
    services: Services, launch: Launch, module_code: str | None, sub: str | None
) -> int:
    context_pk = context_pk_of(launch)
    kind = _platform_kind(services, launch)
    with services.db.unit_of_work() as session:
        return results_mod.release(
            session, context_pk, launch.user_pk, kind, module_code=module_code, sub=sub
        )


def release_question(services: Services, launch: Launch, module_code: str | None) -> str | None:
    """What releasing the held results would do, with its numbers, as the question a tutor
    confirms ("Release 3 B832 results to 3 students?"); None when nothing is held."""
    with services.db.read_only() as session:
        found = results_mod.held(session, context_pk_of(launch), module_code)
    if not found:
        return None
    parts = [f"{len(users)} {code} result{_s(len(users))}" for code, users in found.items()]
    students = len(set().union(*found.values()))
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Release {listed} to {students} student{_s(students)}?"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def sync_grades(services: Services, launch: Launch) -> str:
    """Start a grade sync job for the course; its columns are titled from the qualification
    this launch follows (the link's, when it names one), as the pages are."""
    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        code = qualification_of(services, session, launch).code
    return start_sync(services, context_pk, code)


def job_status(services: Services, launch: Launch, job_id: str) -> dict[str, Any]:
    """A sync job's progress; only for staff of the job's course."""
    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        job = session.get(SyncJobRow, job_id)
        if job is None or job.context_pk != context_pk:
            raise NotFound("unknown_job", "No such job in this course.")
        rows = session.scalars(select(OutboxRow).where(OutboxRow.job_id == job_id)).all()
        # So a failure names the student, not only the LMS user id.
        names: dict[str, str | None] = {
            sub: name
            for sub, name in session.execute(
                select(User.sub, User.name)
                .join(Membership, Membership.user_pk == User.id)
                .where(Membership.context_pk == context_pk)
            )
        }
        return {
            "id": job.id,
            "status": job.status,
            "total": job.total,
            "done": sum(1 for r in rows if r.status == "delivered"),
            "failed": sum(1 for r in rows if r.status in {"failed", "refused"}),
            "error": job.error,
            "items": [
                {
                    "sub": r.payload.get("userId"),
                    "name": names.get(str(r.payload.get("userId"))),
                    "module": r.module_code,
                    "status": {"sending": "pending"}.get(r.status, r.status),
                    "error": r.last_error,
                }
                for r in rows
            ],
        }
