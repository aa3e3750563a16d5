"""A student's checklist: their completion copy and module starts through the rules engine."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.completion.store import MANUAL_SOURCE
from lti_tool.errors import Forbidden, InvalidInput, NotFound
from lti_tool.lti.claims import normalise_roles
from lti_tool.pathway.checklist_view import add_page_facts, result_rows, with_lms_courses
from lti_tool.pathway.module_starts import effective_starts
from lti_tool.pathway.reads import COMPLETION_COPIES, MEMBERS
from lti_tool.persistence.models import (
    CompletionRecord,
    Context,
    Membership,
    User,
    utcnow,
)
from lti_tool.rules import (
    AssessmentOutcome,
    AssessmentResult,
    Completion,
    CompletionStatus,
    Qualification,
    evaluate,
)
from lti_tool.rules.progress import earliest_starts, with_start


class _Sourced(Protocol):
    """A completion copy as ``in_force`` reads it (a stored record, or its columns)."""

    @property
    def course_code(self) -> str: ...

    @property
    def source(self) -> str: ...


_R = TypeVar("_R", bound=_Sourced)


def in_force(records: Iterable[_R]) -> list[_R]:
    """One student's records that count. A manual record is a staff correction: it replaces
    what the LMS sources say about that course."""
    rows = list(records)
    corrected = {r.course_code for r in rows if r.source == MANUAL_SOURCE}
    return [r for r in rows if r.source == MANUAL_SOURCE or r.course_code not in corrected]


def as_completion(record: CompletionRecord | CompletionCopy) -> Completion:
    return Completion(
        record.course_code,
        CompletionStatus(record.status),
        record.started_at,
        record.completed_at,
        record.source,
    )


def completions_of(
    session: Session, user_pk: int, codes: Collection[str]
) -> tuple[list[Completion], list[dict[str, Any]]]:
    """The stored completion records and, per source, when its records of ``codes`` (the
    qualification's courses: another's say nothing of them) were fetched."""
    copies = completion_copies_of_many(session, [user_pk]).get(user_pk, [])
    completions = completions_in_force(copies)
    fetched: dict[str, dt.datetime] = {}
    for row in (r for r in in_force(copies) if r.course_code in codes):
        fetched[row.source] = max(row.fetched_at, fetched.get(row.source, row.fetched_at))
    sources = [{"name": name, "fetched_at": at} for name, at in sorted(fetched.items())]
    return completions, sources


def completions_of_many(session: Session, user_pks: Sequence[int]) -> dict[int, list[Completion]]:
    """``completions_of``'s completions for several students, in one query."""
    copies = completion_copies_of_many(session, user_pks)
    return {pk: completions_in_force(copies.get(pk, [])) for pk in user_pks}


def completion_copies_of_many(
    session: Session, user_pks: Sequence[int]
) -> dict[int, list[CompletionCopy]]:
    """Every stored completion record of several students (in force or not), in one query.
    Columns, not records: a class of 500 holds thousands, and building ORM objects was most
    of the class view's time. ``completions_in_force`` makes a student's completions."""
    records: dict[int, list[CompletionCopy]] = defaultdict(list)
    for row in session.execute(COMPLETION_COPIES, {"user_pks": list(user_pks)}):
        records[row[0]].append(CompletionCopy(*row[1:]))
    return records


def completions_in_force(copies: Iterable[CompletionCopy]) -> list[Completion]:
    """One student's completions from their stored copies (``in_force``). A staff record that
    a course is done, which does not say when it was begun, keeps the start date the LMS
    recorded (``rules.progress.with_start``), though the LMS's record is not in force."""
    completions = [as_completion(row) for row in copies]
    began = earliest_starts(c for c in completions if c.source != MANUAL_SOURCE)
    return [
        with_start(c, began.get(c.course_code)) if c.source == MANUAL_SOURCE else c
        for c in in_force(completions)
    ]


class CompletionCopy(NamedTuple):
    """The columns of a stored completion record (``CompletionRecord``)."""

    course_code: str
    status: str
    started_at: dt.date | None
    completed_at: dt.date | None
    source: str
    fetched_at: dt.datetime


def build_checklist(
    session: Session,
    qualification: Qualification,
    context_pk: int | None,
    user_pk: int,
    today: dt.date,
    stale_after: dt.timedelta,
    include_held: bool = False,
    with_links: bool = True,
) -> dict[str, Any]:
    """The checklist as the JSON API and the page show it. Results held for the exam board
    never count (credits, next steps): staff previewing a student see the student's own view,
    with a held result shown to them, marked held (``include_held``); the student is told
    only that one is held.
    Each requirement carries its LMS ``link``, each module its ``result`` and its courses
    grouped (``checklist_view.add_page_facts``); ``with_links`` False leaves the links out
    (a caller that only needs the rules' verdict)."""
    completions, sources = completions_of(session, user_pk, qualification.course_codes())
    completions, links = with_lms_courses(session, qualification, context_pk, completions)
    starts = effective_starts(session, context_pk, user_pk) if context_pk is not None else {}
    results = result_rows(session, context_pk, user_pk) if context_pk is not None else []
    assessments = {
        r.module_code: AssessmentResult(AssessmentOutcome(r.outcome), r.score, r.max_score)
        for r in results
        if r.released
    }
    checklist = evaluate(qualification, completions, starts, today, assessments)
    data = checklist.to_dict()
    now = utcnow()
    data["sources"] = [
        {
            "name": s["name"],
            "fetched_at": s["fetched_at"].isoformat(),
            "stale": now - s["fetched_at"] > stale_after,
        }
        for s in sources
    ]
    add_page_facts(data, qualification, links if with_links else {}, results, include_held)
    return data


