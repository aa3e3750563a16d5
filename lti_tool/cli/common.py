"""Shared by the command modules: settings, the database and the tool's services, with errors
as click errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from lti_tool.errors import ToolError
from lti_tool.rules.errors import RulesError
from lti_tool.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from lti_tool.container import Services


def settings(*, needs_secret: bool = True) -> Settings:
    """The settings, or the command's error message naming what is wrong. ``needs_secret``
    False: the command seals and signs nothing, so production runs it without
    LTI_TOOL_SECRET_KEY."""
    try:
        return load_settings(require_secret=needs_secret)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def rules_error_words(exc: RulesError) -> str:
    """A qualification file or folder the tool cannot use, in one sentence naming the file,
    the key and the setting to check."""
    if exc.key == "default_qualification":
        advice = "set LTI_TOOL_DEFAULT_QUALIFICATION to one of them"
    else:
        advice = "mend the file, or set LTI_TOOL_QUALIFICATIONS_DIR to the right folder"
    return f"the qualification rules cannot be used: {exc} ({advice})"


def check_qualifications(current: Settings) -> None:
    """Load and check the qualification files before a server or worker starts (and fails in
    each of its processes, or at its first job, with a traceback)."""
    from lti_tool.rules.catalog import Catalog

    try:
        Catalog.load(current.qualifications_path, current.default_qualification)
    except RulesError as exc:
        raise click.ClickException(rules_error_words(exc)) from exc


def shown_database_url(current: Settings) -> str:
    """The database URL as an error message may show it: without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(current.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _unusable_url(current: Settings, exc: Exception) -> click.ClickException:
    return click.ClickException(
        f"LTI_TOOL_DATABASE_URL {shown_database_url(current)} is not a database the tool can "
        "use: give sqlite:///path/to/file.sqlite3 or postgresql://user:password@host/database"
    )


def database(current: Settings) -> Any:
    """The tool's database, or one sentence when LTI_TOOL_DATABASE_URL names none it can use
    (not a URL, a file path, a database whose driver is not installed)."""
    from sqlalchemy.exc import ArgumentError

    from lti_tool.persistence.db import Database

    try:
        return Database(current.sqlalchemy_url)
    except (ArgumentError, ImportError) as exc:
        raise _unusable_url(current, exc) from exc


@contextmanager
def read_only_session(current: Settings) -> Iterator[Any]:
    """A read-only session of the tool's database for one command; its connections are closed
    when the command is done, not left to the garbage collector (PostgreSQL logs those)."""
    db = database(current)
    try:
        with db.read_only() as session:
            yield session
    finally:
        db.dispose()


def check_database_url(current: Settings) -> None:
    """Refuse, in one sentence, an LTI_TOOL_DATABASE_URL that names no database the tool can
    use, before a server or worker starts (and fails in each of its processes)."""
    database(current).engine.dispose()


def require_existing_database(current: Settings) -> None:
    """Commands that only use an installed tool's database: an SQLite file that is not there
    is a wrong LTI_TOOL_DATABASE_URL (or a missing ``lti-tool init``), not a file to create."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(current.sqlalchemy_url)
    except ArgumentError as exc:
        raise _unusable_url(current, exc) from exc
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        from pathlib import Path

        if not Path(url.database).exists():
            raise click.ClickException(
                f"there is no database at {shown_database_url(current)}: set "
                "LTI_TOOL_DATABASE_URL to the tool's database (the one `lti-tool serve` uses), "
                "or run `lti-tool init` first to make one"
            )


@contextmanager
def admin_services(*, needs_secret: bool = True) -> Iterator[Services]:
    """The tool's services, as the admin pages have them: a command that changes what they
    change calls the same function in ``lti_tool.admin`` under ``command_line_identity()``.
    A refusal becomes the command's error message."""
    import dataclasses
    import secrets

    from sqlalchemy.exc import ArgumentError

    from lti_tool.container import build_services

    current = settings(needs_secret=needs_secret)
    require_existing_database(current)
    if not current.secret_key:
        # A command that seals nothing, run without LTI_TOOL_SECRET_KEY: a throw-away key,
        # so that anything sealed by mistake can never be opened (rather than opened by all).
        current = dataclasses.replace(current, secret_key=secrets.token_urlsafe(48))
    # An operator's command may run one long statement (a retention purge, an export): it gets
    # the connect and pool deadlines, not the statement deadline meant for requests and jobs.
    current = dataclasses.replace(current, database_statement_timeout_seconds=0)
    try:
        services = build_services(current)
    except (ArgumentError, ImportError) as exc:
        raise _unusable_url(current, exc) from exc
    try:
        yield services
    except ToolError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        services.close()


def explain_database_error(exc: Exception) -> str:
    """What an operator should do about a database error that reached the command line."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    try:
        current: Settings | None = load_settings(require_secret=False)
    except SettingsError:
        current = None
    where = shown_database_url(current) if current is not None else "LTI_TOOL_DATABASE_URL"
    lowered = text.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return (
            f"the database {where} has not been set up for the tool: run `lti-tool init` with "
            "the same settings first (or check LTI_TOOL_DATABASE_URL names the tool's database)"
        )
    if "connect" in lowered or "unable to open" in lowered or "password authentication" in lowered:
        return (
            f"cannot open the database {where} (LTI_TOOL_DATABASE_URL): is it running, and are "
            f"its address, name and password right? The database said: {text}"
        )
    return f"the database {where} refused the command: {text}"
