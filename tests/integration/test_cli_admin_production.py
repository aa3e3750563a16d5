"""``lti-tool admin create`` run as an operator runs it on a production server: a real
subprocess with production settings, against a PostgreSQL schema and an SQLite file. It needs
only the database (no secret key, base URL or Redis), and every wrong setting is one plain
sentence naming it, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lti_tool.settings import normalise_database_url
from tests.support.backends import postgres_schema

PASSWORD = "a long enough password"


@pytest.fixture(params=("sqlite", "postgres"))
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'production.sqlite3'}"
    else:
        with postgres_schema() as url:
            yield url


def lti_tool(
    args: list[str], settings: dict[str, str], cwd: Path, stdin: str = ""
) -> tuple[int, str]:
    """``lti-tool ARGS`` with only ``settings`` in its environment (no LTI_TOOL_* leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_TOOL_")}
    env.update(settings)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.getcwd(), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "lti_tool.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def admins(url: str) -> list[str]:
    engine = sa.create_engine(normalise_database_url(url), poolclass=sa.NullPool)
    with engine.connect() as conn:
        names = list(conn.execute(sa.text("SELECT username FROM tool_admins")).scalars())
    engine.dispose()
    return names


def test_first_administrator_in_production_needs_only_the_database(
    database_url: str, tmp_path: Path
) -> None:
    production = {
        "LTI_TOOL_ENV": "production",
        "LTI_TOOL_DATABASE_URL": database_url,
        "LTI_TOOL_BASE_URL": "https://pathway.example.ac.uk",
    }
    create = ["admin", "create", "alice", "--password-stdin"]

    # Before `lti-tool init`: a sentence saying what to do, no traceback, nothing written.
    code, output = lti_tool(create, production, tmp_path, PASSWORD + "\n")
    assert code == 1, output
    assert "Traceback" not in output
    if database_url.startswith("sqlite"):
        assert "there is no database at" in output and "LTI_TOOL_DATABASE_URL" in output
        assert not Path(database_url.removeprefix("sqlite:///")).exists()
    else:
        assert "run `lti-tool init`" in output

    # `lti-tool init` signs (it makes the tool's key), so it needs the secret...
    code, output = lti_tool(["init"], production, tmp_path)
    assert code == 1 and "LTI_TOOL_SECRET_KEY is not set" in output and "Traceback" not in output
    code, output = lti_tool(
        ["init"], {**production, "LTI_TOOL_SECRET_KEY": "production secret " * 3}, tmp_path
    )
    assert code == 0, output

    # ... the account commands do not: no secret, no base URL, a Redis nobody runs.
    code, output = lti_tool(create, production, tmp_path, PASSWORD + "\n")
    assert code == 0, output
    assert "tool admin alice created" in output
    assert admins(database_url) == ["alice"]
    code, output = lti_tool(["admin", "list"], production, tmp_path)
    assert code == 0 and output.startswith("alice  active"), output


def test_wrong_database_settings_are_named_not_traced(tmp_path: Path) -> None:
    production = {"LTI_TOOL_ENV": "production"}
    create = ["admin", "create", "alice", "--password-stdin"]
    cases = {
        # Nobody listens there; the password must not be shown.
        "postgresql://tool:hunter2-secret@127.0.0.1:9/pathway": "cannot open the database",
        "mysql://tool@db.example/pathway": "is not a database the tool can use",
        "not a url at all": "is not a database the tool can use",
    }
    for url, expected in cases.items():
        code, output = lti_tool(
            create, {**production, "LTI_TOOL_DATABASE_URL": url}, tmp_path, PASSWORD + "\n"
        )
        assert code == 1, output
        assert expected in output and "LTI_TOOL_DATABASE_URL" in output, output
        assert "Traceback" not in output and "hunter2" not in output, output
    # No database URL at all in production: the default SQLite file is not there.
    code, output = lti_tool(create, production, tmp_path, PASSWORD + "\n")
    assert code == 1 and "there is no database at sqlite:///var/lti_tool.sqlite3" in output
    assert not (tmp_path / "var").exists()
