"""register_sandbox on a database that already has a sandbox registration: an earlier run's
(other ports) is moved to this run's URLs; a real platform's that happens to be called
"sandbox" is never taken over."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lti_tool.lti import registry
from lti_tool.persistence.db import Database
from lti_tool.persistence.models import Deployment, Registration
from lti_tool.sandbox import SandboxRefused, register_sandbox
from lti_tool.sandbox.platform import SandboxPlatform

TOOL = "http://127.0.0.1:8000"


def registrations(db: Database) -> list[tuple[str, str, str, str, str, str]]:
    with db.read_only() as session:
        return [
            (r.name, r.issuer, r.client_id, r.auth_login_url, r.auth_token_url, r.key_set_url)
            for r in session.scalars(select(Registration))
        ]


def test_an_earlier_runs_registration_moves_to_the_new_port(db: Database) -> None:
    first = SandboxPlatform(issuer="http://127.0.0.1:5001", tool_url="http://127.0.0.1:5000")
    register_sandbox(db, first, development=True)
    second = SandboxPlatform(issuer="http://127.0.0.1:8001", tool_url=TOOL)
    second.keys = first.keys
    register_sandbox(db, second, development=True)
    register_sandbox(db, second, development=True)  # idempotent
    assert registrations(db) == [
        (
            "sandbox",
            "http://127.0.0.1:8001",
            "sandbox-tool",
            "http://127.0.0.1:8001/auth",
            "http://127.0.0.1:8001/token",
            "http://127.0.0.1:8001/jwks",
        )
    ]
    with db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(Deployment)) == 1
        found = registry.find_registration(session, "http://127.0.0.1:8001", "sandbox-tool")
        assert found is not None and found.name == "sandbox"


@pytest.mark.parametrize(
    ("issuer", "client_id"),
    [
        ("https://moodle.example.ac.uk", "sandbox-tool"),  # a real platform, same client id
        ("http://127.0.0.1:9000", "a-local-moodle"),  # a local platform of someone else's
    ],
)
def test_a_real_platform_called_sandbox_is_not_taken_over(
    db: Database, issuer: str, client_id: str
) -> None:
    with db.unit_of_work() as session:
        registry.add_platform(
            session,
            registry.PlatformSpec(
                name="sandbox",
                issuer=issuer,
                client_id=client_id,
                auth_login_url=issuer + "/mod/lti/auth.php",
                auth_token_url=issuer + "/mod/lti/token.php",
                key_set_url=issuer + "/mod/lti/certs.php",
                deployment_ids=["1"],
            ),
            development=True,
        )
    before = registrations(db)
    platform = SandboxPlatform(issuer="http://127.0.0.1:8001", tool_url=TOOL)
    with pytest.raises(SandboxRefused, match="registration called 'sandbox' for another platform"):
        register_sandbox(db, platform, development=True)
    assert registrations(db) == before
