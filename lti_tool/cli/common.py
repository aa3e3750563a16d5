"""Shared by the command modules: settings, the database and the tool's services, with errors
as click errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from lti_tool.errors import ToolError
from lti_tool.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from lti_tool.container import Services


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def database(current: Settings) -> Any:
    from lti_tool.persistence.db import Database

    return Database(current.sqlalchemy_url)


@contextmanager
def admin_services() -> Iterator[Services]:
    """The tool's services, as the admin pages have them: a command that changes what they
    change calls the same function in ``lti_tool.admin`` under ``command_line_identity()``.
    A refusal becomes the command's error message."""
    from lti_tool.container import build_services

    # An operator's command may run one long statement (a retention purge, an export): it gets
    # the connect and pool deadlines, not the statement deadline meant for requests and jobs.
    services = build_services(replace(settings(), database_statement_timeout_seconds=0))
    try:
        yield services
    except ToolError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        services.close()
