"""The set-up of ``scripts/bench_class.py``: the tool's app on a fresh SQLite file or
PostgreSQL schema, one course of N students seeded straight through SQLAlchemy, and a staff
launch session (a bearer token) to ask the class pages with.

Student ``index`` (0-based) has the CPD progress of ``bench_support.completion_data``
(finished the first ``index % 14`` courses, started the next one when ``index`` is even), read
from Moodle; every tenth also has a course recorded by hand. Two thirds have opened the tool.
Students with all of B832's courses have a B832 result (a few held, most released and sent:
delivered, a few failed), those with everything a B833 result too; every 25th has a resit
start of B832. Ten tutor groups, each student in one (every seventh in two).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from bench_support.completion_data import CODES, finished, started_next
from bench_support.completion_tool import INSTRUCTOR, LEARNER, database_url
from lti_tool import create_app
from lti_tool.container import Services
from lti_tool.lti import registry
from lti_tool.lti.claims import normalise_roles
from lti_tool.lti.launch_context import (
    Launch,
    LaunchCourse,
    LaunchRegistration,
    LaunchRoles,
    LaunchUser,
)
from lti_tool.lti.sessions import create_session, new_binding_id
from lti_tool.persistence.migrate import upgrade
from lti_tool.persistence.models import (
    AssessmentResultRow,
    CohortModuleStart,
    CompletionRecord,
    Context,
    CourseGroup,
    CourseGroupMember,
    Membership,
    OutboxRow,
    StudentModuleStart,
    User,
)
from lti_tool.settings import load_settings, normalise_database_url

SECRET_KEY = "bench-class-secret-key-not-for-production"
B832_COURSES = 7  # GB080-GB086 count for B832
GROUPS = 10


@dataclass(frozen=True)
class ClassSite:
    app: Flask
    services: Services
    context_pk: int
    bearer: dict[str, str]
    seconds: float


@contextlib.contextmanager
def class_site(db: str, folder: Path, pg_url: str, students: int) -> Iterator[ClassSite]:
    """The app on a migrated database holding one course of ``students``, and a teacher's
    launch session in it."""
    with database_url(db, folder, pg_url) as url:
        upgrade(normalise_database_url(url))
        settings = load_settings(
            overrides={
                "env": "development",
                "base_url": "http://127.0.0.1:5000",
                "database_url": url,
                "redis_url": "",
                "secret_key": SECRET_KEY,
                "instance_dir": str(folder / "instance"),
                "log_level": "WARNING",
            },
            environ={},
        )
        app = create_app(settings)
        services: Services = app.extensions["lti_tool"]
        try:
            started = time.perf_counter()
            launch = seed_class(services, students)
            token = create_session(services.store, launch, 3600)
            yield ClassSite(
                app,
                services,
                launch.context_pk,
                {"Authorization": f"Bearer {token}"},
                time.perf_counter() - started,
            )
        finally:
            services.close()


def seed_class(services: Services, count: int) -> Launch:
    """The course and its ``count`` students (module docstring); the teacher's launch."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    base = dt.date(2026, 1, 5)
    with services.db.unit_of_work() as session:
        registration = registry.add_platform(
            session,
            registry.PlatformSpec(
                name="bench-class",
                issuer="https://moodle.example.org",
                client_id="client-bench-class",
                auth_login_url="https://moodle.example.org/mod/lti/auth.php",
                auth_token_url="https://moodle.example.org/mod/lti/token.php",
                key_set_url="https://moodle.example.org/mod/lti/certs.php",
                kind="moodle",
                deployment_ids=["1"],
            ),
            development=True,
        )
        deployment = registration.deployments[0]
        context = Context(
            deployment_pk=deployment.id, context_id="course-bench", title="PGCERT-CL 2026"
        )
        session.add(context)
        session.flush()
        cpk = context.id
        people = [(str(10001 + i), LEARNER) for i in range(count)] + [("2001", INSTRUCTOR)]
        session.execute(
            sa.insert(User),
            [
                {
                    "registration_id": registration.id,
                    "sub": sub,
                    "name": f"Learner {sub}" if role == LEARNER else "Teacher One",
                    "given_name": "Learner",
                    "family_name": sub,
                    "email": f"learner{sub}@example.org",
                }
                for sub, role in people
            ],
        )
        pks = {
            str(sub): int(pk)
            for sub, pk in session.execute(
                sa.select(User.sub, User.id).where(User.registration_id == registration.id)
            )
        }
        session.execute(
            sa.insert(Membership),
            [
                {
                    "context_pk": cpk,
                    "user_pk": pks[sub],
                    "roles": [role],
                    "status": "active",
                    "in_roster": True,
                    "last_launch_at": now if n % 3 else None,
                }
                for n, (sub, role) in enumerate(people)
            ],
        )
        student_pks = [pks[sub] for sub, role in people if role == LEARNER]
        session.add_all(
            [
                CohortModuleStart(context_pk=cpk, module_code="B832", start_date=base),
                CohortModuleStart(
                    context_pk=cpk, module_code="B833", start_date=base + dt.timedelta(days=150)
                ),
            ]
        )
        session.add_all(
            StudentModuleStart(
                context_pk=cpk,
                user_pk=pk,
                module_code="B832",
                attempt=2,
                start_date=base + dt.timedelta(days=60),
                reason="resit",
            )
            for index, pk in enumerate(student_pks)
            if index % 25 == 0
        )
        session.execute(sa.insert(CompletionRecord), list(_completions(student_pks, base, now)))
        results = list(_results(cpk, student_pks, now))
        session.add_all(results)
        session.flush()
        session.add_all(_outbox(cpk, results, now))
        groups = [
            CourseGroup(context_pk=cpk, group_id=f"g{g}", name=f"Tutor group {g + 1}")
            for g in range(GROUPS)
        ]
        session.add_all(groups)
        session.flush()
        members = {(groups[i % GROUPS].id, pk) for i, pk in enumerate(student_pks)}
        members |= {
            (groups[(i + 1) % GROUPS].id, pk) for i, pk in enumerate(student_pks) if i % 7 == 0
        }
        session.execute(
            sa.insert(CourseGroupMember), [{"group_pk": g, "user_pk": u} for g, u in members]
        )
        launch = Launch(
            user=LaunchUser(pks["2001"], "2001", "Teacher One", "teacher@example.org"),
            roles=_roles(INSTRUCTOR),
            context=LaunchCourse(cpk, "course-bench", "PGCERT-CL 2026", None),
            resource_link_pk=None,
            registration=LaunchRegistration(
                registration.id,
                registration.name,
                registration.issuer,
                registration.client_id,
                deployment.id,
                deployment.deployment_id,
            ),
            message_type="LtiResourceLinkRequest",
            binding_id=new_binding_id(),
            bound_at=time.time_ns(),
            launched_at=time.time_ns(),
        )
    return launch


