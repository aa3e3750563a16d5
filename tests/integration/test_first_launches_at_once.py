"""Two first launches from the same new deployment at once (a class opening the tool when its
Canvas admin has just installed it): one row, one audit entry, no error, on SQLite and
PostgreSQL."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from lti_tool.lti import registry
from lti_tool.lti.deployment_policy import SeenDeployment, record_seen_deployment
from lti_tool.persistence.db import Database
from lti_tool.persistence.models import AuditEntry, Deployment

LAUNCHES = 8


def _registration(db: Database, policy: str) -> int:
    site = "https://school.instructure.com"
    with db.unit_of_work() as session:
        row = registry.add_platform(
            session,
            registry.PlatformSpec(
                name="canvas-school",
                issuer="https://canvas.instructure.com",
                client_id="10000000000001",
                auth_login_url=site + "/api/lti/authorize_redirect",
                auth_token_url=site + "/login/oauth2/token",
                key_set_url=site + "/api/lti/security/jwks",
                kind="canvas",
                new_deployments=policy,
            ),
            development=False,
        )
        return row.id


@pytest.mark.parametrize("policy", ["accept", "hold"])
def test_first_launches_at_once_make_one_row_and_one_audit_entry(db: Database, policy: str) -> None:
    pk = _registration(db, policy)
    start = threading.Barrier(LAUNCHES)
    seen: list[SeenDeployment] = []
    errors: list[BaseException] = []

    def first_launch() -> None:
        try:
            start.wait(timeout=10)
            with db.unit_of_work() as session:
                found = record_seen_deployment(session, pk, "17:8f3a0c")
            seen.append(found)
        except BaseException as exc:  # reported below: a thread's error is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=first_launch) for _ in range(LAUNCHES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(seen) == LAUNCHES
    assert len({s.pk for s in seen}) == 1
    assert sum(s.created for s in seen) == 1
    assert {s.active for s in seen} == {policy == "accept"}
    with db.read_only() as session:
        rows = session.scalars(sa.select(Deployment)).all()
        audits = session.scalars(sa.select(AuditEntry.action)).all()
    assert [(r.deployment_id, r.active) for r in rows] == [("17:8f3a0c", policy == "accept")]
    assert audits == ["deployment.accepted" if policy == "accept" else "deployment.held"]


def test_a_policy_outside_the_two_is_refused_by_the_database(db: Database) -> None:
    pk = _registration(db, "hold")
    with pytest.raises(sa.exc.IntegrityError), db.unit_of_work() as session:
        session.execute(
            sa.text("UPDATE registrations SET new_deployments = 'open' WHERE id = :pk"),
            {"pk": pk},
        )
