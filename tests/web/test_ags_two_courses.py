"""A student in two courses that both read completion from their own gradebook (AGS).

Each course's gradebook is read when the student launches from it, but the completion copy
is the student's. Course B's gradebook saying nothing of a CPD course (no column, or a column
with no score for them), or a lower score, is no evidence against the "completed" course A's
gradebook gave: a CPD course finished is finished, on both courses' pages.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update

from lti_tool.lti import claims as c
from lti_tool.persistence.models import CompletionRecord
from lti_tool.sandbox import SandboxServer
from lti_tool.sandbox.ags_store import Grade
from lti_tool.sandbox.demo_people import AUTUMN_CONTEXT
from tests.support.class_refresh import configure_sandbox_source
from tests.support.lti import Launcher, launch_token

AUTUMN = str(AUTUMN_CONTEXT["id"])


@pytest.fixture
def ags(launcher: Launcher, sandbox_server: SandboxServer) -> Iterator[Any]:
    fake = sandbox_server.app.extensions["ags"]
    fake.reset()
    configure_sandbox_source(launcher, kind="ags", ags_threshold=0.6)
    yield fake
    fake.reset()


def _grade(score: float, day: int = 1) -> Grade:
    """student1's score, given at 10:00 on ``day`` October 2026."""
    when = dt.datetime(2026, 10, day, 10, tzinfo=dt.UTC)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    seconds = int(when.timestamp())
    return Grade("1001", score, 100.0, None, stamp, seconds, "Completed", "FullyGraded")


