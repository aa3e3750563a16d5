"""The ``lti-tool`` command."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from lti_tool.errors import ToolError
from lti_tool.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _db(settings: Settings) -> Any:
    from lti_tool.persistence.db import Database

    return Database(settings.sqlalchemy_url)


@click.group()
def main() -> None:
    """Clinical-leadership pathway tool (LTI 1.3)."""


@main.command()
def init() -> None:
    """Migrate the database and create a signing key if there is none."""
    from lti_tool.lti.keys import ensure_signing_key
    from lti_tool.persistence.migrate import upgrade

    settings = _settings()
    upgrade(settings.sqlalchemy_url)
    db = _db(settings)
    with db.unit_of_work() as session:
        key = ensure_signing_key(session)
        kid = key.kid
    click.echo(f"database ready; active signing key {kid}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=int,
    help="More than 1 runs gunicorn with that many worker processes.",
)
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per worker.")
@click.option(
    "--sandbox/--no-sandbox", default=False, help="Also start the sandbox LMS (development only)."
)
def serve(host: str, port: int, workers: int, threads: int, sandbox: bool) -> None:
    """Serve the tool (gunicorn when --workers > 1)."""
    from lti_tool import create_app
    from lti_tool.sandbox import SandboxRefused, SandboxServer, platform_for, register_sandbox

    settings = _settings()
    if sandbox:
        try:
            platform = platform_for(settings)
        except SandboxRefused as exc:
            raise click.ClickException(str(exc)) from exc
        register_sandbox(_db(settings), platform, settings.is_development)
        from urllib.parse import urlsplit

        parts = urlsplit(platform.issuer)
        SandboxServer(platform, parts.hostname or "127.0.0.1", parts.port or 5001).start()
        click.echo(f"Sandbox LMS: {platform.issuer}/  (launch as student / instructor there)")
    click.echo(
        f"Tool: http://{host}:{port}/  (JWKS {settings.url_for_tool('/.well-known/jwks.json')})"
    )
    if workers > 1:
        from lti_tool.serving import run_gunicorn

        run_gunicorn(host, port, workers, threads)
    else:
        app = create_app(settings)
        app.run(host=host, port=port, threaded=True, use_reloader=False)


@main.command()
@click.option("--port", default=None, type=int, help="Port (default: from sandbox_url).")
def sandbox(port: int | None) -> None:
    """Run only the sandbox LMS, registered with the tool (development only)."""
    from lti_tool.sandbox import SandboxRefused, SandboxServer, platform_for, register_sandbox

    settings = _settings()
    try:
        platform = platform_for(settings)
    except SandboxRefused as exc:
        raise click.ClickException(str(exc)) from exc
    register_sandbox(_db(settings), platform, settings.is_development)
    from urllib.parse import urlsplit

    parts = urlsplit(platform.issuer)
    server = SandboxServer(platform, parts.hostname or "127.0.0.1", port or parts.port or 5001)
    click.echo(f"Sandbox LMS on {platform.issuer}/ (Ctrl-C to stop)")
    server.start()
    try:
        server._thread.join()
    except KeyboardInterrupt:
        server.stop()


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
    """Register a platform and print the URLs to paste into the LMS."""
    from lti_tool.lti import registry

    settings = _settings()
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
    try:
        with _db(settings).unit_of_work() as session:
            reg = registry.add_platform(session, spec, development=settings.is_development)
            pk = reg.id
    except ToolError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Registered {name!r} (id {pk}). Paste these into the platform:")
    click.echo(f"  Tool URL / target link URI : {settings.url_for_tool('/lti/launch')}")
    click.echo(f"  Initiate login URL          : {settings.url_for_tool('/lti/login')}")
    click.echo(f"    (or, if it sends no client_id: {settings.url_for_tool(f'/lti/login/{pk}')})")
    click.echo(f"  Redirection URI(s)          : {settings.url_for_tool('/lti/launch')}")
    click.echo(f"  Public keyset (JWKS) URL    : {settings.url_for_tool('/.well-known/jwks.json')}")


@platform.command("list")
@click.option("--json", "as_json", is_flag=True)
def platform_list(as_json: bool) -> None:
    """List registrations and their deployments."""
    from lti_tool.lti import registry

    with _db(_settings()).read_only() as session:
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
        click.echo(f"{r['name']} [{r['kind']}] issuer={r['issuer']} client_id={r['client_id']}")
        for d in r["deployments"]:
            state = "active" if d["active"] else "INACTIVE"
            click.echo(f"    deployment {d['deployment_id']}: {state}")


def _set_deployment(name: str, deployment_id: str, active: bool) -> None:
    from lti_tool.lti import registry

    try:
        with _db(_settings()).unit_of_work() as session:
            registry.set_deployment_active(session, name, deployment_id, active)
    except ToolError as exc:
        raise click.ClickException(exc.message) from exc
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


@main.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Add a new active key; older keys stay published for the grace period."""
    from lti_tool.lti.keys import rotate_signing_key

    settings = _settings()
    grace = dt.timedelta(days=settings.key_grace_period_days)
    with _db(settings).unit_of_work() as session:
        key = rotate_signing_key(session, grace)
        kid = key.kid
    click.echo(f"new active key {kid}; previous keys stay published for {grace.days} days")


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