def _roles(role: str) -> LaunchRoles:
    read = normalise_roles([role])
    return LaunchRoles(
        raw=(role,),
        names=tuple(sorted(read.names)),
        is_staff=read.is_staff,
        is_admin=read.is_admin,
        limited=read.limited,
    )


def _completions(
    student_pks: list[int], base: dt.date, now: dt.datetime
) -> Iterator[dict[str, object]]:
    for index, pk in enumerate(student_pks):
        begun = base + dt.timedelta(days=index % 50)
        for position, code in enumerate(CODES[: finished(index)]):
            done = begun + dt.timedelta(days=7 * position)
            yield _record(pk, code, "completed", done - dt.timedelta(days=1), done, "moodle", now)
        if started_next(index):
            when = begun + dt.timedelta(days=7 * finished(index))
            yield _record(pk, CODES[finished(index)], "in_progress", when, None, "moodle", now)
        if index % 10 == 0:
            yield _record(pk, CODES[-1], "completed", None, base, "manual", now)


def _record(
    pk: int,
    code: str,
    status: str,
    started: dt.date | None,
    completed: dt.date | None,
    source: str,
    now: dt.datetime,
) -> dict[str, object]:
    return {
        "user_pk": pk,
        "course_code": code,
        "status": status,
        "started_at": started,
        "completed_at": completed,
        "source": source,
        "fetched_at": now,
    }


def _results(
    context_pk: int, student_pks: list[int], now: dt.datetime
) -> Iterator[AssessmentResultRow]:
    for index, pk in enumerate(student_pks):
        for module, needed in (("B832", B832_COURSES), ("B833", len(CODES))):
            if finished(index) < needed:
                continue
            score = float(40 + index % 61)
            yield AssessmentResultRow(
                context_pk=context_pk,
                user_pk=pk,
                module_code=module,
                score=score,
                max_score=100.0,
                outcome="pass" if score >= 50 else "fail",
                comment="Well argued." if index % 4 == 0 else None,
                released=index % 9 != 0,
                changed_at=now - dt.timedelta(seconds=index),
            )


def _outbox(
    context_pk: int, results: list[AssessmentResultRow], now: dt.datetime
) -> Iterator[OutboxRow]:
    for n, result in enumerate(results):
        if not result.released:
            continue
        failed = n % 17 == 0
        yield OutboxRow(
            result_pk=result.id,
            context_pk=context_pk,
            module_code=result.module_code,
            payload={"scoreGiven": result.score, "scoreMaximum": result.max_score},
            status="failed" if failed else "delivered",
            attempts=1,
            last_error="The gradebook did not answer." if failed else None,
            delivered_at=None if failed else now,
        )
