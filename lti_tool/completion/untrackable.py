"""Which CPD courses the LMS cannot track for a course's students, and why, for staff.

A refresh stores ``untrackable`` for a course the LMS answered it cannot tell about (a Moodle
course without completion criteria, a Moodle activity with completion tracking off, a Canvas
course or module without completion requirements). A course an LMS source with some courses
mapped has no mapping for is never read, and is just as unknown (``completion.unmapped``). The
staff pages (class view, completion grid, student preview) say once per CPD course what must be
set up, in the LMS or on the tool's mapping page, from the stored records and the
registration's mapping, so the words stay after the refresh's own record has expired.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.completion.unmapped import SourceMapping, source_mapping
from lti_tool.lms.canvas.source import course_without_requirements, module_without_requirements
from lti_tool.lms.links import lms_id
from lti_tool.lms.moodle.errors import no_criteria, tracking_off
from lti_tool.lti.claims import normalise_roles
from lti_tool.persistence.models import (
    AssessmentResultRow,
    CompletionRecord,
    CompletionSourceConfig,
    Context,
    CourseMappingRow,
    Deployment,
    Membership,
)
from lti_tool.rules import AssessmentOutcome, CompletionStatus, Module, Qualification


@dataclass(frozen=True)
class UntrackableCourse:
    """A CPD course the LMS cannot track, for how many of the students asked about it still
    matters (the module not passed, its optional group not made up), and why."""

    code: str
    students: int
    cause: str


def untrackable_in_context(
    session: Session, context_pk: int, qualification: Qualification | None = None
) -> list[UntrackableCourse]:
    """``untrackable_courses`` for every student of the course."""
    members = session.execute(
        select(Membership.user_pk, Membership.roles).where(Membership.context_pk == context_pk)
    ).all()
    students = [pk for pk, roles in members if normalise_roles(roles or []).is_learner]
    return untrackable_courses(session, context_pk, students, qualification)


def untrackable_courses(
    session: Session,
    context_pk: int | None,
    user_pks: Sequence[int],
    qualification: Qualification | None = None,
) -> list[UntrackableCourse]:
    """The CPD courses stored as untrackable for any of ``user_pks``, and those of the
    course's ``qualification`` its LMS source has no mapping for (``completion.unmapped``),
    by code, each with what must be set up and for how many of them it still matters. A
    manual record for a student replaces the LMS's word; an unmapped course the LMS once
    reported completed is known. As many statements for any number of students."""
    if not user_pks:
        return []
    codes = qualification.course_codes() if qualification is not None else frozenset()
    mapping = source_mapping(session, context_pk) if context_pk is not None else SourceMapping()
    unmapped = mapping.unmapped(codes)
    # Completed courses count where a course is unmapped (known) or makes up a group.
    grouped = _group_courses(qualification)
    untrackable = CompletionStatus.UNTRACKABLE.value
    completed = CompletionStatus.COMPLETED.value
    rows = session.execute(
        select(
            CompletionRecord.user_pk,
            CompletionRecord.course_code,
            CompletionRecord.source,
            CompletionRecord.status,
        )
        .where(CompletionRecord.user_pk.in_(list(user_pks)))
        .where(
            (CompletionRecord.status == untrackable)
            | (CompletionRecord.source == "manual")
            | (
                CompletionRecord.course_code.in_(unmapped | grouped)
                & (CompletionRecord.status == completed)
            )
        )
    ).all()
    manual = {(pk, code) for pk, code, source, _ in rows if source == "manual"}
    in_force = [
        (pk, code, status)
        for pk, code, source, status in rows
        if source == "manual" or (pk, code) not in manual
    ]
    stored = {(pk, code) for pk, code, _, status in rows if status == untrackable} - manual
    done = {(pk, code) for pk, code, status in in_force if status == completed}
    known = manual | {(pk, code) for pk, code, _, status in rows if status == completed}
    unread = {(pk, code) for pk in user_pks for code in unmapped} - known
    unknown = stored | unread
    if not unknown:
        return []
    needed = _still_needed(session, context_pk, qualification, unknown, done)
    counts = Counter(code for pk, code in unknown if (pk, code) in needed)
    shown = sorted({code for _, code in unknown})
    said = sorted(set(shown) - unmapped)
    causes = _causes(session, context_pk, said) if said else {}
    causes |= {code: mapping.cause(code) for code in unmapped}
    return [UntrackableCourse(code, counts[code], causes[code]) for code in shown]


def _group_courses(qualification: Qualification | None) -> frozenset[str]:
    """The courses of every optional group of ``qualification``."""
    modules = qualification.modules if qualification is not None else ()
    return frozenset(c for m in modules for g in m.optional_groups for c in g.courses)


def _still_needed(
    session: Session,
    context_pk: int | None,
    qualification: Qualification | None,
    unknown: set[tuple[int, str]],
    done: set[tuple[int, str]],
) -> set[tuple[int, str]]:
    """Of ``unknown`` (student, course), those the student still needs, as the completion
    grid says: not when the first module listing the course is passed (a pass recorded,
    held or not), nor when its optional group is made up by courses completed."""
    if qualification is None or context_pk is None:
        return unknown
    passed = {
        (pk, module_code)
        for pk, module_code in session.execute(
            select(AssessmentResultRow.user_pk, AssessmentResultRow.module_code).where(
                AssessmentResultRow.context_pk == context_pk,
                AssessmentResultRow.user_pk.in_(sorted({pk for pk, _ in unknown})),
                AssessmentResultRow.outcome == AssessmentOutcome.PASS.value,
            )
        )
    }
    modules: dict[str, Module] = {}
    for module in qualification.modules:
        for course in module.courses:
            modules.setdefault(course.code, module)
    needed: set[tuple[int, str]] = set()
    for pk, code in unknown:
        first = modules.get(code)
        if first is None:
            needed.add((pk, code))
            continue
        made_up = any(
            code in group.courses
            and sum((pk, other) in done for other in group.courses) >= group.choose
            for group in first.optional_groups
        )
        if (pk, first.code) not in passed and not made_up:
            needed.add((pk, code))
    return needed


def _causes(session: Session, context_pk: int | None, codes: list[str]) -> dict[str, str]:
    """What a teacher must set for each code, in the words the refresh used."""
    source = None
    mappings: dict[str, CourseMappingRow] = {}
    if context_pk is not None:
        found = session.execute(
            select(CompletionSourceConfig)
            .join(Deployment, Deployment.registration_id == CompletionSourceConfig.registration_pk)
            .join(Context, Context.deployment_pk == Deployment.id)
            .where(Context.id == context_pk)
        ).scalar_one_or_none()
        if found is not None:
            source = found
            mappings = {
                m.course_code: m
                for m in session.scalars(
                    select(CourseMappingRow).where(
                        CourseMappingRow.registration_pk == found.registration_pk,
                        CourseMappingRow.course_code.in_(codes),
                    )
                )
            }
    return {code: _cause(code, source, mappings.get(code)) for code in codes}


def _cause(
    code: str, source: CompletionSourceConfig | None, mapping: CourseMappingRow | None
) -> str:
    if source is not None and source.kind == "moodle" and mapping is not None:
        course_id = mapping.course_id.strip()
        activity_id = (mapping.activity_id or "").strip()
        if source.mode == "activity" and lms_id(course_id) and lms_id(activity_id):
            return tracking_off(code, int(course_id), int(activity_id)).message
        if source.mode != "activity" and lms_id(course_id):
            return no_criteria(code, int(course_id)).message
    if source is not None and source.kind == "canvas" and mapping is not None:
        course_id = mapping.course_id.strip()
        if source.mode == "activity" and mapping.activity_id:
            return module_without_requirements(code, course_id, mapping.activity_id.strip()).message
        if source.mode != "activity":
            return course_without_requirements(code, course_id).message
    return (
        f"{code}'s course in the LMS cannot report completion: a teacher must turn on "
        "completion tracking for it there."
    )
