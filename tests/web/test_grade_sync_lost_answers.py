"""Grade sync when the platform acted on a request but its answer was lost (a proxy's 5xx, a
read timeout): what the platform kept is neither shown refused nor made twice."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.sandbox.ags_store import Grade
from tests.support.grade_sync import make_eligible, record_result, run_sync
from tests.support.lti import Launcher, staff_launch


def test_a_score_the_platform_kept_before_a_transient_error_is_not_shown_refused(
    launcher: Launcher, ags: Any
) -> None:
    """The platform stores the score and the answer is lost; the connector sends the POST
    again with the same timestamp and Moodle answers 409. The score is in the gradebook: it
    is delivered, not "refused by the gradebook" (and so never sent again until the tutor
    changes the result)."""
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    record_result(client, headers, "1001", 72)
    real_record = ags.store.record
    calls = {"n": 0}

    def record_then_lose_the_answer(item_id: int, grade: Any) -> None:
        real_record(item_id, grade)
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("gateway lost the answer after the grade was stored")

    ags.store.record = record_then_lose_the_answer
    try:
        job = run_sync(client, headers)
    finally:
        ags.store.record = real_record
    stored = [g for column in ags.gradebook.values() for u, g in column.items() if u == "1001"]
    assert [g["scoreGiven"] for g in stored] == [72]  # the platform has the score
    assert [p.status for p in ags.score_posts if p.user_id == "1001"] == [500, 409]
    [item] = job["items"]
    assert (item["sub"], item["status"], item["error"]) == ("1001", "delivered", None)
    assert run_sync(client, headers)["total"] == 0


@pytest.mark.parametrize("before", ["nothing", "a 429"], ids=["first_try", "after_429"])
def test_a_409_to_a_score_sent_once_is_still_refused(
    launcher: Launcher, ags: Any, before: str
) -> None:
    """The gradebook holds a newer score than the tool's (entered there later): a 409 to a
    score the platform cannot have taken before is refused, not read as delivered. A 429
    says the platform did not act, so a retry after it is no resend."""
    column = ags.add_lineitem("B832 Leading health service delivery", 100, resource_id="B832")
    later = "2099-01-01T09:00:00+00:00"
    ags.store.record(
        column.id,
        Grade("1001", 90.0, 100.0, None, later, 4070941200, "Completed", "FullyGraded"),
    )
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001", "1002")
    record_result(client, headers, "1002", 64)
    assert run_sync(client, headers)["done"] == 1  # the column is known from here on
    record_result(client, headers, "1001", 72)
    if before == "a 429":
        ags.throttle_next(1, retry_after=0.1)  # the next call is 1001's score
    ags.calls.clear()
    job = run_sync(client, headers)
    [item] = job["items"]
    assert item["status"] == "refused", item
    posts = [call for call in ags.calls if call.startswith("POST") and "/scores" in call]
    assert len(posts) == (2 if before == "a 429" else 1)
    assert [p.status for p in ags.score_posts if p.user_id == "1001"] == [409]
    assert ags.gradebook[column.id]["1001"]["scoreGiven"] == 90


def _columns_posts_and_listings(ags: Any) -> list[str]:
    """The calls to the container of line items, in order: "GET" (a listing), "POST"."""
    return [
        call.split(" ")[0]
        for call in ags.calls
        if call.split(" ")[1].split("?")[0].endswith("/lineitems")
    ]


def test_a_column_created_before_a_lost_answer_is_not_created_twice(
    launcher: Launcher, ags: Any
) -> None:
    """Creating a line item is not idempotent: the platform makes the column and the answer
    is lost. The tool lists the columns again before another POST, finds the one it made,
    and the gradebook keeps one "B832" column."""
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    record_result(client, headers, "1001", 72)
    real_create = ags.store.create
    calls = {"n": 0}

    def create_then_lose_the_answer(**values: Any) -> Any:
        item = real_create(**values)
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("gateway lost the answer after the column was made")
        return item

    ags.store.create = create_then_lose_the_answer
    try:
        job = run_sync(client, headers)
    finally:
        ags.store.create = real_create
    assert (job["status"], job["done"]) == ("done", 1), job
    [column] = [i for i in ags.store.items.values() if i.resource_id == "B832"]
    assert [p.lineitem_id for p in ags.accepted_scores(user_id="1001")] == [column.id]
    assert _columns_posts_and_listings(ags) == ["GET", "POST", "GET"]


def test_a_column_not_made_before_a_server_error_is_made_after_a_second_look(
    launcher: Launcher, ags: Any
) -> None:
    """The platform fails before making the column: the second listing finds none, so the
    tool posts it again, once."""
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    record_result(client, headers, "1001", 72)
    real_create = ags.store.create
    calls = {"n": 0}

    def fail_before_making_it(**values: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the platform failed before making the column")
        return real_create(**values)

    ags.store.create = fail_before_making_it
    try:
        job = run_sync(client, headers)
    finally:
        ags.store.create = real_create
    assert (job["status"], job["done"]) == ("done", 1), job
    assert len([i for i in ags.store.items.values() if i.resource_id == "B832"]) == 1
    assert _columns_posts_and_listings(ags) == ["GET", "POST", "GET", "POST"]


def test_a_column_the_platform_refuses_is_not_posted_again(launcher: Launcher, ags: Any) -> None:
    """A 4xx to the creation is about the column itself: no second POST, and the sync says
    why; the score waits in the outbox for the next sync."""
    from lti_tool.sandbox.ags_store import AgsRefused

    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    record_result(client, headers, "1001", 72)
    real_create = ags.store.create

    def refuse(**values: Any) -> Any:
        raise AgsRefused(400, "Bad Request")

    ags.store.create = refuse
    try:
        job = run_sync(client, headers)
    finally:
        ags.store.create = real_create
    assert job["status"] == "failed" and job["error"], job
    assert _columns_posts_and_listings(ags) == ["GET", "POST"]
    again = run_sync(client, headers)
    assert (again["status"], again["done"]) == ("done", 1), again
