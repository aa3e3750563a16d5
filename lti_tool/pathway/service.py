"""What the student and staff views ask for, one function each, from a launch session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from lti_tool.completion.refresh import READ, last_attempt
from lti_tool.completion.untrackable import untrackable_courses
from lti_tool.container import Services
from lti_tool.errors import InvalidInput, NotFound
from lti_tool.lti.launch_context import Launch
from lti_tool.pathway import module_starts as ms
from lti_tool.pathway.catalog import (
    choose_qualification,
    qualification_for,
    refuse_if_set_by_link,
)
from lti_tool.pathway.checklist import (
    build_checklist,
    check_studies_here,
    members,
    student_in_context,
)
from lti_tool.rules import Qualification

if TYPE_CHECKING:
    from lti_tool.pathway.csv_import import StartsImported


def context_pk_of(launch: Launch) -> int:
    """The course the launch came from; 404 for a launch from outside a course."""
    if launch.context is None:
        raise NotFound("no_context", "This launch did not come from a course.")
    return launch.context.pk


def qualification_of(services: Services, session: Session, launch: Launch) -> Qualification:
    """The qualification the launch's course (or link) follows."""
    return qualification_for(session, services.catalog, launch.context_pk, launch.custom)


def my_checklist(services: Services, launch: Launch) -> dict[str, Any]:
    """The launching student's own checklist."""
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        data = build_checklist(
            session,
            qualification,
            launch.context_pk,
            launch.user_pk,
            services.settings.today(),
            services.settings.completion_max_age,
        )
    data["refresh"] = refresh_status(services, launch.user_pk, detailed=False)
    return data


def refresh_status(services: Services, user_pk: int, *, detailed: bool) -> dict[str, Any] | None:
    """How the latest attempt to read the LMS went; the details are for staff only."""
    attempt = last_attempt(services, user_pk)
    if attempt is None:
        return None
    status = str(attempt.get("status"))
    return {
        "status": status,
        "ok": status in READ,
        "at": dt.datetime.fromtimestamp(float(attempt.get("at", 0)), dt.UTC).isoformat(),
        "errors": list(attempt.get("errors", [])) if detailed else [],
    }


def is_student_of(services: Services, launch: Launch, sub: str) -> bool:
    """Whether ``sub`` is a member of the launch's course (whose page staff may open)."""
    with services.db.read_only() as session:
        try:
            student_in_context(session, context_pk_of(launch), sub)
        except NotFound:
            return False
    return True


def student_checklist(services: Services, launch: Launch, sub: str) -> dict[str, Any]:
    """Staff preview of one student of their course (callers check the staff role)."""
    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        user = student_in_context(session, context_pk, sub)
        qualification = qualification_of(services, session, launch)
        data = build_checklist(
            session,
            qualification,
            context_pk,
            user.id,
            services.settings.today(),
            services.settings.completion_max_age,
            include_held=True,
        )
        data["student"] = {"sub": user.sub, "name": user.name, "email": user.email}
        data["refresh"] = refresh_status(services, user.id, detailed=True)
        # Staff only: the courses the LMS cannot track for this student, and why.
        data["untrackable"] = [
            asdict(course)
            for course in untrackable_courses(session, context_pk, [user.id], qualification)
        ]
        data["attempts"] = [a.to_dict() for a in ms.student_attempts(session, context_pk, user.id)]
        return data


def module_starts_overview(services: Services, launch: Launch) -> dict[str, Any]:
    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        return _module_starts(session, qualification_of(services, session, launch), context_pk)


def _module_starts(
    session: Session, qualification: Qualification, context_pk: int
) -> dict[str, Any]:
    cohort = ms.cohort_starts(session, context_pk)
    return {
        "qualification": qualification.code,
        "modules": [
            {
                "code": m.code,
                "title": m.title,
                "start_date": cohort[m.code].isoformat() if m.code in cohort else None,
            }
            for m in qualification.modules
        ],
    }


