"""The tool side of ``scripts/bench_completion.py``: services on a fresh database, a class of
students enrolled straight through SQLAlchemy, the stored result, and the naive loop."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench_support.completion_data import CODES, Tally
from lti_tool.completion.setup import configure_source, set_mapping
from lti_tool.container import Services, build_services, outbound_session
from lti_tool.lms.moodle.client import MoodleWsClient
from lti_tool.lti import registry
from lti_tool.persistence.migrate import upgrade
from lti_tool.persistence.models import CompletionRecord, Context, Membership, User
from lti_tool.sandbox.demo_data import PROGRAMME_COURSE_ID, course_id, programme_cmid
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN
from lti_tool.settings import load_settings, normalise_database_url

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SECRET_KEY = "bench-completion-secret-key-not-for-production"


@contextlib.contextmanager
def database_url(db: str, folder: Path, pg_url: str) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL schema dropped at the end."""
    if db == "sqlite":
        yield f"sqlite:///{folder / 'tool.sqlite3'}"
        return
    schema = "bench_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(normalise_database_url(pg_url), poolclass=sa.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def tool_services(db: str, folder: Path, pg_url: str) -> Iterator[Services]:
    """The tool's services (what ``create_app`` builds) on a migrated, empty database."""
    with database_url(db, folder, pg_url) as url:
        upgrade(normalise_database_url(url))
        settings = load_settings(
            overrides={
                "env": "development",
                "outbound_allow_loopback": True,  # the sandbox Moodle runs on 127.0.0.1
                "base_url": "http://127.0.0.1:5000",
                "database_url": url,
                "redis_url": "",
                "secret_key": SECRET_KEY,
                "instance_dir": str(folder / "instance"),
                "log_level": "WARNING",
            },
            environ={},
        )
        services = build_services(settings)
        try:
            yield services
        finally:
            services.close()


@dataclass(frozen=True)
class BenchClass:
    name: str
    registration_pk: int
    context_pk: int
    user_pks: list[int]


def enrol_class(
    services: Services, name: str, moodle_url: str, mode: str, moodle_ids: Sequence[int]
) -> BenchClass:
    """A registration with its Moodle source and 13 mappings in ``mode`` ("activity" or
    "course"), one course (context) and ``moodle_ids`` as its active learners, plus a teacher
    (whom ``refresh_class`` must skip)."""
    with services.db.unit_of_work() as session:
        registration = registry.add_platform(
            session,
            registry.PlatformSpec(
                name=name,
                issuer="https://moodle.example.org",
                client_id=f"client-{name}",
                auth_login_url="https://moodle.example.org/mod/lti/auth.php",
                auth_token_url="https://moodle.example.org/mod/lti/token.php",
                key_set_url="https://moodle.example.org/mod/lti/certs.php",
                kind="moodle",
                deployment_ids=["1"],
            ),
            development=True,
        )
        configure_source(
            session,
            services.secrets,
            name,
            kind="moodle",
            endpoint_url=moodle_url,
            token=SANDBOX_TOKEN,
            mode=mode,
            development=True,
        )
        for code in CODES:
            if mode == "activity":
                set_mapping(
                    session, name, code, str(PROGRAMME_COURSE_ID), str(programme_cmid(code))
                )
            else:
                set_mapping(session, name, code, str(course_id(code)))
        context = Context(
            deployment_pk=registration.deployments[0].id,
            context_id=f"course-{name}",
            title="PGCERT-CL",
        )
        session.add(context)
        session.flush()
        registration_pk, context_pk = registration.id, context.id
        people = [(str(i), LEARNER) for i in moodle_ids] + [("2001", INSTRUCTOR)]
        session.execute(
            sa.insert(User),
            [
                {"registration_id": registration_pk, "sub": sub, "name": f"User {sub}"}
                for sub, _ in people
            ],
        )
        found = session.execute(
            sa.select(User.sub, User.id).where(User.registration_id == registration_pk)
        )
        pks = {str(sub): int(pk) for sub, pk in found}
        session.execute(
            sa.insert(Membership),
            [
                {"context_pk": context_pk, "user_pk": pks[sub], "roles": [role], "status": "active"}
                for sub, role in people
            ],
        )
    return BenchClass(name, registration_pk, context_pk, [pks[str(i)] for i in moodle_ids])


def stored_tally(services: Services, user_pks: Sequence[int]) -> Tally:
    """What the refresh stored for these users, by status."""
    with services.db.read_only() as session:
        rows = session.execute(
            sa.select(CompletionRecord.status, sa.func.count())
            .where(CompletionRecord.user_pk.in_(list(user_pks)))
            .group_by(CompletionRecord.status)
        ).tuples()
        counts = Counter({str(status): int(n) for status, n in rows})
    return Tally(counts["completed"], counts["in_progress"], counts["not_started"])


def naive_loop(services: Services, moodle_url: str, mode: str, moodle_ids: Sequence[int]) -> float:
    """The same ``MoodleWsClient`` calls the source makes, one at a time, student after
    student (course after course); seconds taken."""
    timeout = services.settings.http_timeout_seconds
    http = outbound_session(services.settings)
    client = MoodleWsClient(moodle_url, SANDBOX_TOKEN, http, timeout=timeout)
    started = time.perf_counter()
    try:
        for user_id in moodle_ids:
            if mode == "activity":
                client.get_activities_completion_status(PROGRAMME_COURSE_ID, user_id)
            else:
                for code in CODES:
                    client.get_course_completion_status(course_id(code), user_id)
    finally:
        http.close()
    return time.perf_counter() - started
