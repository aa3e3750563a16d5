"""Sandbox LMS: an LTI 1.3 platform for the demo and the tests. Refuses production."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool.lti import registry
from lti_tool.persistence.db import Database
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.platform import SandboxPlatform
from lti_tool.settings import Settings

SANDBOX_REGISTRATION = "sandbox"


class SandboxRefused(RuntimeError):
    pass


def platform_for(settings: Settings) -> SandboxPlatform:
    if not settings.is_development:
        raise SandboxRefused("the sandbox LMS never runs with LTI_TOOL_ENV=production")
    return SandboxPlatform(issuer=settings.sandbox_url.rstrip("/"), tool_url=settings.base_url)


def register_sandbox(db: Database, platform: SandboxPlatform, development: bool) -> None:
    """Register the sandbox platform with the tool (idempotent)."""
    with db.unit_of_work() as session:
        found = registry.find_registration(session, platform.issuer, platform.client_id)
        if found is not None:
            if found.key_set_url != platform.jwks_url:
                found.key_set_url = platform.jwks_url
            return
        registry.add_platform(
            session,
            registry.PlatformSpec(
                name=SANDBOX_REGISTRATION,
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=platform.auth_url,
                auth_token_url=platform.token_url,
                key_set_url=platform.jwks_url,
                kind="generic",
                deployment_ids=[platform.deployment_id],
            ),
            development=development,
        )


class SandboxServer:
    """The sandbox app on a loopback port, served from a background thread."""

    def __init__(self, platform: SandboxPlatform, host: str, port: int) -> None:
        self.platform = platform
        self._server: BaseWSGIServer = make_server(
            host, port, create_sandbox_app(platform), threaded=True
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
