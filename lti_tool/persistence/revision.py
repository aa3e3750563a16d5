"""Which migration the database is at, and which one the code expects: the health page's
"Migrations" check and ``/readyz`` compare the two. Alembic is imported only when the head
is first asked for (it takes a second to import, which a web process's start need not pay)."""

from __future__ import annotations

import functools
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@functools.cache
def head_revision() -> str:
    """The revision this code's migrations end at (what ``lti-tool init`` brings a database to)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return str(ScriptDirectory.from_config(config).get_current_head())


def database_revision(session: Session) -> str | None:
    """The revision the database was last migrated to; None when it never was."""
    if not inspect(session.connection()).has_table("alembic_version"):
        return None
    revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(revision) if revision else None
