"""The class view's batch reads give each student what the single-student checklist does:
a manual record beats the LMS, and a student's latest attempt beats the cohort's start
(whatever its number)."""

from __future__ import annotations

import datetime as dt

from lti_tool.pathway.checklist import completions_of, completions_of_many
from lti_tool.pathway.module_starts import effective_starts, effective_starts_of_many
from lti_tool.persistence.db import Database
from lti_tool.persistence.models import (
    CohortModuleStart,
    CompletionRecord,
    Context,
    Deployment,
    Registration,
    StudentModuleStart,
    User,
)
from lti_tool.rules import Completion

MAY, JUNE, JULY, AUGUST = (dt.date(2027, m, 1) for m in (5, 6, 7, 8))


def _course(db: Database) -> tuple[int, list[int]]:
    """A course with four students: LMS only, manual over LMS, manual only, and none (but a
    start attempt numbered by hand)."""
    with db.unit_of_work() as session:
        registration = Registration(
            name="batch",
            issuer="https://lms.example",
            client_id="c",
            auth_login_url="https://lms.example/login",
            auth_token_url="https://lms.example/token",
            key_set_url="https://lms.example/jwks",
        )
        session.add(registration)
        session.flush()
        deployment = Deployment(registration_id=registration.id, deployment_id="d", active=True)
        session.add(deployment)
        session.flush()
        context = Context(deployment_pk=deployment.id, context_id="course")
        users = [User(registration_id=registration.id, sub=f"s{n}") for n in range(4)]
        session.add_all([context, *users])
        session.flush()
        lms, corrected, manual, nothing = (u.id for u in users)

        def record(user_pk: int, code: str, status: str, source: str) -> CompletionRecord:
            return CompletionRecord(user_pk=user_pk, course_code=code, status=status, source=source)

        session.add_all(
            [
                record(lms, "C1", "completed", "canvas"),
                record(lms, "C2", "in_progress", "moodle"),
                record(corrected, "C1", "in_progress", "canvas"),
                record(corrected, "C1", "completed", "manual"),
                record(corrected, "C2", "completed", "moodle"),
                record(manual, "C3", "completed", "manual"),
                CohortModuleStart(context_pk=context.id, module_code="B832", start_date=MAY),
                CohortModuleStart(context_pk=context.id, module_code="B833", start_date=JUNE),
            ]
        )

        def attempt(user_pk: int, code: str, number: int, start: dt.date) -> StudentModuleStart:
            return StudentModuleStart(
                context_pk=context.id,
                user_pk=user_pk,
                module_code=code,
                attempt=number,
                start_date=start,
            )

        # Recorded out of order: the highest attempt is in force, not the last row written.
        session.add_all(
            [
                attempt(corrected, "B832", 2, AUGUST),
                attempt(corrected, "B832", 1, JULY),
                attempt(manual, "B833", 1, JULY),
                attempt(manual, "B834", 1, AUGUST),
                # Written by hand (the tool numbers from 1): still the student's own date.
                attempt(nothing, "B833", 0, AUGUST),
            ]
        )
        return context.id, [u.id for u in users]


def _key(completion: Completion) -> tuple[str, str]:
    return completion.course_code, completion.source


def test_completions_of_many_agrees_with_completions_of(db: Database) -> None:
    _, students = _course(db)
    with db.read_only() as session:
        many = completions_of_many(session, students)
        single = {pk: completions_of(session, pk, {"C1", "C2", "C3"})[0] for pk in students}

    assert set(many) == set(students)
    for pk in students:
        assert sorted(many[pk], key=_key) == sorted(single[pk], key=_key)
    lms, corrected, manual, nothing = students
    assert sorted(map(_key, many[lms])) == [("C1", "canvas"), ("C2", "moodle")]
    assert sorted(map(_key, many[corrected])) == [("C1", "manual"), ("C2", "moodle")]
    assert [(c.course_code, c.status.value) for c in many[manual]] == [("C3", "completed")]
    assert many[nothing] == []


def test_effective_starts_of_many_agrees_with_effective_starts(db: Database) -> None:
    context_pk, students = _course(db)
    with db.read_only() as session:
        many = effective_starts_of_many(session, context_pk, students)
        single = {pk: effective_starts(session, context_pk, pk) for pk in students}

    assert many == single
    lms, corrected, manual, nothing = students
    assert many[lms] == {"B832": MAY, "B833": JUNE}
    assert many[nothing] == {"B832": MAY, "B833": AUGUST}
    assert many[corrected] == {"B832": AUGUST, "B833": JUNE}
    assert many[manual] == {"B832": MAY, "B833": JULY, "B834": AUGUST}
