"""What a launch writes: a returning person whose details did not change writes no row (a
whole class launching at once must not queue on its course's row lock), a change is written,
and a membership's last launch time is kept to the hour (lti/launch_records.py)."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import select, update

from lti_tool.lti.launch_records import LAUNCH_STAMP_EVERY
from lti_tool.persistence.models import Context, Membership, User, utcnow
from tests.support.lti import Launcher
from tests.support.statements import sql_statements

RECORD_TABLES = ("users", "contexts", "resource_links", "memberships")


def statements(launcher: Launcher) -> AbstractContextManager[list[str]]:
    """The SQL statements the tool runs inside the block."""
    return sql_statements(launcher.app)


def writes_to_records(seen: list[str]) -> list[str]:
    return [
        sql
        for sql in seen
        if sql.startswith(("insert", "update", "delete"))
        and any(f"{verb} {table}" in sql for table in RECORD_TABLES for verb in ("into", "update"))
    ]


def launch_post(launcher: Launcher, user: str) -> Any:
    """Login, then the launch POST alone (its redirect not followed)."""
    client = launcher.app.test_client()
    login = launcher.login(client, user)
    token = launcher.platform.sign(launcher.claims(user, login.nonce))
    return client.post("/lti/launch", data={"id_token": token, "state": login.state})


def test_a_returning_student_launch_writes_no_record_row(launcher: Launcher) -> None:
    assert launch_post(launcher, "student1").status_code == 303
    with statements(launcher) as seen:
        response = launch_post(launcher, "student1")
    assert response.status_code == 303
    assert writes_to_records(seen) == []
    # One read of the four rows (user, course, link, membership) and nothing else of them.
    record_reads = [
        sql
        for sql in seen
        if sql.startswith("select")
        and any(f"{t} as launch_" in sql or f"from {t} " in sql + " " for t in RECORD_TABLES)
    ]
    assert len(record_reads) == 1, record_reads
    assert not any("synchronous_commit" in sql for sql in seen)


def test_a_returning_staff_launch_writes_no_course_row(launcher: Launcher) -> None:
    assert launch_post(launcher, "teacher1").status_code == 303
    with statements(launcher) as seen:
        assert launch_post(launcher, "teacher1").status_code == 303
    assert not any(sql.startswith(("insert into contexts", "update contexts")) for sql in seen), (
        seen
    )


def test_a_changed_detail_is_written(launcher: Launcher) -> None:
    assert launch_post(launcher, "student1").status_code == 303
    db = launcher.app.extensions["lti_tool"].db
    with db.unit_of_work() as session:
        session.execute(update(User).where(User.sub == "1001").values(name="Old Name"))
        session.execute(update(Context).values(title="Old title"))
    with db.read_only() as session:
        before = session.scalar(select(User.updated_at).where(User.sub == "1001"))
    with statements(launcher) as seen:
        assert launch_post(launcher, "student1").status_code == 303
    written = writes_to_records(seen)
    assert any("into users" in sql for sql in written), written
    assert any("into contexts" in sql for sql in written), written
    assert not any("into memberships" in sql for sql in written), written
    assert any("synchronous_commit" in sql for sql in seen) == (
        db.engine.dialect.name == "postgresql"
    )
    with db.read_only() as session:
        user = session.scalar(select(User).where(User.sub == "1001"))
        assert user is not None and user.name == "Sam Student"
        assert before is not None and user.updated_at >= before
        assert session.scalar(select(Context.title)) != "Old title"


def test_last_launch_time_is_moved_only_when_an_hour_old(launcher: Launcher) -> None:
    assert launch_post(launcher, "student1").status_code == 303
    db = launcher.app.extensions["lti_tool"].db
    with db.read_only() as session:
        first = session.scalar(select(Membership.last_launch_at))
    assert first is not None
    assert launch_post(launcher, "student1").status_code == 303
    with db.read_only() as session:
        assert session.scalar(select(Membership.last_launch_at)) == first

    old = utcnow() - LAUNCH_STAMP_EVERY - dt.timedelta(minutes=1)
    with db.unit_of_work() as session:
        session.execute(update(Membership).values(last_launch_at=old))
    assert launch_post(launcher, "student1").status_code == 303
    with db.read_only() as session:
        moved = session.scalar(select(Membership.last_launch_at))
    assert moved is not None and moved > old + dt.timedelta(minutes=30)


def test_a_roster_asked_for_since_the_last_stamp_moves_it_once(launcher: Launcher) -> None:
    """A roster refresh after the student's stamp (within the hour) makes their next launch
    stamp again, so that roster cannot mark them as having left; the launch after writes
    nothing again, in as many statements as before any roster was asked for."""
    assert launch_post(launcher, "student1").status_code == 303
    with statements(launcher) as plain:
        assert launch_post(launcher, "student1").status_code == 303
    db = launcher.app.extensions["lti_tool"].db
    with db.read_only() as session:
        first = session.scalar(select(Membership.last_launch_at))
    assert launch_post(launcher, "teacher1").status_code == 303  # asks for the roster
    with db.read_only() as session:
        asked = session.scalar(select(Context.roster_asked_at))
    assert first is not None and asked is not None and asked > first
    with statements(launcher) as seen:
        assert launch_post(launcher, "student1").status_code == 303
    written = writes_to_records(seen)
    assert [sql for sql in written if "into memberships" in sql] != [], written
    assert not any("into users" in sql or "into contexts" in sql for sql in written), written
    with db.read_only() as session:
        stamped = session.scalar(
            select(Membership.last_launch_at)
            .join(User, User.id == Membership.user_pk)
            .where(User.sub == "1001")
        )
    assert stamped is not None and stamped >= asked
    with statements(launcher) as again:
        assert launch_post(launcher, "student1").status_code == 303
    assert writes_to_records(again) == []
    assert len(again) == len(plain), "\n".join([*plain, "----", *again])


def test_a_launch_reactivates_a_membership_the_roster_ended(launcher: Launcher) -> None:
    assert launch_post(launcher, "student1").status_code == 303
    db = launcher.app.extensions["lti_tool"].db
    with db.unit_of_work() as session:
        session.execute(update(Membership).values(status="inactive"))
    assert launch_post(launcher, "student1").status_code == 303
    with db.read_only() as session:
        assert session.scalar(select(Membership.status)) == "active"


def test_a_login_keeps_its_state_and_nonce_in_one_write(
    launcher: Launcher, monkeypatch: Any
) -> None:
    """One call (one Redis pipeline, or one transaction) for both; the launch still takes
    each of them once."""
    store = launcher.app.extensions["lti_tool"].store
    calls: list[list[tuple[str, str]]] = []
    puts: list[str] = []
    put_entries, put = store.put_entries, store.put

    def counted_entries(entries: Any, ttl: int) -> None:
        calls.append([(kind, key) for kind, key, _ in entries])
        put_entries(entries, ttl)

    def counted_put(kind: str, key: str, value: Any, ttl: int) -> None:
        puts.append(kind)
        put(kind, key, value, ttl)

    monkeypatch.setattr(store, "put_entries", counted_entries)
    monkeypatch.setattr(store, "put", counted_put)
    client = launcher.app.test_client()
    login = launcher.login(client, "student1")
    ours = [call for call in calls if any(kind in ("state", "nonce") for kind, _ in call)]
    assert ours == [[("state", login.state), ("nonce", login.nonce)]]
    assert "state" not in puts and "nonce" not in puts
    assert store.get("nonce", login.nonce) == {"state": login.state}
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    assert (
        client.post("/lti/launch", data={"id_token": token, "state": login.state}).status_code
        == 303
    )
    assert store.get("state", login.state) is None
    assert store.get("nonce", login.nonce) is None
