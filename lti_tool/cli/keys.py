"""lti-tool keys …: the tool's signing keys."""

from __future__ import annotations

import click

from lti_tool.cli.common import admin_services
from lti_tool.cli.common import database as _db
from lti_tool.cli.common import settings as _settings
from lti_tool.cli.main import main


@main.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Add a new active key; older keys stay published for the grace period (audited)."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.keys import grace_period, rotate_keys

    with admin_services() as services:
        kid = rotate_keys(services, command_line_identity())
        days = grace_period(services).days
    click.echo(f"new active key {kid}; previous keys stay published for {days} days")


@keys.command("list")
def keys_list() -> None:
    """List signing keys and their status."""
    from lti_tool.lti.keys import list_signing_keys

    with _db(_settings()).read_only() as session:
        infos = list_signing_keys(session)
    if not infos:
        click.echo("no keys: run lti-tool init")
    for info in infos:
        until = f" until {info.publish_until:%Y-%m-%d %H:%M}Z" if info.publish_until else ""
        click.echo(f"{info.kid}  created {info.created_at:%Y-%m-%d %H:%M}Z  {info.status}{until}")
