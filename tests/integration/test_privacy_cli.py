"""lti-tool privacy requests/approve/reject and lti-tool purge, against each backend."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from lti_tool.container import Services
from lti_tool.persistence.models import Context, ErasureRequest, User
from lti_tool.privacy.erasure import request_erasure
from tests.support.privacy import count, seed_retention, table_counts

Run = Callable[..., Result]


@pytest.fixture
def run(tool: Flask) -> Run:
    """``lti-tool …`` on the tool's database."""
    from lti_tool.cli import main

    settings = tool.extensions["lti_tool"].settings
    env = {
        "LTI_TOOL_ENV": "production",
        "LTI_TOOL_SECRET_KEY": "cli-test-secret-of-at-least-32-characters",
        "LTI_TOOL_BASE_URL": "https://pathway.example.ac.uk",
        "LTI_TOOL_DATABASE_URL": settings.database_url,
        "LTI_TOOL_REDIS_URL": settings.redis_url,
        "LTI_TOOL_REDIS_PREFIX": settings.redis_prefix,
        "LTI_TOOL_INSTANCE_DIR": settings.instance_dir,
        "LTI_TOOL_RETENTION_DAYS": "0",
    }

    def invoke(*args: str, **extra_env: str) -> Result:
        return CliRunner().invoke(main, list(args), env={**env, **extra_env})

    return invoke


def _ask(tool: Flask, ids: dict[str, int], who: str) -> int:
    services: Services = tool.extensions["lti_tool"]
    view, _ = request_erasure(
        services,
        registration_pk=ids["registration"],
        subject_user_pk=ids[who],
        requested_by_user_pk=ids[who],
        context_pk=None,
        reason="Moving abroad",
    )
    return view.id


def test_requests_are_listed_and_approved(tool: Flask, run: Run) -> None:
    ids = seed_retention(tool)
    request_id = _ask(tool, ids, "dora")
    listed = run("privacy", "requests")
    assert listed.exit_code == 0, listed.output
    assert f"#{request_id}  pending  sandbox  Dora New [sub d-1]" in listed.output
    assert "reason: Moving abroad" in listed.output
    as_json = json.loads(run("privacy", "requests", "--json").output)
    assert [(r["id"], r["sub"], r["requested_by"]) for r in as_json] == [
        (request_id, "d-1", "the person")
    ]

    approved = run("privacy", "approve", str(request_id), "--by", "dpo")
    assert approved.exit_code == 0, approved.output
    assert f"erasure request #{request_id} approved; erased: " in approved.output
    assert "users 1" in approved.output
    assert count(tool, User, User.sub == "d-1") == 0
    assert run("privacy", "requests").output.strip() == "no pending erasure requests"
    history = run("privacy", "requests", "--status", "approved").output
    assert f"#{request_id}  approved" in history and "Dora" not in history
    assert "decided" in history and "by cli:dpo" in history
    again = run("privacy", "approve", str(request_id))
    assert again.exit_code != 0 and "is approved" in again.output


def test_reject_needs_a_reason_and_keeps_the_data(tool: Flask, run: Run) -> None:
    ids = seed_retention(tool)
    request_id = _ask(tool, ids, "bob")
    missing = run("privacy", "reject", str(request_id))
    assert missing.exit_code != 0 and "--reason" in missing.output
    rejected = run("privacy", "reject", str(request_id), "--reason", "Legal hold", "--by", "dpo")
    assert rejected.exit_code == 0, rejected.output
    assert count(tool, User, User.sub == "b-1") == 1
    with tool.extensions["lti_tool"].db.read_only() as session:
        row = session.get(ErasureRequest, request_id)
    assert row is not None and row.status == "rejected" and row.decision_reason == "Legal hold"
    unknown = run("privacy", "approve", "999")
    assert unknown.exit_code != 0 and "no erasure request 999" in unknown.output


def test_purge_dry_run_then_purge(tool: Flask, run: Run) -> None:
    seed_retention(tool)
    before = table_counts(tool)
    off = run("purge", "--dry-run")
    assert off.exit_code == 0 and "retention is off" in off.output
    assert "expired short-lived rows" not in off.output  # a dry run changes nothing

    dry = run("purge", "--dry-run", LTI_TOOL_RETENTION_DAYS="365")
    assert dry.exit_code == 0, dry.output
    assert "would remove sandbox course old-course (Cohort 2024)" in dry.output
    assert "memberships 2" in dry.output and "assessment results 1" in dry.output
    assert "fresh-course" not in dry.output
    assert "would remove 2 people in no course any more" in dry.output
    assert "dry run: nothing was changed" in dry.output
    assert table_counts(tool) == before

    kept = run("purge", "--dry-run", "--older-than", "500", LTI_TOOL_RETENTION_DAYS="365")
    assert "  none" in kept.output and "500 days" in kept.output

    done = run("purge", "--older-than", "365")
    assert done.exit_code == 0, done.output
    assert "removed sandbox course old-course" in done.output
    assert "removed 2 people in no course any more: completion records 2" in done.output
    assert count(tool, Context) == 1
    assert count(tool, User) == 2


def test_purge_removes_expired_store_rows(tool: Flask, run: Run) -> None:
    # Attack: without Redis nothing ever removed expired login state and launch sessions
    # (which hold names and emails); `lti-tool purge` did not touch them either.
    from lti_tool.lti.store import DatabaseStore
    from lti_tool.persistence.models import Ephemeral

    services: Services = tool.extensions["lti_tool"]
    table = DatabaseStore(services.db)
    table.put("session", "expired", {"name": "Erin Expired"}, ttl=-60)
    table.put("session", "live", {"name": "Liv Live"}, ttl=600)

    done = run("purge")

    assert done.exit_code == 0, done.output
    assert "removed 1 expired short-lived rows" in done.output
    assert "retention is off" in done.output
    assert count(tool, Ephemeral) == 1
