"""lti-tool admin …: tool-admin accounts from the command line, against a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from lti_tool.cli import main
from lti_tool.persistence.models import ToolAdmin

Run = Callable[..., Result]
PASSWORD = "a long enough password"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def run(tmp_path: Path, database: Path) -> Run:
    env = {
        "LTI_TOOL_ENV": "production",
        "LTI_TOOL_SECRET_KEY": "cli-test-secret-of-at-least-32-characters",
        "LTI_TOOL_DATABASE_URL": f"sqlite:///{database}",
        "LTI_TOOL_BASE_URL": "https://pathway.example.ac.uk",
        "LTI_TOOL_INSTANCE_DIR": str(tmp_path),
    }

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=env, input=input)

    assert invoke("init").exit_code == 0
    return invoke


def accounts(database: Path) -> dict[str, ToolAdmin]:
    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        rows = {a.username: a for a in session.scalars(select(ToolAdmin))}
        session.expunge_all()
    engine.dispose()
    return rows


def test_create_prompts_twice_and_stores_only_a_hash(run: Run, database: Path) -> None:
    result = run("admin", "create", "alice", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "tool admin alice created" in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    stored = accounts(database)["alice"]
    assert stored.active and stored.password_hash != PASSWORD
    assert check_password_hash(stored.password_hash, PASSWORD)


def test_create_refuses_mismatch_short_password_and_duplicates(run: Run, database: Path) -> None:
    mismatch = run("admin", "create", "bob", input=f"{PASSWORD}\nsomething else entirely\n")
    assert mismatch.exit_code != 0 and "bob" not in accounts(database)
    short = run("admin", "create", "bob", "--password-stdin", input="too short\n")
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    assert "bob" not in accounts(database)

    assert run("admin", "create", "bob", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    again = run("admin", "create", "bob", "--password-stdin", input=PASSWORD + "2\n")
    assert again.exit_code == 1
    assert "A tool admin called 'bob' already exists." in again.output
    assert check_password_hash(accounts(database)["bob"].password_hash, PASSWORD)


def test_list_deactivate_and_set_password(run: Run, database: Path) -> None:
    assert "no tool admins" in run("admin", "list").output
    for name in ("carol", "dave"):
        assert (
            run("admin", "create", name, "--password-stdin", input=PASSWORD + "\n").exit_code == 0
        )
    listed = run("admin", "list").output.splitlines()
    assert [line.split()[:2] for line in listed] == [["carol", "active"], ["dave", "active"]]
    assert all("never signed in" in line for line in listed)

    assert run("admin", "deactivate", "dave").exit_code == 0
    assert "dave  DEACTIVATED" in run("admin", "list").output
    assert accounts(database)["dave"].active is False
    missing = run("admin", "deactivate", "erin")
    assert missing.exit_code == 1 and "There is no tool admin called 'erin'." in missing.output

    new = "another long password"
    changed = run("admin", "set-password", "carol", input=f"{new}\n{new}\n")
    assert changed.exit_code == 0 and "password of tool admin carol changed" in changed.output
    assert check_password_hash(accounts(database)["carol"].password_hash, new)
    short = run("admin", "set-password", "carol", "--password-stdin", input="short\n")
    assert short.exit_code == 1
    assert check_password_hash(accounts(database)["carol"].password_hash, new)


def test_a_new_password_ends_the_accounts_open_sessions(run: Run, database: Path) -> None:
    import datetime as dt

    from lti_tool.persistence.models import Ephemeral

    for name in ("carol", "dave"):
        assert (
            run("admin", "create", name, "--password-stdin", input=PASSWORD + "\n").exit_code == 0
        )
    engine = create_engine(f"sqlite:///{database}")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with Session(engine) as session:
        pks = {a.username: a.id for a in session.scalars(select(ToolAdmin))}
        for name, pk in pks.items():
            session.add(
                Ephemeral(kind="admin", key=name, value={"account_pk": pk}, expires_at=later)
            )
        session.commit()
    new = "another long password"
    assert (
        run("admin", "set-password", "carol", "--password-stdin", input=new + "\n").exit_code == 0
    )
    with Session(engine) as session:
        left = set(session.scalars(select(Ephemeral.key).where(Ephemeral.kind == "admin")))
    engine.dispose()
    assert left == {"dave"}
