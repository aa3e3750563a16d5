"""A class roster refresh and a student's launch that both write: the launch of a renamed
course takes the course's row and then the student's membership; the refresh must not hold
that membership while it waits for the course's row (a deadlock, one of the two refused).
Real PostgreSQL and Redis; the refresh is held at a statement until the launch waits on it."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event, update

from lti_tool.lti import claims as c
from lti_tool.persistence.models import Membership, User, utcnow
from lti_tool.settings import normalise_database_url
from tests.support.backends import PG_URL
from tests.support.lti import Launcher, staff_launch
from tests.support.outage_servers import CONDITION_SECONDS, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
STUDENT = "1001"  # student1


@pytest.fixture
def backend() -> str:  # the production path: PostgreSQL + Redis
    return "postgres+redis"


@pytest.fixture
def server() -> Iterator[sa.Engine]:
    """A connection of the test's own to the server, to see who waits for whom."""
    engine = sa.create_engine(normalise_database_url(PG_URL), poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def test_a_roster_refresh_and_a_renamed_courses_launch_do_not_deadlock(
    launcher: Launcher, server: sa.Engine
) -> None:
    services = launcher.app.extensions["lti_tool"]
    launcher.launch(launcher.app.test_client(), "student1")
    staff, headers = staff_launch(launcher)
    with services.db.unit_of_work() as session:  # the student's last launch: hours ago
        session.execute(
            update(Membership)
            .where(
                Membership.user_pk
                == sa.select(User.id).where(User.sub == STUDENT).scalar_subquery()
            )
            .values(last_launch_at=utcnow() - dt.timedelta(hours=3))
        )

    # The refresh is held once it has written the members, before its last statements.
    held, go = threading.Event(), threading.Event()
    refresher: list[int] = []

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("UPDATE memberships SET status") and not held.is_set():
            refresher.append(conn.connection.dbapi_connection.info.backend_pid)
            held.set()
            assert go.wait(CONDITION_SECONDS)

    event.listen(services.db.engine, "before_cursor_execute", hold)
    answers: dict[str, Any] = {}

    def refresh() -> None:
        answers["refresh"] = staff.post("/api/context/roster/refresh", headers=headers)

    def launch() -> None:
        claims = launcher.platform.launch_claims("student1", "-")
        renamed = {**claims[c.CONTEXT], "title": "Clinical leadership (renamed)"}
        answers["launch"] = launcher.launch(
            launcher.app.test_client(), "student1", changes={c.CONTEXT: renamed}
        )

    def waits_for_refresh() -> bool:
        blocked = "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
        with server.connect() as conn:
            return bool(conn.execute(sa.text(blocked), {"pid": refresher[0]}).scalar())

    threads = [threading.Thread(target=refresh, daemon=True)]
    try:
        threads[0].start()
        assert held.wait(CONDITION_SECONDS), "the roster refresh never wrote its members"
        threads.append(threading.Thread(target=launch, daemon=True))
        threads[1].start()
        wait_until(waits_for_refresh, "the launch to wait for the roster refresh")
    finally:
        go.set()
        for thread in threads:
            thread.join(CONDITION_SECONDS)
        event.remove(services.db.engine, "before_cursor_execute", hold)
    assert not any(thread.is_alive() for thread in threads)
    assert answers["refresh"].status_code == 200, answers["refresh"].get_data(as_text=True)
    assert answers["launch"].status_code == 200, answers["launch"].get_data(as_text=True)
