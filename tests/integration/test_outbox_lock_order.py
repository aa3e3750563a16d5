"""A results import changing results whose earlier scores still wait for the gradebook, while
a tutor presses "Send to the gradebook" or a sync starts sending them: the import supersedes
the waiting rows, the press and the sync change the same rows. Each may wait for the other,
but neither is refused as a deadlock (``grading/outbox.py``: outbox rows are locked in one
order, and an import supersedes its rows together at its end).

The import lists the students in the opposite order to their waiting rows; it is held after
its first student's result, until the press or the sync has either finished or is waiting for
a row lock on the outbox: before the fix the import then held the second row, the other side
the first, and each asked for the other's. Real PostgreSQL; the interleaving is held by the
test, not hoped for."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import select, text

from lti_tool.grading import results
from lti_tool.persistence.models import AssessmentResultRow, User
from tests.support.grade_sync import sync_job_on_a_thread
from tests.support.lti import Launcher
from tests.support.outage_servers import CONDITION_SECONDS, wait_until
from tests.support.pathway_web import Opened, csrf_token, open_tool, parse_html

pytestmark = [pytest.mark.postgres]
HEADER = "student,module,score,outcome,override_reason\n"
# A session of this test waiting for a row of the outbox another transaction holds.
WAITING_FOR_AN_OUTBOX_ROW = text(
    "SELECT count(*) FROM pg_locks t JOIN pg_locks w ON w.pid = t.pid "
    "WHERE t.locktype = 'tuple' AND t.relation = 'grade_outbox'::regclass AND NOT w.granted"
)


@pytest.fixture
def backend() -> str:  # the production database
    return "postgres"


def upload(teacher: Opened, body: str) -> str:
    """The import form posted with ``body`` as its file: the page's words."""
    response = teacher.client.post(
        "/staff/class/results/import",
        data={
            "csrf_token": csrf_token(teacher.page),
            "file": (io.BytesIO(body.encode()), "results.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(parse_html(response.get_data(as_text=True)).text)


def press(teacher: Opened) -> str:
    started = teacher.client.post("/api/context/grade-sync", headers=teacher.bearer)
    assert started.status_code == 202, started.get_data(as_text=True)
    return str(started.get_json()["job_id"])


def on_a_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """``work`` started on a thread: the thread and the list its answer or error goes to."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as exc:  # the test reports it
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


@pytest.mark.parametrize("other", ["press", "sync"])
def test_an_import_and_a_sync_of_the_same_waiting_rows_never_deadlock(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch, other: str
) -> None:
    services = launcher.app.extensions["lti_tool"]
    importer, presser = open_tool(launcher, "teacher1"), open_tool(launcher, "teacher1")
    # The first scores wait for the gradebook: 1001's row, then 1002's.
    saved = upload(importer, HEADER + "1001,B832,61,pass,Seen\n1002,B832,62,pass,Seen\n")
    assert "Imported 2 results." in saved
    job_id = ""
    if other == "sync":
        # A sync pressed but not yet running (its queue holds it): its run starts below.
        monkeypatch.setattr(services.jobs, "submit", lambda *a, **k: Future())
        job_id = press(presser)

    held, go = threading.Event(), threading.Event()
    importing = threading.local()
    save = results.save_result

    def save_then_wait(session: Any, **values: Any) -> Any:
        answer = save(session, **values)
        if getattr(importing, "first", False):
            importing.first = False
            held.set()
            assert go.wait(CONDITION_SECONDS)
        return answer

    monkeypatch.setattr(results, "save_result", save_then_wait)

    def second_import() -> str:
        importing.first = True
        return upload(importer, HEADER + "1002,B832,72,pass,Seen\n1001,B832,71,pass,Seen\n")

    import_thread, imported = on_a_thread(second_import)
    assert held.wait(CONDITION_SECONDS), "the import never saved its first result"
    if other == "press":
        other_thread, other_out = on_a_thread(lambda: press(presser))
    else:
        other_thread, other_out = sync_job_on_a_thread(services, job_id)

    def finished_or_waiting() -> bool:
        if not other_thread.is_alive():
            return True
        with services.db.read_only() as session:
            return bool(session.scalar(WAITING_FOR_AN_OUTBOX_ROW))

    wait_until(finished_or_waiting, f"the {other} to finish or wait for an outbox row")
    go.set()
    for thread in (import_thread, other_thread):
        thread.join(CONDITION_SECONDS)
        assert not thread.is_alive()

    assert len(imported) == 1 and "Imported 2 results." in imported[0], imported
    if other == "press":
        assert len(other_out) == 1 and isinstance(other_out[0], str), other_out
    else:
        assert other_out == []
    # The import was saved whole.
    with services.db.read_only() as session:
        scores = dict(
            session.execute(
                select(User.sub, AssessmentResultRow.score).join(
                    User, User.id == AssessmentResultRow.user_pk
                )
            ).all()
        )
    assert scores == {"1001": 71.0, "1002": 72.0}


class OutboxStatements:
    """Every statement that changes grade outbox rows, with whether its transaction had locked
    outbox rows in id order first (``SELECT … ORDER BY id FOR UPDATE``)."""

    def __init__(self) -> None:
        self.ordered: dict[int, bool] = {}
        self.unordered: list[str] = []
        self.changes = 0

    def begin(self, conn: Any) -> None:
        self.ordered[id(conn)] = False

    def statement(self, conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        flat = " ".join(sql.split())
        if flat.startswith("SELECT grade_outbox.id") and flat.endswith(
            "ORDER BY grade_outbox.id FOR UPDATE"
        ):
            self.ordered[id(conn)] = True
        if not flat.startswith(("UPDATE grade_outbox", "DELETE FROM grade_outbox")):
            return
        self.changes += 1
        by_id = "grade_outbox.id IN (" in flat or "grade_outbox.id = " in flat
        if "FOR UPDATE SKIP LOCKED" in flat:  # the claim lease: never waits
            return
        if not (by_id and self.ordered.get(id(conn), False)):
            self.unordered.append(flat)


def test_every_change_of_outbox_rows_names_rows_locked_in_id_order_first(
    launcher: Launcher,
) -> None:
    """What a deadlock test cannot cover one by one: through a release, a result changed, two
    imports and two syncs, each statement that changes outbox rows names them by id, after
    its transaction locked them in id order."""
    from sqlalchemy import event

    from lti_tool.persistence.models import SyncJobRow

    services = launcher.app.extensions["lti_tool"]
    teacher = open_tool(launcher, "teacher1")
    seen = OutboxStatements()
    engine = services.db.engine
    event.listen(engine, "begin", seen.begin)
    event.listen(engine, "before_cursor_execute", seen.statement)

    def sync_to_its_end() -> None:
        job_id = press(teacher)

        def ended() -> bool:
            with services.db.read_only() as session:
                job = session.get(SyncJobRow, job_id)
                return job is not None and job.status in {"done", "failed"}

        wait_until(ended, "the sync to end")

    try:
        held = HEADER.strip() + ",released\n"
        body = held + "1001,B832,61,pass,Seen,no\n1002,B832,62,pass,Seen,no\n"
        assert "Imported 2 results." in upload(teacher, body)
        released = teacher.client.post(
            "/api/context/results/release", json={}, headers=teacher.bearer
        )
        assert released.get_json() == {"released": 2}, released.get_data(as_text=True)
        changed = teacher.client.put(
            "/api/context/results/B832/1001",
            json={"score": 66, "outcome": "pass", "override_reason": "Seen"},
            headers=teacher.bearer,
        )
        assert changed.status_code == 200, changed.get_data(as_text=True)
        sync_to_its_end()
        body = HEADER + "1002,B832,72,pass,Seen\n1001,B832,71,pass,Seen\n"
        assert "Imported 2 results." in upload(teacher, body)
        sync_to_its_end()
    finally:
        event.remove(engine, "before_cursor_execute", seen.statement)
        event.remove(engine, "begin", seen.begin)
    assert seen.changes >= 6, seen.changes  # the flow did change outbox rows
    assert seen.unordered == []
