"""lti-tool platform …: registrations and deployments."""

from __future__ import annotations

import json
from typing import Any

import click

from lti_tool.cli.common import admin_services, read_only_session
from lti_tool.cli.common import settings as _settings
from lti_tool.cli.main import main


@main.group()
def platform() -> None:
    """Platform registrations and deployments."""


@platform.command("add")
@click.option("--name", required=True)
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True)
@click.option("--auth-token-url", required=True)
@click.option("--key-set-url", required=True)
@click.option("--auth-audience", default=None)
@click.option(
    "--kind",
    type=click.Choice(["moodle", "canvas", "generic"]),
    default="generic",
    show_default=True,
)
@click.option("--deployment-id", "deployment_ids", multiple=True, help="Repeatable.")
def platform_add(
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    auth_audience: str | None,
    kind: str,
    deployment_ids: tuple[str, ...],
) -> None:
    """Register a platform and print the URLs to paste into the LMS (audited)."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.lms_setup import command_line_lines
    from lti_tool.admin.platforms import add_registration
    from lti_tool.lti import registry

    spec = registry.PlatformSpec(
        name=name,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        key_set_url=key_set_url,
        auth_audience=auth_audience,
        kind=kind,
        deployment_ids=deployment_ids,
    )
    with admin_services() as services:
        pk = add_registration(services, command_line_identity(), spec)
        lines = command_line_lines(services.settings, pk, kind)
    click.echo(f"Registered {name!r} (id {pk}). Paste these into the platform:")
    for line in lines:
        click.echo(line)


@platform.command("list")
@click.option("--json", "as_json", is_flag=True)
def platform_list(as_json: bool) -> None:
    """List registrations and their deployments."""
    from lti_tool.lti import registry

    with read_only_session(_settings()) as session:
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "name": r.name,
                "kind": r.kind,
                "issuer": r.issuer,
                "client_id": r.client_id,
                "auth_login_url": r.auth_login_url,
                "auth_token_url": r.auth_token_url,
                "auth_audience": r.auth_audience,
                "key_set_url": r.key_set_url,
                "new_deployments": r.new_deployments,
                "deployments": [
                    {"deployment_id": d.deployment_id, "active": d.active} for d in r.deployments
                ],
            }
            for r in registry.list_registrations(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no platforms registered")
    for r in rows:
        click.echo(
            f"{r['name']} [{r['kind']}] issuer={r['issuer']} client_id={r['client_id']} "
            f"new deployments: {r['new_deployments']}"
        )
        for d in r["deployments"]:
            state = "active" if d["active"] else "INACTIVE"
            click.echo(f"    deployment {d['deployment_id']}: {state}")


def _set_deployment(name: str, deployment_id: str, active: bool) -> None:
    from lti_tool.admin.deployments import set_deployment_active_by_id
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.platforms import registration_pk_by_name

    identity = command_line_identity()
    with admin_services() as services:
        pk = registration_pk_by_name(services, identity, name)
        set_deployment_active_by_id(services, identity, pk, deployment_id, active)
    click.echo(f"deployment {deployment_id} of {name}: {'active' if active else 'inactive'}")


@platform.command("activate-deployment")
@click.argument("name")
@click.argument("deployment_id")
def activate_deployment(name: str, deployment_id: str) -> None:
    """Allow launches from DEPLOYMENT_ID of registration NAME."""
    _set_deployment(name, deployment_id, True)


@platform.command("deactivate-deployment")
@click.argument("name")
@click.argument("deployment_id")
def deactivate_deployment(name: str, deployment_id: str) -> None:
    """Refuse launches from DEPLOYMENT_ID of registration NAME."""
    _set_deployment(name, deployment_id, False)


@platform.command("set-deployment-policy")
@click.argument("name")
@click.argument("policy", type=click.Choice(["accept", "hold"]))
def set_deployment_policy(name: str, policy: str) -> None:
    """What registration NAME does with a deployment it has never seen: accept (allowed on
    its first signed launch) or hold (refused until activated). Audited."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.new_deployments import set_new_deployments
    from lti_tool.admin.platforms import registration_pk_by_name

    identity = command_line_identity()
    with admin_services() as services:
        pk = registration_pk_by_name(services, identity, name)
        changed = set_new_deployments(services, identity, pk, policy)
    if not changed:
        click.echo(f"registration {name}: new deployments already {policy}")
    else:
        click.echo(f"registration {name}: new deployments {policy}")


@platform.command("set-endpoints")
@click.argument("name")
@click.option("--auth-login-url", default=None)
@click.option("--auth-token-url", default=None)
@click.option("--key-set-url", default=None)
@click.option("--auth-audience", default=None, help="An empty value clears it.")
def set_endpoints(
    name: str,
    auth_login_url: str | None,
    auth_token_url: str | None,
    key_set_url: str | None,
    auth_audience: str | None,
) -> None:
    """Replace the endpoints and keys of registration NAME (options not given keep their
    value). Audited, old -> new. Dynamic Registration never changes an existing registration."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.platforms import registration_pk_by_name
    from lti_tool.admin.registration_endpoints import apply_endpoints

    changes = {
        "auth_login_url": auth_login_url,
        "auth_token_url": auth_token_url,
        "key_set_url": key_set_url,
        "auth_audience": auth_audience,
    }
    if all(value is None for value in changes.values()):
        raise click.UsageError("give at least one of the --… options to change")
    identity = command_line_identity()
    with admin_services() as services:
        pk = registration_pk_by_name(services, identity, name)
        change = apply_endpoints(services, identity, pk, changes)
    if not change.changed:
        click.echo(f"registration {name}: nothing changed")
    for field in change.changed:
        click.echo(
            f"{name} {field}: {change.old[field] or 'none'} -> {change.new[field] or 'none'}"
        )
    if change.changed:
        click.echo("Running tools pick the change up within seconds (their registration cache).")


@platform.command("rename")
@click.argument("name")
@click.argument("new_name")
def rename_platform(name: str, new_name: str) -> None:
    """Rename registration NAME to NEW_NAME (Dynamic Registration names them after the host);
    audited."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.platforms import registration_pk_by_name, rename_registration

    identity = command_line_identity()
    with admin_services() as services:
        pk = registration_pk_by_name(services, identity, name)
        new_name = rename_registration(services, identity, pk, new_name)
    click.echo(f"registration {name} is now called {new_name}")
