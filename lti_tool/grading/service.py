"""What the staff views and API ask of grading, one function each, from a launch session."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lti_tool.completion.read_now import read_if_stale
from lti_tool.container import Services
from lti_tool.errors import NotFound
from lti_tool.grading import results as results_mod
from lti_tool.grading.class_columns import ClassColumns, class_columns
from lti_tool.grading.class_view import ClassPage, class_rows
from lti_tool.grading.class_view import class_page as page_of_class
from lti_tool.grading.completion_grid import (
    GridColumn,
    GridPage,
    GridQuery,
    GridRow,
    grid_columns,
    grid_page,
    grid_rows,
)
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


def class_overview(
    services: Services,
    launch: Launch,
    offset: int = 0,
    limit: int | None = None,
    group_pk: int | None = None,
) -> list[dict[str, Any]]:
    """Every student of the course with hours, eligibility, risks, results and tutor
    groups; only one group's students with ``group_pk``."""
    from lti_tool.pathway.groups import groups_by_user, members_of

    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        rows = class_rows(session, qualification, context_pk, services.settings.today())
        groups = groups_by_user(session, context_pk)
        members = members_of(session, context_pk, group_pk) if group_pk is not None else None
    if members is not None:
        rows = [r for r in rows if r["user_pk"] in members]
    end = None if limit is None else offset + limit
    return _shown(rows, groups)[offset:end]


def class_page(
    services: Services,
    launch: Launch,
    *,
    filter_name: str,
    sort_name: str,
    page: int,
    size: int,
    group_pk: int | None = None,
) -> ClassPage:
    """One page of the class view (``grading.class_view.class_page``) with each student's
    tutor groups; only one group's students with ``group_pk``."""
    from lti_tool.pathway.groups import groups_by_user, members_of

    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        groups = groups_by_user(session, context_pk)
        found = page_of_class(
            session,
            qualification,
            context_pk,
            services.settings.today(),
            filter_name=filter_name,
            sort_name=sort_name,
            page=page,
            size=size,
            members=members_of(session, context_pk, group_pk) if group_pk is not None else None,
        )
    return ClassPage(_shown(found.rows, groups), found.total, found.page, found.pages)


def _shown(rows: list[dict[str, Any]], groups: dict[int, list[str]]) -> list[dict[str, Any]]:
    """Rows as pages and the API show them: tutor groups added, times in UTC, and without
    the tool's own key."""
    for row in rows:
        row["groups"] = groups.get(row["user_pk"], [])
        read_at = row["read_at"]
        row["read_at"] = None if read_at is None else _utc(read_at).isoformat()
        del row["user_pk"]  # the tool's own key: not for pages or the API
    return rows


def _utc(stamp: dt.datetime) -> dt.datetime:
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def class_layout(services: Services, launch: Launch) -> ClassColumns:
    """The class view's columns, filters, sort orders and CSV layout for the course's
    qualification."""
    with services.db.read_only() as session:
        return class_columns(qualification_of(services, session, launch))


def untrackable_courses(services: Services, launch: Launch) -> list[Any]:
    """The CPD courses the LMS cannot track for this course's students, each with what a
    teacher must set up there (``completion.untrackable``)."""
    from lti_tool.completion.untrackable import untrackable_in_context

    with services.db.read_only() as session:
        return untrackable_in_context(session, context_pk_of(launch))


def class_groups(services: Services, launch: Launch) -> list[Any]:
    """The course's tutor groups (LTI Course Groups service), for the class view's filter."""
    from lti_tool.pathway.groups import group_choices

    with services.db.read_only() as session:
        return list(group_choices(session, context_pk_of(launch)))


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
    with services.db.unit_of_work() as session:
        return import_results(
            session,
            text,
            lambda module, who, body: _save(
                services, session, launch, kind, module, _sub_named(session, launch, who), body
            ),
        )


def _sub_named(session: Any, launch: Launch, who: str) -> str:
    """The LTI user id of the student a CSV row names by id, email or username."""
    return student_named_in_file(session, context_pk_of(launch), who).sub


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
    """Start a grade sync job for the course."""
    return start_sync(services, context_pk_of(launch))


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


def completion_grid(
    services: Services, launch: Launch, group_pk: int | None = None
) -> tuple[tuple[GridColumn, ...], list[GridRow], dict[int, list[str]]]:
    """The completion grid of the course: its qualification's CPD courses, every student's
    status in each (only one tutor group's students with ``group_pk``), and each student's
    tutor groups."""
    from lti_tool.pathway.groups import groups_by_user, members_of

    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        rows = grid_rows(session, qualification, context_pk, services.settings.today())
        groups = groups_by_user(session, context_pk)
        if group_pk is not None:
            members = members_of(session, context_pk, group_pk)
            rows = [row for row in rows if row.user_pk in members]
    return grid_columns(qualification), rows, groups


def completion_grid_page(
    services: Services,
    launch: Launch,
    query: GridQuery,
    page: int,
    size: int | None,
    group_pk: int | None = None,
) -> tuple[tuple[GridColumn, ...], GridPage, dict[int, list[str]]]:
    """One page of the completion grid (``grading.completion_grid.grid_page``): the
    qualification's CPD courses, the page, and each student's tutor groups; only one tutor
    group's students with ``group_pk``."""
    from lti_tool.pathway.groups import groups_by_user, members_of

    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        groups = groups_by_user(session, context_pk)
        members = members_of(session, context_pk, group_pk) if group_pk is not None else None
        today = services.settings.today()
        found = grid_page(session, qualification, context_pk, today, query, page, size, members)
    return grid_columns(qualification), found, groups


def completion_columns(services: Services, launch: Launch) -> tuple[GridColumn, ...]:
    """The completion grid's columns: the CPD courses of the course's qualification."""
    with services.db.read_only() as session:
        return grid_columns(qualification_of(services, session, launch))