def _statuses(client: Any, token: str) -> dict[str, str]:
    response = client.get("/api/me/checklist", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    checklist = response.get_json()
    return {r["code"]: r["status"] for m in checklist["modules"] for r in m["requirements"]}


def _autumn_launch(launcher: Launcher, ags: Any, client: Any) -> str:
    """student1 launched from the autumn course, whose AGS endpoint is its own gradebook."""
    endpoint = {
        "scope": [c.SCOPE_LINEITEM, c.SCOPE_RESULT, c.SCOPE_SCORE],
        "lineitems": ags.course_lineitems_url(AUTUMN),
    }
    response = launcher.launch(client, "student1", course="autumn", changes={c.AGS: endpoint})
    assert response.status_code == 200
    return launch_token(response.get_data(as_text=True))


@pytest.mark.parametrize("autumn_says", ["no column", "no score", "a lower score"])
def test_another_course_gradebook_does_not_undo_a_completion(
    launcher: Launcher, ags: Any, autumn_says: str
) -> None:
    spring_item = ags.add_lineitem("GB080", 100, resource_id="GB080", tag="GB080")
    ags.store.record(spring_item.id, _grade(90.0))
    autumn = ags.add_course(AUTUMN)
    if autumn_says != "no column":
        autumn_item = autumn.create(
            label="GB080", score_maximum=100.0, resource_id="GB080", tag="GB080"
        )
        if autumn_says == "a lower score":
            autumn.record(autumn_item.id, _grade(20.0))

    spring = launcher.app.test_client()
    spring_token = launch_token(launcher.launch(spring, "student1").get_data(as_text=True))
    assert _statuses(spring, spring_token)["GB080"] == "completed"

    services = launcher.app.extensions["lti_tool"]
    aged = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with services.db.unit_of_work() as session:  # the copy is old: the next launch reads
        session.execute(update(CompletionRecord).values(fetched_at=aged))
        user_pk = session.scalar(select(func.max(CompletionRecord.user_pk)))
    asked = time.time()
    autumn_client = launcher.app.test_client()
    autumn_token = _autumn_launch(launcher, ags, autumn_client)
    deadline = time.monotonic() + 15
    while (services.store.get("refresh", str(user_pk)) or {}).get("at", 0) < asked:
        assert time.monotonic() < deadline, "the autumn launch never read its gradebook"
        time.sleep(0.05)
    assert any("/api/ags/" + AUTUMN in call for call in ags.calls)

    assert _statuses(spring, spring_token)["GB080"] == "completed"
    assert _statuses(autumn_client, autumn_token)["GB080"] == "completed"


def test_a_score_in_another_course_is_still_read(launcher: Launcher, ags: Any) -> None:
    """What course B's gradebook says positively counts: a score meeting the threshold
    there completes a course course A's gradebook had in progress."""
    spring_item = ags.add_lineitem("GB080", 100, resource_id="GB080", tag="GB080")
    ags.store.record(spring_item.id, _grade(30.0))
    autumn = ags.add_course(AUTUMN)
    item = autumn.create(label="GB080", score_maximum=100.0, resource_id="GB080", tag="GB080")
    autumn.record(item.id, _grade(80.0))
    spring = launcher.app.test_client()
    spring_token = launch_token(launcher.launch(spring, "student1").get_data(as_text=True))
    assert _statuses(spring, spring_token)["GB080"] == "in_progress"

    services = launcher.app.extensions["lti_tool"]
    aged = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with services.db.unit_of_work() as session:
        session.execute(update(CompletionRecord).values(fetched_at=aged))
    autumn_client = launcher.app.test_client()
    autumn_token = _autumn_launch(launcher, ags, autumn_client)
    deadline = time.monotonic() + 15
    while _statuses(autumn_client, autumn_token)["GB080"] != "completed":
        assert time.monotonic() < deadline, "the autumn gradebook's score was never read"
        time.sleep(0.05)
    assert _statuses(spring, spring_token)["GB080"] == "completed"


def test_a_lower_score_in_the_same_course_is_a_correction(launcher: Launcher, ags: Any) -> None:
    """The gradebook a completion came from may take it back (a tutor corrects a score); a
    score removed from it says nothing, and the completion stays."""
    item = ags.add_lineitem("GB080", 100, resource_id="GB080", tag="GB080")
    ags.store.record(item.id, _grade(90.0))
    client = launcher.app.test_client()
    token = launch_token(launcher.launch(client, "student1").get_data(as_text=True))
    assert _statuses(client, token)["GB080"] == "completed"
    services = launcher.app.extensions["lti_tool"]

    def relaunch() -> str:
        with services.db.unit_of_work() as session:
            aged = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
            session.execute(update(CompletionRecord).values(fetched_at=aged))
        token = launch_token(launcher.launch(client, "student1").get_data(as_text=True))
        deadline = time.monotonic() + 15
        while True:
            with services.db.read_only() as session:
                oldest = session.scalar(select(func.min(CompletionRecord.fetched_at)))
            assert oldest is not None
            if dt.datetime.now(dt.UTC) - oldest.replace(tzinfo=dt.UTC) < dt.timedelta(minutes=5):
                return token
            assert time.monotonic() < deadline, "the gradebook was never read again"
            time.sleep(0.05)

    ags.store.record(item.id, _grade(20.0, day=2))
    token = relaunch()
    assert _statuses(client, token)["GB080"] == "in_progress"
    ags.store.record(item.id, _grade(95.0, day=3))
    token = relaunch()
    assert _statuses(client, token)["GB080"] == "completed"
    ags.reset()  # the column (and its scores) gone
    ags.add_lineitem("GB080", 100, resource_id="GB080", tag="GB080")
    token = relaunch()
    assert _statuses(client, token)["GB080"] == "completed"


def test_a_class_refresh_reads_its_own_course_gradebook(launcher: Launcher, ags: Any) -> None:
    """A class refresh reads the course's gradebook as the student's launch does: a lower
    score there takes back the completion that gradebook gave."""
    from lti_tool.completion.class_refresh import run_class_refresh
    from lti_tool.persistence.models import Context

    item = ags.add_lineitem("GB080", 100, resource_id="GB080", tag="GB080")
    ags.store.record(item.id, _grade(90.0))
    client = launcher.app.test_client()
    token = launch_token(launcher.launch(client, "student1").get_data(as_text=True))
    assert _statuses(client, token)["GB080"] == "completed"
    ags.store.record(item.id, _grade(20.0, day=2))
    services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        spring = session.scalars(select(Context.id)).one()
    run_class_refresh(services, spring)
    assert _statuses(client, token)["GB080"] == "in_progress"
