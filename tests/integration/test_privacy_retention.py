"""Retention purge on every backend: inactive courses go with their data, people left in no
course are erased, audit rows stay anonymised; a dry run changes nothing."""

from __future__ import annotations

import datetime as dt
import json

from flask import Flask
from sqlalchemy import select

from lti_tool.container import Services
from lti_tool.persistence.models import (
    AuditEntry,
    CompletionRecord,
    Context,
    ErasureRequest,
    Membership,
    User,
    utcnow,
)
from lti_tool.privacy.erasure import request_erasure
from lti_tool.privacy.retention import inactive_contexts, purge
from tests.support.privacy import count, seed_retention, table_counts


def _services(tool: Flask) -> Services:
    services: Services = tool.extensions["lti_tool"]
    return services


def test_inactive_contexts_are_the_ones_unused_past_the_limit(tool: Flask) -> None:
    ids = seed_retention(tool)
    report = purge(_services(tool), 365, dry_run=True)
    assert [c.context_id for c in report.contexts] == ["old-course"]
    [old] = report.contexts
    assert old.context_pk == ids["old"] and old.registration == "sandbox"
    assert old.counts == {
        "memberships": 2,
        "module_starts": 1,
        "cohort_module_starts": 1,
        "assessment_results": 1,
        "outbox_rows": 1,
        "line_items": 1,
        "sync_jobs": 0,
        "resource_links": 1,
        "audit_entries_anonymised": 1,
    }
    assert report.users_erased == 2  # Alice (old course only) and Carl (stale, no course)
    # A longer limit keeps the old course too.
    assert purge(_services(tool), 500, dry_run=True).contexts == []


def test_a_dry_run_changes_nothing(tool: Flask) -> None:
    seed_retention(tool)
    before = table_counts(tool)
    purge(_services(tool), 365, dry_run=True)
    assert table_counts(tool) == before


def test_the_purge_removes_only_inactive_courses_and_the_people_left_in_none(
    tool: Flask,
) -> None:
    ids = seed_retention(tool)
    audit_rows = count(tool, AuditEntry)
    report = purge(_services(tool), 365, dry_run=False)

    assert [c.context_id for c in report.contexts] == ["old-course"]
    assert report.users_erased == 2
    assert report.user_counts.completion_records == 2 and report.user_counts.users == 2
    after = table_counts(tool)
    assert after["contexts"] == 1 and count(tool, Context, Context.id == ids["fresh"]) == 1
    for table in ("student_module_starts", "cohort_module_starts", "line_items"):
        assert after[table] == 0, table
    assert after["resource_links"] == 0 and after["grade_outbox"] == 0
    assert after["assessment_results"] == 0
    with _services(tool).db.read_only() as session:
        subs = set(session.scalars(select(User.sub)))
        memberships = [(m.context_pk, m.user_pk) for m in session.scalars(select(Membership))]
        completions = list(session.scalars(select(CompletionRecord.user_pk)))
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert subs == {"b-1", "d-1"}
    assert memberships == [(ids["fresh"], ids["bob"])]
    assert completions == []
    # Audit rows are all kept (plus one saying what the purge did), the old course's anonymised.
    assert len(entries) == audit_rows + 1
    old_row = next(e for e in entries if e.action == "module_start.student")
    assert old_row.context_pk is None
    assert old_row.actor_user_pk is None and old_row.subject_user_pk is None
    assert old_row.reason == "[erased] asked for a resit"
    fresh_row = next(e for e in entries if e.action == "qualification.choose")
    assert fresh_row.actor_user_pk == ids["bob"] and fresh_row.context_pk == ids["fresh"]
    summary = entries[-1]
    assert summary.action == "privacy.retention_purge"
    assert summary.new is not None and summary.new["contexts"] == 1 and summary.new["users"] == 2
    assert "Alice" not in json.dumps([[e.subject, e.reason, e.old, e.new] for e in entries])
    # Nothing inactive is left: a second run removes nothing.
    again = purge(_services(tool), 365, dry_run=False)
    assert again.contexts == [] and again.users_erased == 0


def test_a_pending_erasure_request_of_a_purged_person_is_closed(tool: Flask) -> None:
    ids = seed_retention(tool)
    view, created = request_erasure(
        _services(tool),
        registration_pk=ids["registration"],
        subject_user_pk=ids["alice"],
        requested_by_user_pk=ids["alice"],
        context_pk=ids["old"],
        reason="please",
    )
    assert created
    purge(_services(tool), 365, dry_run=False)
    with _services(tool).db.read_only() as session:
        row = session.get(ErasureRequest, view.id)
        assert inactive_contexts(session, utcnow() - dt.timedelta(days=365)) == []
    assert row is not None and row.status == "closed"
    assert row.user_pk is None and row.pending_user_pk is None and row.subject_sub is None
    assert row.reason is None and row.decided_at is not None
