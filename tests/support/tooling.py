"""Small helpers several test modules share: the session's tool key, a tool registered with
the sandbox platform, captured JSON logs, and a tool served on a loopback port."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from flask import Flask
from werkzeug.serving import make_server

from lti_tool.crypto import SecretBox
from lti_tool.logs import JsonFormatter
from lti_tool.lti.keys import KeyMaterial, new_signing_key, private_pem
from lti_tool.persistence.models import SigningKey
from lti_tool.sandbox import register_sandbox
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.lti import Launcher

# The session's key template is sealed under its own test secret; each tool reseals it.
TEMPLATE_BOX = SecretBox("tests: the session's tool key template")


def add_tool_key(services: Any, template: SigningKey) -> None:
    """Give a fresh tool the session's RSA key (generating one per test is slow), sealed
    under that tool's secret key as ``lti-tool init`` would."""
    material = KeyMaterial(
        template.kid, private_pem(template, TEMPLATE_BOX), dict(template.public_jwk)
    )
    with services.db.unit_of_work() as session:
        session.add(new_signing_key(services.secrets, material))


def sandbox_launcher(app: Flask, platform: SandboxPlatform, template: SigningKey) -> Launcher:
    """A fresh tool given the session's key and registered with the sandbox platform, which
    reads the tool's JWKS from the app itself; a launcher between the two."""
    services = app.extensions["lti_tool"]
    add_tool_key(services, template)
    register_sandbox(services.db, platform, development=True)
    platform.tool_jwks_source = lambda: cast(
        dict[str, Any], app.test_client().get("/.well-known/jwks.json").json
    )
    return Launcher(app, platform, create_sandbox_app(platform))


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """The tool's log lines (JSON, INFO and up) while the block runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("lti_tool")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextmanager
def served(app: Any, port: int, *, tls: bool = False) -> Iterator[None]:
    """``app`` on 127.0.0.1:``port`` in a thread, for a real browser or HTTP client; with
    ``tls`` over HTTPS with a throw-away self-signed certificate."""
    server = make_server(
        "127.0.0.1", port, app, threaded=True, ssl_context="adhoc" if tls else None
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join(timeout=5)
