"""Shared by the command modules: settings and the database, with errors as click errors."""

from __future__ import annotations

from typing import Any

import click

from lti_tool.settings import Settings, SettingsError, load_settings


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def database(current: Settings) -> Any:
    from lti_tool.persistence.db import Database

    return Database(current.sqlalchemy_url)
