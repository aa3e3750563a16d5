"""lti-tool admin …: tool-admin accounts for the admin pages (``/admin/login``)."""

from __future__ import annotations

import sys

import click

from lti_tool.cli.common import admin_services, read_only_session, require_existing_database
from lti_tool.cli.common import settings as _settings
from lti_tool.cli.main import main


@main.group()
def admin() -> None:
    """Tool-admin accounts (they administer every registration)."""


def _read_password(from_stdin: bool) -> str:
    from lti_tool.admin.accounts import MIN_PASSWORD_LENGTH

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt="Repeat the password",
        )
    return str(password)


def _change(action: str, username: str, password: str | None = None) -> None:
    from lti_tool.admin import account_changes
    from lti_tool.admin.identity import command_line_identity

    identity = command_line_identity()
    # Accounts are password hashes in the database: nothing is sealed or signed, so these
    # commands need no LTI_TOOL_SECRET_KEY (set-password also needs Redis, if the tool uses
    # it, to end the account's sessions).
    with admin_services(needs_secret=False) as services:
        if action == "create":
            assert password is not None
            account_changes.create_account(services, identity, username, password)
        elif action == "password":
            assert password is not None
            account_changes.set_account_password(services, identity, username, password)
        else:
            account_changes.deactivate_account(services, identity, username)


@admin.command("create")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def admin_create(username: str, password_stdin: bool) -> None:
    """Create tool admin USERNAME (the password is asked for twice, hidden)."""
    _change("create", username, _read_password(password_stdin))
    click.echo(f"tool admin {username.strip()} created; sign in at /admin/login")


@admin.command("list")
def admin_list() -> None:
    """List tool admins."""
    from lti_tool.admin.accounts import list_admins

    current = _settings(needs_secret=False)
    require_existing_database(current)
    with read_only_session(current) as session:
        rows = [(a.username, a.active, a.created_at, a.last_login_at) for a in list_admins(session)]
    if not rows:
        click.echo("no tool admins: create one with lti-tool admin create USERNAME")
    for username, active, created, last in rows:
        seen = f"last sign-in {last:%Y-%m-%d %H:%M}Z" if last else "never signed in"
        state = "active" if active else "DEACTIVATED"
        click.echo(f"{username}  {state}  created {created:%Y-%m-%d}  {seen}")


@admin.command("deactivate")
@click.argument("username")
def admin_deactivate(username: str) -> None:
    """Stop USERNAME signing in (their open sessions end at once)."""
    _change("deactivate", username)
    click.echo(f"tool admin {username} deactivated")


@admin.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def admin_set_password(username: str, password_stdin: bool) -> None:
    """Give USERNAME a new password."""
    _change("password", username, _read_password(password_stdin))
    click.echo(f"password of tool admin {username} changed")