def student_in_context(session: Session, context_pk: int, sub: str) -> User:
    """A member of the course by LTI ``sub``; 404 for anyone else (no probing other courses)."""
    context = session.get(Context, context_pk)
    user = session.scalar(
        select(User)
        .join(Membership, Membership.user_pk == User.id)
        .where(Membership.context_pk == context_pk, User.sub == sub)
    )
    if context is None or user is None:
        raise NotFound("unknown_student", "No student with that id in this course.")
    return user


def check_studies_here(session: Session, context_pk: int, user: User) -> User:
    """``user`` if they are an active student of the course: results, completions and start
    dates are recorded for no one else (not staff, not an observer, not someone who left)."""
    membership = session.scalar(
        select(Membership).where(Membership.context_pk == context_pk, Membership.user_pk == user.id)
    )
    name = user.name or user.sub
    if membership is None:
        raise NotFound("not_in_roster", f"No student “{name}” in this course's roster.")
    if membership.status != "active":
        raise InvalidInput("left_course", f"{name} has left the course.")
    roles = normalise_roles(membership.roles or [])
    if roles.is_staff:
        raise Forbidden("not_a_student", f"{name} is staff, not a student.")
    if not roles.is_learner:
        raise Forbidden(
            "not_a_student",
            f"{name} is not a student of this course (an observer or another role).",
        )
    return user


def student_named_in_file(
    session: Session, context_pk: int, who: str, email: str | None = None
) -> User:
    """An active student of the course named in a CSV file by LTI user id, email or the
    platform's username (``person_sourcedid``); an email or username two members share is
    refused, and so is a member who is not an active student (``check_studies_here``).

    ``email``, the line's own email cell (the class export writes one beside the id), must
    be that student's, and for a student the tool knows no email of, not another member's:
    user ids are unique only within one platform (Moodle numbers its users 2, 3, 4 … on
    every site), so a file exported from a course on another platform names other people by
    ids this course's students may share."""
    user = check_studies_here(session, context_pk, _member_named(session, context_pk, who))
    given = (email or "").strip()
    own = (user.email or "").strip().lower()
    differs = bool(given) and given.lower() != own
    if differs and (own or _another_members(session, context_pk, user, given)):
        raise InvalidInput(
            "student_mismatch",
            f"“{who}” is {user.name or user.sub} in this course, but the line gives the email "
            f"{given}, which is not theirs: the line may come from another course's file. "
            "Correct the line, or clear its email.",
        )
    return user


def _another_members(session: Session, context_pk: int, user: User, email: str) -> bool:
    """Whether ``email`` is the email of a member of the course other than ``user``."""
    found = session.scalar(
        select(User.id)
        .join(Membership, Membership.user_pk == User.id)
        .where(
            Membership.context_pk == context_pk,
            User.id != user.id,
            func.lower(func.trim(User.email)) == email.strip().lower(),
        )
        .limit(1)
    )
    return found is not None


def _member_named(session: Session, context_pk: int, who: str) -> User:
    try:
        return student_in_context(session, context_pk, who)
    except NotFound:
        pass
    base = (
        select(User)
        .join(Membership, Membership.user_pk == User.id)
        .where(Membership.context_pk == context_pk)
    )
    for column in (func.lower(User.email), func.lower(User.person_sourcedid)):
        found = list(session.scalars(base.where(column == who.strip().lower()).limit(2)))
        if len(found) == 1:
            return found[0]
        if found:
            raise InvalidInput(
                "ambiguous_student",
                f"“{who}” names more than one student in this course; use the LMS user id.",
            )
    raise NotFound(
        "unknown_student",
        f"No student “{who}” in this course: give the LMS user id, username or email.",
    )


def members(session: Session, context_pk: int) -> list[Mapping[str, Any]]:
    """Everyone the course knows: people who launched and the NRPS roster."""
    rows = session.execute(MEMBERS, {"context_pk": context_pk})
    return [
        {
            "sub": sub,
            "name": name,
            "email": email,
            "roles": roles,
            "is_staff": normalise_roles(roles).is_staff,
            "status": status,
            "launched": bool(launched),
        }
        for sub, name, email, roles, status, launched in rows
    ]
