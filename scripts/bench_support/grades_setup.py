"""The set-up of ``scripts/bench_grades.py``: the tool on a fresh SQLite file, the sandbox
platform on a loopback port (its AGS fake slowed to a fixed latency per call), and a course of
N learners each with one released B832 result waiting in the outbox."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from bench_support.grades_server import Sandbox, start_sandbox
from lti_tool import create_app
from lti_tool.container import Services
from lti_tool.grading.results import score_payload
from lti_tool.lti.claims import SCOPE_LINEITEM, SCOPE_RESULT, SCOPE_SCORE
from lti_tool.lti.keys import generate_key_material, new_signing_key
from lti_tool.persistence.migrate import upgrade
from lti_tool.persistence.models import (
    AssessmentResultRow,
    Context,
    Deployment,
    Membership,
    OutboxRow,
    Registration,
    ResourceLink,
    User,
)
from lti_tool.sandbox import register_sandbox
from lti_tool.sandbox.demo_people import DEMO_CONTEXT, MEMBERSHIP
from lti_tool.sandbox.platform import SandboxPlatform
from lti_tool.settings import load_settings, normalise_database_url

SECRET_KEY = "bench-grades-secret-key-not-for-production"
TOOL_URL = "http://127.0.0.1:5000"  # never served: the platform is handed the JWKS
MODULE = "B832"
AGS_SCOPES = [SCOPE_LINEITEM, SCOPE_RESULT, SCOPE_SCORE]
FIRST_SUB = 500_001


@dataclass
class Site:
    app: Flask
    services: Services
    sandbox: Sandbox
    kid: str
    private_pem: str
    extra_jwks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def platform(self) -> SandboxPlatform:
        return self.sandbox.platform

    def publish_tool_jwks(self) -> None:
        """Give the platform the keys it verifies client assertions with: the tool's published
        JWKS (asked of the app, as the test suite does), plus ``extra_jwks``."""
        document = self.app.test_client().get("/.well-known/jwks.json").get_json()
        self.sandbox.call("set_tool_jwks", {"keys": [*document["keys"], *self.extra_jwks]})


@dataclass(frozen=True)
class Course:
    registration_pk: int
    context_pk: int
    subs: list[str]
    seconds: float


@contextlib.contextmanager
def site(folder: Path, latency: float, server: str) -> Iterator[Site]:
    """The tool (``create_app``'s services) and a served sandbox platform, wired together."""
    sandbox = start_sandbox(server, TOOL_URL)
    try:
        url = f"sqlite:///{folder / 'tool.sqlite3'}"
        upgrade(normalise_database_url(url))
        settings = load_settings(
            overrides={
                "env": "development",
                "outbound_allow_loopback": True,  # the sandbox platform runs on 127.0.0.1
                "base_url": TOOL_URL,
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
            material = generate_key_material()
            key = new_signing_key(services.secrets, material)
            with services.db.unit_of_work() as session:
                session.add(key)
            register_sandbox(services.db, sandbox.platform, development=True)
            sandbox.call("set_latency", latency)
            found = Site(app, services, sandbox, key.kid, material.private_pem)
            found.publish_tool_jwks()
            yield found
        finally:
            services.close()
    finally:
        sandbox.close()


def learner(sub: str) -> dict[str, Any]:
    """An NRPS member, shaped as the sandbox's demo roster."""
    number = int(sub) - FIRST_SUB + 1
    return {
        "status": "Active",
        "user_id": sub,
        "name": f"Learner {number:04d}",
        "given_name": "Learner",
        "family_name": f"{number:04d}",
        "email": f"learner{number:04d}@example.org",
        "lis_person_sourcedid": f"L{number:04d}",
        "roles": [MEMBERSHIP + "Learner"],
    }


def seed_course(found: Site, count: int) -> Course:
    """The platform's roster holds ``count`` learners; the tool has the course (AGS claim
    as a launch stores it), those learners and one released B832 result each, queued."""
    started = time.perf_counter()
    subs = [str(FIRST_SUB + i) for i in range(count)]
    roster = [learner(sub) for sub in subs]
    found.sandbox.call("set_roster", roster)
    db = found.services.db
    with db.unit_of_work() as session:
        registration_pk, deployment_pk, kind = session.execute(
            sa.select(Registration.id, Deployment.id, Registration.kind)
            .join(Deployment, Deployment.registration_id == Registration.id)
            .where(Registration.issuer == found.platform.issuer)
        ).one()
        context = Context(
            deployment_pk=deployment_pk,
            context_id=str(DEMO_CONTEXT["id"]),
            title=str(DEMO_CONTEXT["title"]),
            label=str(DEMO_CONTEXT["label"]),
            ags_lineitems_url=found.sandbox.call("lineitems_url"),
            ags_scopes=list(AGS_SCOPES),
        )
        session.add(context)
        session.flush()
        session.add(
            ResourceLink(
                deployment_pk=deployment_pk,
                context_pk=context.id,
                resource_link_id="link-checklist",
                title="Clinical leadership pathway",
            )
        )
        session.execute(
            sa.insert(User),
            [
                {
                    "registration_id": registration_pk,
                    "sub": m["user_id"],
                    "name": m["name"],
                    "given_name": m["given_name"],
                    "family_name": m["family_name"],
                    "email": m["email"],
                }
                for m in roster
            ],
        )
        found_users = session.execute(
            sa.select(User.sub, User.id).where(User.registration_id == registration_pk)
        )
        user_pks = {str(sub): int(pk) for sub, pk in found_users}
        session.execute(
            sa.insert(Membership),
            [
                {
                    "context_pk": context.id,
                    "user_pk": user_pks[sub],
                    "roles": [MEMBERSHIP + "Learner"],
                    "status": "active",
                    "in_roster": True,
                }
                for sub in subs
            ],
        )
        base = dt.datetime.now(dt.UTC).replace(microsecond=0)
        results = [
            AssessmentResultRow(
                context_pk=context.id,
                user_pk=user_pks[sub],
                module_code=MODULE,
                score=float(40 + i % 61),
                max_score=100.0,
                outcome="pass" if 40 + i % 61 >= 50 else "fail",
                comment=None,
                released=True,
                changed_at=base - dt.timedelta(milliseconds=i),
            )
            for i, sub in enumerate(subs)
        ]
        session.add_all(results)
        session.flush()
        session.add_all(
            OutboxRow(
                result_pk=result.id,
                context_pk=context.id,
                module_code=MODULE,
                payload=score_payload(result, sub, str(kind)),
            )
            for result, sub in zip(results, subs, strict=True)
        )
        context_pk = context.id
    return Course(int(registration_pk), int(context_pk), subs, time.perf_counter() - started)


def outbox_payloads(found: Site, context_pk: int, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` queued score bodies, for the baseline loop to send."""
    with found.services.db.read_only() as session:
        return list(
            session.scalars(
                sa.select(OutboxRow.payload)
                .where(OutboxRow.context_pk == context_pk)
                .order_by(OutboxRow.id)
                .limit(limit)
            )
        )


def outbox_statuses(found: Site, context_pk: int) -> dict[str, int]:
    with found.services.db.read_only() as session:
        return {
            str(status): int(n)
            for status, n in session.execute(
                sa.select(OutboxRow.status, sa.func.count())
                .where(OutboxRow.context_pk == context_pk)
                .group_by(OutboxRow.status)
            ).tuples()
        }
