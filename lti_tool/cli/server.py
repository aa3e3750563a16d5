"""lti-tool init, serve, sandbox."""

from __future__ import annotations

import click

from lti_tool.cli.common import database as _db
from lti_tool.cli.common import settings as _settings
from lti_tool.cli.main import main


@main.command()
def init() -> None:
    """Migrate the database and create a signing key if there is none."""
    from lti_tool.crypto import SecretBox
    from lti_tool.lti.keys import ensure_signing_key
    from lti_tool.persistence.migrate import upgrade

    settings = _settings()
    # The secret seals signing keys (migration 0010 seals those stored before it).
    upgrade(settings.sqlalchemy_url, secret_key=settings.secret_key)
    db = _db(settings)
    with db.unit_of_work() as session:
        key = ensure_signing_key(session, SecretBox(settings.secret_key))
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
        register_sandbox(_db(settings), platform, settings.is_development, settings.secret_key)
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
        import logging

        app = create_app(settings)
        # Werkzeug's own request lines carry query strings (login hints, launch tokens in
        # page links); the tool's access log already records each request, path only.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
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
    register_sandbox(_db(settings), platform, settings.is_development, settings.secret_key)
    from urllib.parse import urlsplit

    parts = urlsplit(platform.issuer)
    server = SandboxServer(platform, parts.hostname or "127.0.0.1", port or parts.port or 5001)
    click.echo(f"Sandbox LMS on {platform.issuer}/ (Ctrl-C to stop)")
    server.start()
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker for grade syncs and class refreshes (needs LTI_TOOL_REDIS_URL)."""
    from rq import Queue

    from lti_tool.container import TASK_MODULES, build_services
    from lti_tool.jobs.heartbeat import run_worker
    from lti_tool.jobs.tasks import load_tasks, provide_services
    from lti_tool.redis_connection import settings_redis_client

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException(
            "LTI_TOOL_REDIS_URL is not set: jobs run inside the web process, no worker is needed"
        )
    # Deadlines from the settings; RQ itself raises the answer deadline above its own blocking
    # wait for the next job.
    connection = settings_redis_client(settings)
    queue = Queue(settings.redis_prefix, connection=connection)
    load_tasks(TASK_MODULES)
    provide_services(lambda: build_services(settings))
    click.echo(f"worker on queue {settings.redis_prefix!r}")
    # With its own heartbeat key (the health page judges workers by it), started again if
    # a Redis outage makes RQ's worker quit.
    run_worker(connection, queue, settings.redis_prefix, burst=burst)