def set_cohort_module_starts(
    services: Services, launch: Launch, body: Mapping[str, Any]
) -> dict[str, Any]:
    """``{module code: "2027-05-30", …}`` for the whole cohort; validated whole before writing.
    A later module starting before an earlier one is saved only with ``confirm_order``."""
    context_pk = context_pk_of(launch)
    body = dict(body) if isinstance(body, Mapping) else body
    confirm = body.pop("confirm_order", None) if isinstance(body, dict) else None
    confirmed = confirm is True or str(confirm).lower() in {"1", "true", "yes", "on"}
    with services.db.unit_of_work() as session:
        qualification = qualification_of(services, session, launch)
        starts = ms.parse_starts(qualification, body)
        after = {**ms.cohort_starts(session, context_pk), **starts}
        ms.check_start_order(qualification, after, confirmed=confirmed)
        ms.set_cohort_starts(session, context_pk, starts, launch.user_pk)
    return module_starts_overview(services, launch)


def set_student_module_starts(
    services: Services, launch: Launch, sub: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """A new attempt per module named in ``body`` for one student; ``reason`` is kept."""
    context_pk = context_pk_of(launch)
    body = dict(body) if isinstance(body, Mapping) else {}
    reason = body.pop("reason", None)
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("bad_reason", "The reason must be text: say why the date changes.")
    with services.db.unit_of_work() as session:
        user = check_studies_here(session, context_pk, student_in_context(session, context_pk, sub))
        starts = ms.parse_starts(qualification_of(services, session, launch), body)
        for code, start in starts.items():
            ms.add_student_start(
                session, context_pk, user.id, code, start, str(reason or ""), launch.user_pk
            )
        attempts = ms.student_attempts(session, context_pk, user.id)
        effective = ms.effective_starts(session, context_pk, user.id)
    return {
        "sub": sub,
        "effective": {k: v.isoformat() for k, v in sorted(effective.items())},
        "attempts": [a.to_dict() for a in attempts],
    }


def choose_context_qualification(services: Services, launch: Launch, code: str) -> str:
    """Staff choose the qualification the course tracks, unless the link sets it."""
    refuse_if_set_by_link(services.catalog, launch.custom)
    context_pk = context_pk_of(launch)
    with services.db.unit_of_work() as session:
        return choose_qualification(
            session, services.catalog, context_pk, code, launch.user_pk
        ).code


def staff_overview(services: Services, launch: Launch) -> dict[str, Any]:
    """What the staff home page shows until the class view lands: settings and members."""
    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        people = members(session, context_pk)
        overview = _module_starts(session, qualification, context_pk)
    overview.update(
        qualification_title=qualification.title,
        set_by_link=services.catalog.named_by_link(launch.custom) is not None,
        unknown_link_code=services.catalog.unknown_to_link(launch.custom),
        known_codes=", ".join(sorted(services.catalog.qualifications)),
        deadline_months=qualification.time_rules.deadline_months,
        qualifications=[
            {"code": q.code, "title": q.title} for q in services.catalog.qualifications.values()
        ],
        members=people,
    )
    return overview


def import_module_starts_csv(services: Services, launch: Launch, text: str) -> StartsImported:
    """Import start dates from CSV; a bad file writes nothing."""
    from lti_tool.pathway.csv_import import import_module_starts

    context_pk = context_pk_of(launch)
    with services.db.unit_of_work() as session:
        qualification = qualification_of(services, session, launch)
        return import_module_starts(session, qualification, context_pk, text, launch.user_pk)


def record_completion(
    services: Services, launch: Launch, sub: str, code: str, body: Any
) -> dict[str, Any]:
    """Staff record or correct one student's completion of one CPD course (audited)."""
    from lti_tool.pathway.manual import parse_entry, record_manual

    context_pk = context_pk_of(launch)
    with services.db.unit_of_work() as session:
        user = check_studies_here(session, context_pk, student_in_context(session, context_pk, sub))
        entry = parse_entry(qualification_of(services, session, launch), code, body, user.id)
        record_manual(session, context_pk, entry, launch.user_pk)
    return student_checklist(services, launch, sub)


def import_completions_csv(services: Services, launch: Launch, text: str, reason: str) -> int:
    """Manual completions from CSV (student, course_code, status, completed_at); a file with
    any bad row writes nothing."""
    from lti_tool.pathway.manual import parse_csv, record_manual

    context_pk = context_pk_of(launch)
    with services.db.unit_of_work() as session:
        qualification = qualification_of(services, session, launch)
        entries = parse_csv(session, qualification, context_pk, text, reason or "CSV import")
        for entry in entries:
            record_manual(session, context_pk, entry, launch.user_pk)
    return len(entries)
