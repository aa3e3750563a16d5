"""Two tutors choosing the course's qualification at the same moment: both choices are saved
one after the other (no 409 for the course's first choice), and the audit log says what each
replaced. Real PostgreSQL and Redis; the first choice is held in its transaction until the
second has either finished or waits for it."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

from lti_tool.lti.keys import SigningKey
from lti_tool.pathway import catalog
from lti_tool.persistence.models import AuditEntry, ContextSettings
from lti_tool.resources import resource_dir
from lti_tool.sandbox.platform import SandboxPlatform
from lti_tool.settings import normalise_database_url
from tests.conftest import make_tool
from tests.support.backends import PG_URL, MigratedBackends, backend_settings
from tests.support.lti import Launcher, staff_launch
from tests.support.outage_servers import CONDITION_SECONDS, wait_until
from tests.support.tooling import sandbox_launcher
from tests.unit.rules.support import MADE_UP_FILE

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def launcher(
    tmp_path: Path,
    migrated: MigratedBackends,
    platform: SandboxPlatform,
    tool_key_template: SigningKey,
) -> Iterator[Launcher]:
    """The production shape (PostgreSQL, Redis), knowing two qualifications."""
    folder = tmp_path / "qualifications"
    folder.mkdir()
    shutil.copy(
        resource_dir("config") / "qualifications" / "pgcert-clinical-leadership.toml", folder
    )
    shutil.copy(MADE_UP_FILE, folder)
    with backend_settings("postgres+redis", tmp_path, migrated) as overrides:
        app: Flask = make_tool({**overrides, "qualifications_dir": str(folder)}, tmp_path)
        yield sandbox_launcher(app, platform, tool_key_template)
        app.extensions["lti_tool"].close()


@pytest.fixture
def server() -> Iterator[sa.Engine]:
    """A connection of the test's own to the server, to see who waits for whom."""
    engine = sa.create_engine(normalise_database_url(PG_URL), poolclass=sa.NullPool)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("chosen_before", [None, "PGCERT-CL"])
def test_two_choices_at_once_are_both_saved_and_audited_in_turn(
    launcher: Launcher,
    server: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
    chosen_before: str | None,
) -> None:
    first, headers = staff_launch(launcher)
    second = launcher.app.test_client()

    def choose(client: Any, code: str) -> Any:
        return client.put("/api/context/qualification", json={"code": code}, headers=headers)

    if chosen_before:
        assert choose(first, chosen_before).status_code == 200

    # The first choice waits, its change made and audited, before its commit.
    held, go = threading.Event(), threading.Event()
    holder: list[int] = []
    audit = catalog.audit

    def held_audit(session: Any, **entry: Any) -> None:
        audit(session, **entry)
        if not held.is_set():
            session.flush()
            holder.append(session.connection().connection.dbapi_connection.info.backend_pid)
            held.set()
            assert go.wait(CONDITION_SECONDS)

    monkeypatch.setattr(catalog, "audit", held_audit)
    answers: dict[str, Any] = {}

    def run(name: str, client: Any, code: str) -> None:
        answers[name] = choose(client, code)

    def second_done_or_waiting() -> bool:
        if not threads[1].is_alive():
            return True
        blocked = "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
        with server.connect() as conn:
            return bool(conn.execute(sa.text(blocked), {"pid": holder[0]}).scalar())

    threads = [threading.Thread(target=run, args=("first", first, "TEST-DIP"), daemon=True)]
    try:
        threads[0].start()
        assert held.wait(CONDITION_SECONDS), "the first choice never reached its audit"
        threads.append(
            threading.Thread(target=run, args=("second", second, "PGCERT-CL"), daemon=True)
        )
        threads[1].start()
        wait_until(second_done_or_waiting, "the second choice to finish or wait for the first")
    finally:
        go.set()
        for thread in threads:
            thread.join(CONDITION_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    for name in ("first", "second"):
        assert answers[name].status_code == 200, answers[name].get_data(as_text=True)

    services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        chosen = session.scalar(select(ContextSettings.qualification_code))
        trail = [
            (entry.old["qualification"], entry.new["qualification"])
            for entry in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "qualification.choose")
                .order_by(AuditEntry.id)
            )
        ]
    assert chosen == "PGCERT-CL"
    assert trail[-2:] == [(chosen_before, "TEST-DIP"), ("TEST-DIP", "PGCERT-CL")]
