"""lti-tool init, serve, sandbox."""

from __future__ import annotations

import click

from lti_tool.cli.common import check_database_url, check_qualifications
from lti_tool.cli.common import database as _db
from lti_tool.cli.common import settings as _settings
from lti_tool.cli.main import main
from lti_tool.cli.ports import PORT, follow_port, listen_error, require_free, url_port
from lti_tool.settings import Settings


@main.command()
def init() -> None:
    """Migrate the database and create a signing key if there is none."""
    from lti_tool.crypto import SecretBox
    from lti_tool.lti.keys import SigningKeyUnreadable, ensure_signing_key, readable_signing_keys
    from lti_tool.persistence.locks import INIT_LOCK, advisory_lock, write_lock
    from lti_tool.persistence.migrate import upgrade

    settings = _settings()
    db = _db(settings)  # a URL that names no database the tool can use: one sentence
    # The secret seals signing keys (migration 0010 seals those stored before it).
    upgrade(settings.sqlalchemy_url, secret_key=settings.secret_key)
    box = SecretBox(settings.secret_key)
    with db.unit_of_work() as session:
        # One first signing key, however many inits run at once.
        advisory_lock(session.connection(), INIT_LOCK)
        write_lock(session)
        ensure_signing_key(session, box)
        try:
            # A database sealed under another secret (a restore, a typo): say so now, not
            # when a teacher's placement or a grade sync fails.
            keys = readable_signing_keys(session, box)
        except SigningKeyUnreadable as exc:
            raise click.ClickException(exc.message) from exc
    signing, pending = (keys.signing, keys.pending) if keys else (None, None)
    then = ""
    if pending is not None:
        then = f"; key {pending.kid} begins signing at {pending.activates_at:%Y-%m-%d %H:%M:%S}Z"
    click.echo(f"database ready; active signing key {signing}{then}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=PORT)
@click.option(
    "--sandbox-port",
    default=None,
    type=PORT,
    help="Port of the sandbox LMS with --sandbox (default: the one in LTI_TOOL_SANDBOX_URL).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="gunicorn worker processes (development runs Flask's own server for 1).",
)
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per worker.")
@click.option(
    "--sandbox/--no-sandbox", default=False, help="Also start the sandbox LMS (development only)."
)
def serve(
    host: str, port: int, sandbox_port: int | None, workers: int, threads: int, sandbox: bool
) -> None:
    """Serve the tool (gunicorn in production or when --workers > 1)."""
    from lti_tool import create_app
    from lti_tool.sandbox import SandboxRefused, SandboxServer, platform_for, register_sandbox

    settings = _settings()
    if sandbox and not settings.is_development:
        raise click.ClickException("the sandbox LMS never runs with LTI_TOOL_ENV=production")
    check_database_url(settings)
    check_qualifications(settings)
    if sandbox:
        settings = _sandbox_ports(settings, port, sandbox_port)
        sandbox_host, sandbox_at = _sandbox_address(settings, sandbox_port)
        require_free(host, port, "--port", "The tool")
        require_free(sandbox_host, sandbox_at, "--sandbox-port", "The sandbox LMS")
        try:
            platform = platform_for(settings)
            register_sandbox(_db(settings), platform, settings.is_development, settings.secret_key)
        except SandboxRefused as exc:
            raise click.ClickException(str(exc)) from exc
        try:
            SandboxServer(platform, sandbox_host, sandbox_at).start()
        except OSError as exc:
            raise click.ClickException(
                listen_error(exc, sandbox_host, sandbox_at, "--sandbox-port", "The sandbox LMS")
            ) from exc
        click.echo(
            f"Open the sandbox LMS: {platform.issuer}/  → 'Launch as student' or "
            "'Launch as instructor'"
        )
    else:
        if settings.is_development:
            settings = _tool_port(settings, port)
        require_free(host, port, "--port", "The tool")
    click.echo(
        f"Tool: http://{host}:{port}/  (JWKS {settings.url_for_tool('/.well-known/jwks.json')})"
    )
    # Flask's own server is for development only: one slow or hostile client holds a thread
    # with no timeout, and nothing restarts a worker that dies.
    if workers > 1 or not settings.is_development:
        from lti_tool.serving import run_gunicorn

        run_gunicorn(host, port, workers, threads)
    else:
        import logging

        app = create_app(settings)
        # Werkzeug's own request lines carry query strings (login hints, launch tokens in
        # page links); the tool's access log already records each request, path only.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        app.run(host=host, port=port, threaded=True, use_reloader=False)


def _sandbox_ports(settings: Settings, port: int, sandbox_port: int | None) -> Settings:
    """With the sandbox (development, everything on this machine), the tool's and the
    sandbox's URLs follow the ports they are served on: what the sandbox registers, what its
    pages post to and what is printed. The environment carries them to gunicorn's workers."""
    import dataclasses
    import os

    base_url = follow_port(settings.base_url, port)
    sandbox_url = settings.sandbox_url
    if sandbox_port is not None:
        sandbox_url = follow_port(sandbox_url, sandbox_port)
    if url_port(sandbox_url) == port:
        raise click.ClickException(
            f"The tool and the sandbox LMS both want port {port}: give the sandbox another "
            "port with --sandbox-port."
        )
    os.environ["LTI_TOOL_BASE_URL"] = base_url
    os.environ["LTI_TOOL_SANDBOX_URL"] = sandbox_url
    return dataclasses.replace(settings, base_url=base_url, sandbox_url=sandbox_url)


def _tool_port(settings: Settings, port: int) -> Settings:
    """In development without the sandbox, a loopback tool URL follows ``--port`` too (what
    the tool prints and registers names the port it is served on); a tunnel's or proxy's
    URL is kept. The environment carries it to gunicorn's workers."""
    import dataclasses
    import os

    base_url = follow_port(settings.base_url, port)
    if base_url == settings.base_url:
        return settings
    os.environ["LTI_TOOL_BASE_URL"] = base_url
    return dataclasses.replace(settings, base_url=base_url)


def _sandbox_address(settings: Settings, port: int | None) -> tuple[str, int]:
    """Where the sandbox listens: its URL's host, on ``port`` or its URL's port."""
    from urllib.parse import urlsplit

    hostname = urlsplit(settings.sandbox_url).hostname or "127.0.0.1"
    return hostname, port or url_port(settings.sandbox_url) or 5001


@main.command()
@click.option("--port", default=None, type=PORT, help="Port (default: from sandbox_url).")
def sandbox(port: int | None) -> None:
    """Run only the sandbox LMS, registered with the tool (development only)."""
    import dataclasses

    from lti_tool.sandbox import SandboxRefused, SandboxServer, platform_for, register_sandbox

    settings = _settings()
    if port is not None:
        settings = dataclasses.replace(
            settings, sandbox_url=follow_port(settings.sandbox_url, port)
        )
    sandbox_host, sandbox_at = _sandbox_address(settings, port)
    try:
        platform = platform_for(settings)
        require_free(sandbox_host, sandbox_at, "--port", "The sandbox LMS")
        register_sandbox(_db(settings), platform, settings.is_development, settings.secret_key)
    except SandboxRefused as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        server = SandboxServer(platform, sandbox_host, sandbox_at)
    except OSError as exc:
        raise click.ClickException(
            listen_error(exc, sandbox_host, sandbox_at, "--port", "The sandbox LMS")
        ) from exc
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
    from lti_tool.logs import configure_logging
    from lti_tool.redis_connection import settings_redis_client

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException(
            "LTI_TOOL_REDIS_URL is not set: jobs run inside the web process, no worker is needed"
        )
    check_database_url(settings)
    check_qualifications(settings)
    # The web process's JSON lines, for the tool's own loggers and RQ's (which then adds no
    # handler of its own).
    configure_logging(settings.log_level, "rq")
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
