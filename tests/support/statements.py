"""The SQL statements an app runs inside a block (counted from SQLAlchemy's engine events)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event


@contextmanager
def sql_statements(app: Flask) -> Iterator[list[str]]:
    """The statements of this thread (the test client's requests run in it; the tool's
    background jobs do not), lower-case on one line each, in the order the tool runs them."""
    engine = app.extensions["lti_tool"].db.engine
    seen: list[str] = []
    thread = threading.get_ident()

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if threading.get_ident() == thread:
            seen.append(" ".join(sql.split()).lower())

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
