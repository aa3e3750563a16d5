"""The lti-tool command against a real SQLite database."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lti_tool.cli import main
from lti_tool.lti.keys import KEY_LEAD_TIME
from tests.support.key_clock import KeyClock

MOODLE = [
    "platform",
    "add",
    "--name",
    "moodle-test",
    "--kind",
    "moodle",
    "--issuer",
    "https://moodle.example.ac.uk",
    "--client-id",
    "A5EjHd6o2VFqQbe",
    "--auth-login-url",
    "https://moodle.example.ac.uk/mod/lti/auth.php",
    "--auth-token-url",
    "https://moodle.example.ac.uk/mod/lti/token.php",
    "--key-set-url",
    "https://moodle.example.ac.uk/mod/lti/certs.php",
    "--deployment-id",
    "1",
    "--deployment-id",
    "2",
]


@pytest.fixture
def run(tmp_path: Path) -> object:
    env = {
        "LTI_TOOL_ENV": "production",
        "LTI_TOOL_SECRET_KEY": "cli-test-secret-of-at-least-32-characters",
        "LTI_TOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "LTI_TOOL_BASE_URL": "https://pathway.example.ac.uk",
        "LTI_TOOL_INSTANCE_DIR": str(tmp_path),
    }

    def invoke(*args: str, **extra_env: str) -> Result:
        return CliRunner().invoke(main, list(args), env={**env, **extra_env})

    result = invoke("init")
    assert result.exit_code == 0, result.output
    assert "active signing key" in result.output
    return invoke


def test_platform_add_prints_the_urls_to_paste(run) -> None:  # type: ignore[no-untyped-def]
    result = run(*MOODLE)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "https://pathway.example.ac.uk/lti/launch" in out
    assert "https://pathway.example.ac.uk/lti/login" in out
    assert "https://pathway.example.ac.uk/.well-known/jwks.json" in out

    listed = json.loads(run("platform", "list", "--json").output)
    assert listed[0]["name"] == "moodle-test" and listed[0]["kind"] == "moodle"
    assert listed[0]["deployments"] == [
        {"deployment_id": "1", "active": True},
        {"deployment_id": "2", "active": True},
    ]
    duplicate = run(*MOODLE)
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output


def test_production_refuses_plain_http_platform_urls(run) -> None:  # type: ignore[no-untyped-def]
    args = [a.replace("https://moodle", "http://moodle") for a in MOODLE]
    result = run(*args)
    assert result.exit_code != 0
    assert "production accepts only https" in result.output


def test_activate_and_deactivate_deployment(run) -> None:  # type: ignore[no-untyped-def]
    run(*MOODLE)
    assert run("platform", "deactivate-deployment", "moodle-test", "2").exit_code == 0
    assert run("platform", "activate-deployment", "moodle-test", "7").exit_code == 0
    listed = json.loads(run("platform", "list", "--json").output)
    assert {(d["deployment_id"], d["active"]) for d in listed[0]["deployments"]} == {
        ("1", True),
        ("2", False),
        ("7", True),
    }
    missing = run("platform", "activate-deployment", "nope", "1")
    assert missing.exit_code != 0 and "no registration named" in missing.output
    text = run("platform", "list").output
    assert "deployment 2: INACTIVE" in text


def test_keys_rotate_and_list(run) -> None:  # type: ignore[no-untyped-def]
    first = run("keys", "list").output.strip().splitlines()
    assert len(first) == 1 and first[0].endswith("active")
    old_kid = first[0].split()[0]
    rotated = run("keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "begins signing at" in rotated.output and "stays published for 7 days" in rotated.output
    lines = run("keys", "list").output.strip().splitlines()
    assert len(lines) == 2
    # The old key signs until the new one begins: both say when.
    signs_from = rotated.output.split("begins signing at ")[1].split(";")[0]
    assert lines[0].startswith(old_kid) and lines[0].endswith(f"active until {signs_from}")
    assert lines[1].endswith(f"pending, begins signing at {signs_from}")
    again = run("init")  # checks that the pending key opens too, and says when it signs
    assert again.exit_code == 0 and f"begins signing at {signs_from}" in again.output

    now = run("keys", "rotate", "--now")
    assert now.exit_code == 0, now.output
    assert "signing now" in now.output and "may refuse" in now.output
    assert "earlier keys are withdrawn" in now.output
    lines = run("keys", "list").output.strip().splitlines()
    # The pending key is replaced (it signed nothing); the old one retires and is withdrawn
    # now (it may be stolen).
    assert len(lines) == 2
    assert lines[0].startswith(old_kid) and "retired, withdrawn" in lines[0]
    assert lines[1].endswith("active") and lines[1].split()[0] not in rotated.output


def test_keys_list_says_when_a_routinely_retired_key_left_the_key_set(
    run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key retired by a routine rotation, its grace period over, still says until when it
    was published (as the keys page does); only a withdrawn key says it was withdrawn."""
    clock = KeyClock(monkeypatch)
    old_kid = run("keys", "list").output.split()[0]
    rotated = run("keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    signs_from = dt.datetime.strptime(
        rotated.output.split("begins signing at ")[1].split(";")[0], "%Y-%m-%d %H:%M:%SZ"
    )
    clock.advance(dt.timedelta(days=8) + KEY_LEAD_TIME)
    lines = run("keys", "list").output.strip().splitlines()
    published_until = signs_from + dt.timedelta(days=7)
    assert lines[0].startswith(old_kid)
    assert lines[0].endswith(f"retired until {published_until:%Y-%m-%d %H:%M}Z"), lines[0]
    assert "withdrawn" not in lines[0]


def test_sandbox_refuses_production(run) -> None:  # type: ignore[no-untyped-def]
    result = run("sandbox")
    assert result.exit_code != 0
    assert "never runs with LTI_TOOL_ENV=production" in result.output


def test_init_refuses_a_pending_key_sealed_under_another_secret(run) -> None:  # type: ignore[no-untyped-def]
    # A rotation run from a shell with a mistyped secret staged a key the tool cannot open:
    # init says so before the key begins signing, and how to put it right.
    rotated = run("keys", "rotate", LTI_TOOL_SECRET_KEY="a mistyped secret of 32 characters!")
    assert rotated.exit_code == 0, rotated.output
    refused = run("init")
    assert refused.exit_code != 0
    assert "next signing key" in refused.output and "begins signing at" in refused.output
    again = run("keys", "rotate")
    assert again.exit_code == 0 and run("init").exit_code == 0
