"""lti-tool keys …: the tool's signing keys."""

from __future__ import annotations

import datetime as dt

import click

from lti_tool.cli.common import admin_services, read_only_session
from lti_tool.cli.common import settings as _settings
from lti_tool.cli.main import main


def _at(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z"


@main.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("rotate")
@click.option(
    "--now",
    "at_once",
    is_flag=True,
    help="Sign with the new key at once and withdraw every earlier key (the current key may "
    "be compromised, or its secret is lost); platforms may refuse the tool's messages for a "
    "few minutes.",
)
def keys_rotate(at_once: bool) -> None:
    """Publish a new key; it signs after a lead time, or at once with --now, which also
    withdraws the earlier keys (audited)."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.keys import grace_period, rotate_keys
    from lti_tool.lti.keys import JWKS_MAX_AGE_SECONDS

    with admin_services() as services:
        key = rotate_keys(services, command_line_identity(), at_once=at_once)
        days = grace_period(services).days
    if at_once:
        minutes = JWKS_MAX_AGE_SECONDS // 60
        click.echo(
            f"new active key {key.kid}, signing now; earlier keys are withdrawn from the key "
            f"set now, and platforms stop accepting them when their copy of it expires (within "
            f"{minutes} minutes). Until they fetch it again, they may refuse the tool's "
            "messages (grade syncs, roster reads, deep linking)."
        )
        return
    click.echo(
        f"new key {key.kid} is published now and begins signing at {_at(key.activates_at)}; "
        f"the current key signs until then and stays published for {days} days after. "
        "Run `lti-tool keys rotate --now` instead if the current key may be compromised."
    )


@keys.command("list")
def keys_list() -> None:
    """List signing keys, their status and when a pending key begins signing."""
    from lti_tool.lti.keys import list_signing_keys

    with read_only_session(_settings()) as session:
        infos = list_signing_keys(session)
    if not infos:
        click.echo("no keys: run lti-tool init")
    for info in infos:
        if info.is_pending:
            when = f", begins signing at {_at(info.activates_at)}"
        elif info.is_signing and info.retired_at is not None:
            when = f" until {_at(info.retired_at)}"
        elif info.withdrawn_at is not None:
            when = f", withdrawn {info.withdrawn_at:%Y-%m-%d %H:%M}Z"
        elif info.publish_until is not None:
            when = f" until {info.publish_until:%Y-%m-%d %H:%M}Z"
        else:
            when = ""
        click.echo(f"{info.kid}  created {info.created_at:%Y-%m-%d %H:%M}Z  {info.status}{when}")
