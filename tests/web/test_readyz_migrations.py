"""/readyz, the load balancer's readiness probe, on a database the running code cannot use: a
new instance started before `lti-tool init`, or an upgraded one whose new migrations have not
run. Every launch of such an instance fails, so the balancer must not send it any; once the
database is at the code's head, the probe stops reading the revision."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from lti_tool.persistence.migrate import upgrade
from lti_tool.persistence.revision import head_revision
from lti_tool.settings import normalise_database_url
from tests.conftest import make_tool
from tests.support.backends import postgres_schema


@contextmanager
def _tool(url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_tool({"database_url": url}, tmp_path)
    try:
        yield app
    finally:
        app.extensions["lti_tool"].close()


@contextmanager
def _every_thread_statements(app: Flask) -> Iterator[list[str]]:
    """The statements of every thread (/readyz runs its checks on threads of its own)."""
    seen: list[str] = []
    lock = threading.Lock()
    engine = app.extensions["lti_tool"].db.engine

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        with lock:
            seen.append(" ".join(sql.split()).lower())

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.mark.parametrize("revision", [None, "0010"], ids=["never-migrated", "one-behind"])
def test_readyz_is_not_ready_on_a_database_behind_the_code(
    tmp_path: Path, revision: str | None
) -> None:
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    if revision is not None:
        upgrade(normalise_database_url(url), revision)
    with _tool(url, tmp_path) as app:
        ready = app.test_client().get("/readyz")
    assert ready.status_code == 503, ready.get_json()
    body = ready.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == (
        f"error: database at revision {revision or 'none'}, the code expects {head_revision()}: "
        "run lti-tool init"
    )


@pytest.mark.postgres
def test_readyz_on_a_never_migrated_postgres_database(tmp_path: Path) -> None:
    with postgres_schema() as url, _tool(url, tmp_path) as app:
        ready = app.test_client().get("/readyz")
    assert ready.status_code == 503, ready.get_json()
    assert ready.get_json()["checks"]["migrations"].startswith("error: database at revision none")


def test_readyz_is_ready_once_migrated_and_then_reads_no_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
    upgrade(normalise_database_url(url), "0010")
    with _tool(url, tmp_path) as app:
        client = app.test_client()
        assert client.get("/readyz").status_code == 503
        upgrade(normalise_database_url(url))  # `lti-tool init`, the tool left running
        with _every_thread_statements(app) as first:
            ready = client.get("/readyz")
        with _every_thread_statements(app) as later:
            again = client.get("/readyz")
    assert ready.status_code == 200 and again.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {"database": "ok", "migrations": "ok"}
    assert any("alembic_version" in sql for sql in first)
    assert later == ["select 1"]
