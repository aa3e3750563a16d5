"""The listing commands close their database connections when they are done, rather than
leave them to the garbage collector (PostgreSQL logs a connection dropped without a goodbye)."""

from __future__ import annotations

import pytest
from flask import Flask

from lti_tool.persistence.db import Database
from tests.web.test_cli_audit import cli


@pytest.mark.parametrize(
    "command", [("keys", "list"), ("platform", "list"), ("admin", "list")], ids=" ".join
)
def test_a_listing_command_closes_its_database(
    tool: Flask, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    opened: list[Database] = []
    real_init = Database.__init__

    def counted_init(self: Database, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        opened.append(self)

    monkeypatch.setattr(Database, "__init__", counted_init)

    cli(tool)(*command)

    assert opened, "the command read no database"
    left_open = [db.engine.pool.checkedin() + db.engine.pool.checkedout() for db in opened]
    assert left_open == [0] * len(opened)
