"""Data privacy tests: privacy launches, and a student with something in every table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from lti_tool.lti import claims as c
from lti_tool.persistence.models import (
    AssessmentResultRow,
    AuditEntry,
    CohortModuleStart,
    CompletionRecord,
    Context,
    Deployment,
    LineItemRow,
    Membership,
    OutboxRow,
    ResourceLink,
    StudentModuleStart,
    User,
    utcnow,
)
from lti_tool.sandbox.demo_people import DEMO_USERS
from tests.support.lti import REMOVE, Launcher, launch_token
from tests.support.pathway_web import add_completions

PRIVACY = "DataPrivacyLaunchRequest"


def privacy_launch(
    launcher: Launcher,
    user: str,
    for_user: str | None = None,
    *,
    message_type: str = PRIVACY,
    client: FlaskClient | None = None,
) -> tuple[FlaskClient, TestResponse]:
    """A Data Privacy Launch by ``user`` about ``for_user`` (default: themself), shaped as
    Canvas sends it: no resource link, and no context (pylti1p3 refuses one, and insists on
    the ``for_user`` claim)."""
    client = client or launcher.app.test_client()
    changes: dict[str, Any] = {c.MESSAGE_TYPE: message_type}
    changes.update({claim: REMOVE for claim in (c.RESOURCE_LINK, c.CONTEXT, c.NRPS, c.AGS)})
    changes[c.FOR_USER] = {"user_id": for_user or DEMO_USERS[user].sub, "roles": []}
    return client, launcher.launch(client, user, changes=changes)


def seed_student_data(launcher: Launcher) -> None:
    """Tess (teacher) records a start date and a result for Sam (1001), naming him in the
    reasons; Sam has completion copies from two sources and has launched himself."""
    launcher.launch(launcher.app.test_client(), "student1")
    teacher = launcher.app.test_client()
    token = launch_token(launcher.launch(teacher, "teacher1").get_data(as_text=True))
    bearer = {"Authorization": f"Bearer {token}"}
    start = teacher.put(
        "/api/context/module-starts/1001",
        json={"B832": "2027-01-10", "reason": "Sam Student deferred: resit"},
        headers=bearer,
    )
    assert start.status_code == 200, start.get_data(as_text=True)
    result = teacher.put(
        "/api/context/results/B832/1001",
        json={"score": 71, "outcome": "pass", "override_reason": "APL agreed with Sam Student"},
        headers=bearer,
    )
    assert result.status_code == 200, result.get_data(as_text=True)
    other = teacher.put(
        "/api/context/results/B832/1002",
        json={"score": 64, "outcome": "pass", "override_reason": "APL for Priya"},
        headers=bearer,
    )
    assert other.status_code == 200, other.get_data(as_text=True)
    add_completions(
        launcher.app,
        "1001",
        {"GB080": ("completed", dt.date(2026, 3, 1), dt.date(2026, 4, 1))},
        source="moodle",
    )
    add_completions(launcher.app, "1001", {"GB081": ("in_progress", None, None)}, source="manual")


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.extensions["lti_tool"].db.read_only() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)
        return int(session.scalar(query) or 0)


# --- retention: courses and people straight in the database ----------------------------------

LONG_AGO = dt.timedelta(days=400)


def seed_retention(app: Flask) -> dict[str, int]:
    """An old course (last used 400 days ago) and a fresh one in the sandbox deployment.

    Alice is only in the old course; Bob (staff) is in both; Carl was never in a course and
    was last seen long ago; Dora was never in a course but launched today. Returns the pks.
    """
    now = utcnow()
    then = now - LONG_AGO
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        deployment = session.scalars(select(Deployment)).one()
        reg = deployment.registration_id
        old = Context(
            deployment_pk=deployment.id,
            context_id="old-course",
            title="Cohort 2024",
            updated_at=then,
            roster_fetched_at=then,
        )
        fresh = Context(deployment_pk=deployment.id, context_id="fresh-course", title="Cohort 2026")
        people = {
            key: User(registration_id=reg, sub=sub, name=name, email=email, updated_at=when)
            for key, sub, name, email, when in (
                ("alice", "a-1", "Alice Oldham", "alice@example.org", then),
                ("bob", "b-1", "Bob Both", "bob@example.org", now),
                ("carl", "c-1", "Carl Stale", "carl@example.org", then),
                ("dora", "d-1", "Dora New", "dora@example.org", now),
            )
        }
        session.add_all([old, fresh, *people.values()])
        session.flush()
        alice, bob = people["alice"].id, people["bob"].id
        session.add_all(
            [
                Membership(
                    context_pk=old.id, user_pk=alice, roles=["Learner"], last_launch_at=then
                ),
                Membership(
                    context_pk=old.id, user_pk=bob, roles=["Instructor"], last_launch_at=then
                ),
                Membership(
                    context_pk=fresh.id, user_pk=bob, roles=["Instructor"], last_launch_at=now
                ),
                StudentModuleStart(
                    context_pk=old.id,
                    user_pk=alice,
                    module_code="B832",
                    attempt=1,
                    start_date=dt.date(2024, 5, 1),
                    created_by_user_pk=bob,
                ),
                CohortModuleStart(
                    context_pk=old.id, module_code="B832", start_date=dt.date(2024, 5, 1)
                ),
                LineItemRow(context_pk=old.id, module_code="B832", url="https://lms/li/1"),
                ResourceLink(deployment_pk=deployment.id, context_pk=old.id, resource_link_id="l1"),
                CompletionRecord(
                    user_pk=alice, course_code="GB080", status="completed", source="moodle"
                ),
                CompletionRecord(
                    user_pk=people["carl"].id,
                    course_code="GB080",
                    status="completed",
                    source="manual",
                ),
                AuditEntry(
                    action="module_start.student",
                    actor_user_pk=bob,
                    subject_user_pk=alice,
                    context_pk=old.id,
                    subject="B832",
                    reason="Alice Oldham asked for a resit",
                ),
                AuditEntry(action="qualification.choose", actor_user_pk=bob, context_pk=fresh.id),
            ]
        )
        result = AssessmentResultRow(
            context_pk=old.id, user_pk=alice, module_code="B832", score=60, outcome="pass"
        )
        session.add(result)
        session.flush()
        session.add(
            OutboxRow(
                result_pk=result.id, context_pk=old.id, module_code="B832", payload={"u": "a-1"}
            )
        )
        ids = {key: user.id for key, user in people.items()}
        ids.update(old=old.id, fresh=fresh.id, registration=reg)
    return ids


def table_counts(app: Flask) -> dict[str, int]:
    models = (
        User,
        Context,
        Membership,
        StudentModuleStart,
        CohortModuleStart,
        LineItemRow,
        ResourceLink,
        CompletionRecord,
        AuditEntry,
        AssessmentResultRow,
        OutboxRow,
    )
    return {model.__tablename__: count(app, model) for model in models}
