"""Grade sync through AGS against the sandbox platform: one column per module, every score
once, failures explained, a crashed sync resumed without changing anything twice."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from sqlalchemy import select, update

from lti_tool.persistence.models import OutboxRow
from tests.support.grade_sync import make_eligible, record_result, run_sync
from tests.support.lti import Launcher, staff_launch


def test_results_arrive_in_the_gradebook_exactly_once(launcher: Launcher, ags: Any) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001", "1002")
    record_result(client, headers, "1001", 72, comment="Well argued")
    record_result(client, headers, "1002", 41)
    job = run_sync(client, headers)
    assert (job["status"], job["total"], job["done"], job["failed"]) == ("done", 2, 2, 0)
    # Each item names the student, so a failure can be shown with the student's name.
    assert sorted((i["sub"], i["name"]) for i in job["items"]) == [
        ("1001", "Sam Student"),
        ("1002", "Priya Patel"),
    ]
    assert len(ags.lineitem_creates) == 1
    created = ags.lineitem_creates[0]
    assert created.resource_id == "B832" and created.tag == "B832"
    scores = ags.accepted_scores()
    assert sorted((p.user_id, p.body["scoreGiven"]) for p in scores) == [("1001", 72), ("1002", 41)]
    post = next(p for p in scores if p.user_id == "1001")
    assert post.body["activityProgress"] == "Completed"
    assert post.body["gradingProgress"] == "FullyGraded"
    assert post.body["comment"] == "Well argued" and post.body["scoreMaximum"] == 100
    # the class view shows it delivered; a second sync has nothing to send
    rows = {r["sub"]: r for r in client.get("/api/context/students", headers=headers).json}
    assert rows["1001"]["modules"][0]["result"]["sync"]["status"] == "delivered"
    again = run_sync(client, headers)
    assert again["total"] == 0 and len(ags.accepted_scores()) == 2
    assert len(ags.lineitem_creates) == 1


def test_a_changed_result_is_sent_with_a_newer_timestamp(launcher: Launcher, ags: Any) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    record_result(client, headers, "1001", 45)
    run_sync(client, headers)
    record_result(client, headers, "1001", 58)
    job = run_sync(client, headers)
    assert job["done"] == 1
    first, second = ags.accepted_scores(user_id="1001")
    assert second.body["scoreGiven"] == 58 and second.body["timestamp"] > first.body["timestamp"]
    assert len(ags.lineitem_creates) == 1


def test_an_existing_column_is_found_not_duplicated(launcher: Launcher, ags: Any) -> None:
    ags.add_lineitem("B832 (made by hand)", 100, resource_id="B832", tag="B832")
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    record_result(client, headers, "1001", 80)
    assert run_sync(client, headers)["done"] == 1
    assert ags.lineitem_creates == []


def test_transient_failures_are_retried(launcher: Launcher, ags: Any) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    record_result(client, headers, "1001", 66)
    ags.fail_next(2, status=503)
    ags.throttle_next(1, retry_after=0.2)
    job = run_sync(client, headers)
    assert (job["done"], job["failed"]) == (1, 0)
    assert len(ags.accepted_scores()) == 1


def test_a_refused_score_is_failed_with_the_platforms_words_and_the_rest_go_on(
    launcher: Launcher, ags: Any
) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001", "1002")
    record_result(client, headers, "1001", 66)
    record_result(client, headers, "1002", 70)
    # The platform no longer has 1002 as a student (e.g. unenrolled since the roster fetch).
    launcher.platform.roster = [m for m in launcher.platform.roster if m["user_id"] != "1002"]
    job = run_sync(client, headers)
    assert (job["status"], job["done"], job["failed"]) == ("done", 1, 1)
    refused = next(i for i in job["items"] if i["status"] == "refused")
    # Moodle's words come in the HTTP reason phrase, the body being "[]".
    assert refused["sub"] == "1002"
    assert refused["error"].startswith("The gradebook refused this score: Incorrect score received")
    rows = {r["sub"]: r for r in client.get("/api/context/students", headers=headers).json}
    assert rows["1002"]["modules"][0]["result"]["sync"]["status"] == "refused"


def test_a_refused_score_waits_for_its_result_to_change_and_is_sent_once_then(
    launcher: Launcher, ags: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1002")
    record_result(client, headers, "1002", 70)
    roster = list(launcher.platform.roster)
    launcher.platform.roster = [m for m in roster if m["user_id"] != "1002"]
    with caplog.at_level(logging.WARNING, logger="lti_tool.grading"):
        first = run_sync(client, headers)
    assert (first["done"], first["failed"]) == (0, 1)
    refusals = [p for p in ags.score_posts if p.user_id == "1002"]
    assert [p.status for p in refusals] == [400]
    # One WARNING naming the job, registration and course; no token, no name.
    lines = [r for r in caplog.records if r.getMessage() == "score not delivered"]
    assert len(lines) == 1
    fields = lines[0].fields  # type: ignore[attr-defined]
    assert fields["job"] == first["id"] and fields["status"] == "refused"
    assert isinstance(fields["registration"], int) and isinstance(fields["course"], int)
    tokens = list(launcher.platform.access_tokens)
    logged = caplog.text + repr(fields)
    assert tokens and not any(token in logged for token in tokens)
    assert "Priya" not in logged and "Bearer" not in logged
    # The staff class page says why, in words.
    page = client.get("/staff/class/", headers=headers).get_data(as_text=True)
    assert "The gradebook refused this score: Incorrect score received" in page
    assert "refused by the gradebook" in page

    # The platform takes the student back, but the same score is not sent again by itself.
    launcher.platform.roster = roster
    again = run_sync(client, headers)
    assert again["total"] == 0
    assert len([p for p in ags.score_posts if p.user_id == "1002"]) == 1
    # Once the result changes, its new value is sent, once.
    record_result(client, headers, "1002", 74)
    changed = run_sync(client, headers)
    assert (changed["total"], changed["done"], changed["failed"]) == (1, 1, 0)
    assert run_sync(client, headers)["total"] == 0
    posts = [p for p in ags.score_posts if p.user_id == "1002"]
    assert [(p.status, p.body["scoreGiven"]) for p in posts] == [(400, 70), (200, 74)]
    rows = {r["sub"]: r for r in client.get("/api/context/students", headers=headers).json}
    assert rows["1002"]["modules"][0]["result"]["sync"] == {
        **rows["1002"]["modules"][0]["result"]["sync"],
        "status": "delivered",
        "error": None,
    }


def test_a_failure_that_is_not_about_the_score_is_sent_again_next_time(
    launcher: Launcher, ags: Any
) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001", "1002")
    record_result(client, headers, "1002", 70)
    run_sync(client, headers)  # the column exists from here on
    record_result(client, headers, "1001", 66)
    attempts = launcher.app.extensions["lti_tool"].settings.http_retries + 1
    ags.fail_next(attempts, status=503)  # every try of this sync meets the outage
    first = run_sync(client, headers)
    assert (first["done"], first["failed"]) == (0, 1)
    assert first["items"][0]["status"] == "failed"
    second = run_sync(client, headers)
    assert (second["total"], second["done"]) == (1, 1)
    assert len(ags.accepted_scores(user_id="1001")) == 1


def test_a_crashed_sync_resumes_and_the_resend_changes_nothing(
    launcher: Launcher, ags: Any
) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001", "1002")
    record_result(client, headers, "1001", 61)
    record_result(client, headers, "1002", 62)
    run_sync(client, headers)
    # Simulate a worker killed after posting 1001's score but before recording it.
    db = launcher.app.extensions["lti_tool"].db
    with db.unit_of_work() as session:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.payload["userId"].as_string() == "1001")
            .values(status="sending", updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        )
    job = run_sync(client, headers)
    assert (job["total"], job["done"], job["failed"]) == (1, 1, 0)
    posts = [p for p in ags.score_posts if p.user_id == "1001"]
    assert len(posts) == 2
    assert posts[0].body["timestamp"] == posts[1].body["timestamp"]
    assert posts[1].status == 409  # the platform kept what it had: nothing changed
    with db.read_only() as session:
        statuses = set(session.scalars(select(OutboxRow.status)))
    assert statuses == {"delivered"}


def _more_students(launcher: Launcher, count: int) -> list[str]:
    """``count`` more students in the platform's roster (read at the next staff launch)."""
    subs = [f"30{n:02d}" for n in range(count)]
    launcher.platform.roster = [
        *launcher.platform.roster,
        *(
            {
                "status": "Active",
                "user_id": sub,
                "name": f"Student {sub}",
                "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            }
            for sub in subs
        ),
    ]
    return subs


def test_a_column_deleted_in_the_gradebook_is_made_again_once_and_the_scores_go_there(
    launcher: Launcher, ags: Any
) -> None:
    """AGS lets a line item be deleted; its scores then answer 404. The next sync makes the
    column again, once, however many workers meet the 404 at the same time."""
    subs = ["1001", "1002", *_more_students(launcher, 10)]
    client, headers = staff_launch(launcher)
    make_eligible(launcher, *subs)
    record_result(client, headers, "1001", 60)
    assert run_sync(client, headers)["done"] == 1
    [first] = ags.lineitem_creates
    ags.store.delete(first.id)  # a tutor deletes the tool's column in the LMS
    scores = {sub: 50 + n for n, sub in enumerate(subs)}
    for sub, score in scores.items():
        record_result(client, headers, sub, score)
    job = run_sync(client, headers)
    assert (job["status"], job["done"], job["failed"]) == ("done", len(subs), 0), job
    assert len(ags.lineitem_creates) == 2
    second = ags.lineitem_creates[1]
    assert second.resource_id == "B832" and second.id != first.id
    delivered = ags.accepted_scores(lineitem_id=second.id)
    assert sorted((p.user_id, p.body["scoreGiven"]) for p in delivered) == sorted(scores.items())
    again = run_sync(client, headers)
    assert again["total"] == 0 and len(ags.lineitem_creates) == 2


def test_a_404_about_the_student_not_the_column_lists_the_gradebook_once_per_sync(
    launcher: Launcher, ags: Any
) -> None:
    """Some platforms answer 404 for a user they cannot grade: the column is still listed,
    so the scores are refused, the column is kept, and the gradebook is listed once, not
    once a row."""
    subs = _more_students(launcher, 8)
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001", *subs)
    record_result(client, headers, "1001", 60)
    assert run_sync(client, headers)["done"] == 1
    ags.not_found_users = set(subs)
    for n, sub in enumerate(subs):
        record_result(client, headers, sub, 50 + n)
    ags.calls.clear()
    job = run_sync(client, headers)
    assert (job["status"], job["done"], job["failed"]) == ("done", 0, len(subs)), job
    assert {i["status"] for i in job["items"]} == {"refused"}
    listings = [call for call in ags.calls if call.split("?")[0].endswith("/lineitems")]
    assert len(listings) <= 2, listings  # at most once per worker that met a 404 at once
    assert len(ags.lineitem_creates) == 1


def test_a_column_that_cannot_be_made_again_leaves_its_scores_failed_not_stuck(
    launcher: Launcher, ags: Any
) -> None:
    """The column is gone and the platform's list of columns is unreadable: every row is
    recorded "failed" (the next sync tries again) and the job ends."""
    subs = _more_students(launcher, 3)
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001", *subs)
    record_result(client, headers, "1001", 60)
    assert run_sync(client, headers)["done"] == 1
    ags.store.delete(ags.lineitem_creates[0].id)
    ags.broken_listing = True
    for n, sub in enumerate(subs):
        record_result(client, headers, sub, 50 + n)
    job = run_sync(client, headers)
    assert (job["status"], job["done"], job["failed"]) == ("done", 0, len(subs)), job
    assert {i["status"] for i in job["items"]} == {"failed"}
    ags.broken_listing = False
    again = run_sync(client, headers)
    assert (again["done"], again["failed"]) == (len(subs), 0), again
    assert len(ags.lineitem_creates) == 2


def test_a_gone_column_already_replaced_by_another_sync_gives_the_new_one(
    launcher: Launcher,
) -> None:
    """Another sync made the column again while this one met the 404: even when the gone
    column was the module placement's own, the score goes to the new column, not refused."""
    from lti_tool.grading.line_items import replace_gone_column
    from lti_tool.grading.module_columns import AgsEndpoint, Column
    from lti_tool.lti.claims import SCOPE_LINEITEM, SCOPE_SCORE
    from lti_tool.persistence.models import Context, LineItemRow

    staff_launch(launcher)
    db = launcher.app.extensions["lti_tool"].db
    items = launcher.platform.issuer + "/api/ags/pgcert-cl-2027/lineitems"
    own, new = items + "/7/lineitem", items + "/9/lineitem"
    with db.unit_of_work() as session:
        context_pk = session.scalar(select(Context.id))
        assert context_pk is not None
        session.add(LineItemRow(context_pk=context_pk, module_code="B832", url=new))
    endpoint = AgsEndpoint(items, frozenset({SCOPE_SCORE, SCOPE_LINEITEM}))
    column = Column("B832", "B832", 100.0, None, own)
    connector: Any = None  # the stored column answers: the platform is not asked
    assert replace_gone_column(db, connector, context_pk, endpoint, column, own) == new


def test_the_modules_own_placements_column_gone_is_refused_not_made_again(
    launcher: Launcher,
) -> None:
    """A platform that lets the tool send scores only to the column of the module's own
    placement: when that column is gone there is nothing the tool may make in its place."""
    from lti_tool.grading.line_items import replace_gone_column
    from lti_tool.grading.module_columns import AgsEndpoint, Column
    from lti_tool.lti.claims import SCOPE_SCORE

    own = launcher.platform.issuer + "/api/ags/pgcert-cl-2027/lineitems/7/lineitem"
    endpoint = AgsEndpoint(None, frozenset({SCOPE_SCORE}))
    column = Column("B832", "B832", 100.0, None, own)
    db = launcher.app.extensions["lti_tool"].db
    assert replace_gone_column(db, None, 1, endpoint, column, own) is None  # type: ignore[arg-type]


def test_saving_a_result_unchanged_sends_nothing_unless_its_last_send_was_refused(
    launcher: Launcher, ags: Any
) -> None:
    """The same values saved again are no new score for the gradebook, except for a score it
    refused: saving it again is how a tutor sends it once more."""
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001", "1002")
    record_result(client, headers, "1001", 70)
    record_result(client, headers, "1002", 70)
    roster = list(launcher.platform.roster)
    launcher.platform.roster = [m for m in roster if m["user_id"] != "1002"]
    first = run_sync(client, headers)
    assert (first["done"], first["failed"]) == (1, 1)
    launcher.platform.roster = roster  # 1002 is enrolled again; 70 is still the mark
    record_result(client, headers, "1001", 70)
    record_result(client, headers, "1002", 70)
    again = run_sync(client, headers)
    assert (again["total"], again["done"]) == (1, 1), again
    assert [i["sub"] for i in again["items"]] == ["1002"]
    assert sorted(p.user_id for p in ags.accepted_scores()) == ["1001", "1002"]
