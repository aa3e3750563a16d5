"""Erasure: requested from the privacy page, decided by a tool admin (service functions)."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.container import Services
from lti_tool.errors import NotFound, ToolError
from lti_tool.persistence.models import (
    AssessmentResultRow,
    AuditEntry,
    CompletionRecord,
    ErasureRequest,
    Membership,
    OutboxRow,
    StudentModuleStart,
    User,
)
from lti_tool.privacy.anonymise import identifying_strings, scrub_text
from lti_tool.privacy.erasure import RequestNotPending, approve, list_requests, reject
from tests.support.lti import Launcher, without_binding
from tests.support.pathway_web import csrf_token, parse_html, user_pk
from tests.support.privacy import count, privacy_launch, seed_student_data


def _services(launcher: Launcher) -> Services:
    services: Services = launcher.app.extensions["lti_tool"]
    return services


def _ask(launcher: Launcher, user: str = "student1", for_user: str | None = None) -> str:
    """Request erasure from the privacy page; the page shown afterwards."""
    client, response = privacy_launch(launcher, user, for_user=for_user)
    return _post(client, csrf_token(response.get_data(as_text=True)))


def _post(client: FlaskClient, token: str) -> str:
    posted = client.post(
        "/privacy/erasure",
        data={"csrf_token": token, "reason": "Leaving the programme - Sam Student"},
    )
    assert posted.status_code == 302 and without_binding(posted.headers["Location"]) == "/privacy/"
    return client.get("/privacy/").get_data(as_text=True)


def _audit_snapshot(launcher: Launcher) -> list[tuple[int, str]]:
    with _services(launcher).db.read_only() as session:
        return [
            (e.id, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_requesting_erasure_records_one_pending_request(launcher: Launcher) -> None:
    seed_student_data(launcher)
    client, response = privacy_launch(launcher, "student1")
    token = csrf_token(response.get_data(as_text=True))
    root = parse_html(_post(client, token))
    assert "Erasure requested" in root.find("p", role="status").text
    erasure = root.find("section", **{"aria-labelledby": "erasure"}).text
    assert "waiting for a tool administrator" in erasure
    assert not root.find_all("form", action="/privacy/erasure")
    # The same form sent again (a second tab, a double click) adds nothing.
    assert "already waiting" in _post(client, token)
    assert count(launcher.app, ErasureRequest) == 1
    assert count(launcher.app, AuditEntry, AuditEntry.action == "privacy.erasure_requested") == 1
    with _services(launcher).db.read_only() as session:
        [view] = list_requests(session)
    assert view.status == "pending" and view.subject_sub == "1001"
    assert view.subject_name == "Sam Student" and view.requested_by == "the person"
    assert view.reason == "Leaving the programme - Sam Student"


def test_an_admin_may_request_erasure_for_someone(launcher: Launcher) -> None:
    seed_student_data(launcher)
    _ask(launcher, "admin", for_user="1001")
    with _services(launcher).db.read_only() as session:
        [view] = list_requests(session, registration_pk=view_registration(launcher))
    assert view.subject_sub == "1001" and view.requested_by == "LMS administrator (Ada Admin)"


def view_registration(launcher: Launcher) -> int:
    with _services(launcher).db.read_only() as session:
        user = session.scalars(select(User).where(User.sub == "1001")).one()
        return user.registration_id


def test_erasure_needs_the_csrf_token(launcher: Launcher) -> None:
    client, _ = privacy_launch(launcher, "student1")
    response = client.post("/privacy/erasure", data={"reason": "x"})
    assert response.status_code == 400
    assert count(launcher.app, ErasureRequest) == 0


def test_approval_erases_the_person_and_keeps_anonymised_audit_rows(launcher: Launcher) -> None:
    seed_student_data(launcher)
    sam = user_pk(launcher.app, "1001")
    priya = user_pk(launcher.app, "1002")
    _ask(launcher)
    audit_before = _audit_snapshot(launcher)
    with _services(launcher).db.read_only() as session:
        [view] = list_requests(session)

    outcome = approve(_services(launcher), view.id, "dpo@example.ac.uk")

    assert outcome.counts["assessment_results"] == 1 and outcome.counts["outbox_rows"] == 1
    assert outcome.counts["completion_records"] == 2 and outcome.counts["module_starts"] == 1
    assert outcome.counts["memberships"] == 1 and outcome.counts["users"] == 1
    assert count(launcher.app, User, User.sub == "1001") == 0
    for model in (CompletionRecord, StudentModuleStart, AssessmentResultRow, Membership):
        assert count(launcher.app, model, model.user_pk == sam) == 0, model
    assert count(launcher.app, OutboxRow) == 1  # Priya's score still waits for the gradebook
    assert count(launcher.app, AssessmentResultRow, AssessmentResultRow.user_pk == priya) == 1
    # Every audit row is still there (plus the approval), none points at Sam or names him.
    after = _audit_snapshot(launcher)
    assert after[: len(audit_before)] == audit_before
    assert [action for _, action in after[len(audit_before) :]] == ["privacy.erasure_approved"]
    with _services(launcher).db.read_only() as session:
        entries = list(session.scalars(select(AuditEntry)))
        request = session.get(ErasureRequest, view.id)
    assert all(sam not in (e.actor_user_pk, e.subject_user_pk) for e in entries)
    text = json.dumps([[e.subject, e.reason, e.old, e.new] for e in entries])
    assert "Sam Student" not in text and not re.search(r"\b1001\b", text)
    assert "[erased] deferred: resit" in text and "APL agreed with [erased]" in text
    assert "APL for Priya" in text  # other people's rows are untouched
    assert any(e.subject_user_pk == priya for e in entries)
    # The request keeps a record that names nobody.
    assert request is not None and request.status == "approved"
    assert request.user_pk is None and request.subject_sub is None and request.reason is None
    assert request.requested_by_user_pk is None  # Sam asked himself
    assert request.decided_by == "dpo@example.ac.uk" and request.decided_at is not None
    assert request.erased_counts == outcome.counts
    # The privacy page now says the tool holds nothing (a new launch would start afresh).
    _, response = privacy_launch(launcher, "admin", for_user="1001")
    assert parse_html(response.get_data(as_text=True)).find_all("h2", id="nothing")


def test_a_decided_request_cannot_be_decided_again(launcher: Launcher) -> None:
    seed_student_data(launcher)
    _ask(launcher)
    with _services(launcher).db.read_only() as session:
        [view] = list_requests(session)
    approve(_services(launcher), view.id, "dpo")
    with pytest.raises(RequestNotPending):
        approve(_services(launcher), view.id, "dpo")
    with pytest.raises(RequestNotPending):
        reject(_services(launcher), view.id, "dpo", "changed my mind")
    with pytest.raises(NotFound):
        approve(_services(launcher), view.id + 100, "dpo")


def test_rejection_keeps_the_data_and_allows_a_new_request(launcher: Launcher) -> None:
    seed_student_data(launcher)
    _ask(launcher)
    with _services(launcher).db.read_only() as session:
        [view] = list_requests(session)
    with pytest.raises(ToolError):
        reject(_services(launcher), view.id, "dpo", "   ")
    reject(_services(launcher), view.id, "dpo", "Exam board appeal still open")
    assert count(launcher.app, User, User.sub == "1001") == 1
    assert count(launcher.app, AssessmentResultRow) == 2
    with _services(launcher).db.read_only() as session:
        assert list_requests(session) == []
        [rejected] = list_requests(session, status="rejected")
    assert rejected.decision_reason == "Exam board appeal still open"
    assert rejected.decided_by == "dpo" and rejected.subject_sub == "1001"
    rejections = count(launcher.app, AuditEntry, AuditEntry.action == "privacy.erasure_rejected")
    assert rejections == 1
    page = _ask(launcher)
    assert "Erasure requested" in page
    assert "was rejected on" in page and "Exam board appeal still open" in page
    assert count(launcher.app, ErasureRequest) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sam Student asked", "[erased] asked"),
        ("resit for sam.student@example.org", "resit for [erased]"),
        ("Samuel and Sam met", "Samuel and [erased] met"),  # whole words only
        ("STUDENT1 (SIS id)", "[erased] (SIS id)"),  # case-insensitive
        ("B832 resit", "B832 resit"),
    ],
)
def test_free_text_loses_the_persons_names_and_ids(text: str, expected: str) -> None:
    person = User(
        sub="1001",
        name="Sam Student",
        given_name="Sam",
        family_name="Student",
        email="sam.student@example.org",
        person_sourcedid="STUDENT1",
    )
    assert scrub_text(text, identifying_strings(person)) == expected


def test_approval_ends_the_erased_persons_launch_sessions_only(launcher: Launcher) -> None:
    from tests.support.lti import launch_token

    def bearer_of(user: str) -> dict[str, str]:
        page = launcher.launch(launcher.app.test_client(), user).get_data(as_text=True)
        return {"Authorization": f"Bearer {launch_token(page)}"}

    sam, priya = bearer_of("student1"), bearer_of("student2")
    client = launcher.app.test_client()
    assert client.get("/api/session", headers=sam).get_json()["user"]["name"] == "Sam Student"
    _ask(launcher, "student1")
    services = _services(launcher)
    with services.db.read_only() as session:
        [pending] = list_requests(session)
    approve(services, pending.id, "tool admin root")
    # Sam's sessions (the two launches above and the privacy launch) held his name and email.
    assert client.get("/api/session", headers=sam).status_code == 401
    assert client.get("/api/session", headers=priya).get_json()["user"]["name"] == "Priya Patel"


def test_a_staff_export_keeps_hiding_the_values_of_an_erased_student(launcher: Launcher) -> None:
    seed_student_data(launcher)
    _ask(launcher, "student1")
    services = _services(launcher)
    with services.db.read_only() as session:
        [pending] = list_requests(session)
    approve(services, pending.id, "tool admin root")
    client, _ = privacy_launch(launcher, "teacher1")
    document = client.get("/privacy/export.json").get_json()
    by_tess = [e for e in document["audit_entries"] if e["action"] == "result.save"]
    assert by_tess and all(e["by_you"] and not e["about_you"] for e in by_tess)
    assert all(e["new"] is None and e["old"] is None and e["reason"] is None for e in by_tess)
