"""Sandbox LMS: an LTI 1.3 platform for the demo and the tests. Refuses production."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool.completion.setup import configure_source, set_mapping
from lti_tool.crypto import SecretBox
from lti_tool.lti import registry
from lti_tool.persistence.db import Database
from lti_tool.persistence.models import Registration
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.demo_data import CPD_COURSES, course_id
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN as MOODLE_TOKEN
from lti_tool.sandbox.platform import SandboxPlatform
from lti_tool.settings import Settings

SANDBOX_REGISTRATION = "sandbox"


class SandboxRefused(RuntimeError):
    pass


def platform_for(settings: Settings) -> SandboxPlatform:
    if not settings.is_development:
        raise SandboxRefused("the sandbox LMS never runs with LTI_TOOL_ENV=production")
    return SandboxPlatform(
        issuer=settings.sandbox_url.rstrip("/"),
        tool_url=settings.base_url,
        tool_registration_mode=settings.dynamic_registration_mode,
    )


def register_sandbox(
    db: Database, platform: SandboxPlatform, development: bool, secret_key: str | None = None
) -> None:
    """Register the sandbox platform with the tool (idempotent); with ``secret_key``, also
    read completion from its Moodle web services, one Moodle course per CPD course. A
    registration from an earlier run on another port is moved to this run's URLs."""
    with db.unit_of_work() as session:
        found = registry.find_registration(session, platform.issuer, platform.client_id)
        if found is None:
            found = session.scalar(
                select(Registration).where(Registration.name == SANDBOX_REGISTRATION)
            )
        if found is not None:
            _follow_platform(session, found, platform, development)
        else:
            _add_sandbox(session, platform, development)
        if secret_key is not None:
            configure_source(
                session,
                SecretBox(secret_key),
                SANDBOX_REGISTRATION,
                kind="moodle",
                endpoint_url=platform.issuer + "/moodle/webservice/rest/server.php",
                token=MOODLE_TOKEN,
                mode="course",
                development=development,
            )
            for code in CPD_COURSES:
                set_mapping(
                    session,
                    SANDBOX_REGISTRATION,
                    code,
                    str(course_id(code)),
                    label=CPD_COURSES[code],
                    origin="sandbox",
                )


def _follow_platform(
    session: Any, found: Registration, platform: SandboxPlatform, development: bool
) -> None:
    """The sandbox registration names this run's issuer and endpoints (its own, on whatever
    port the sandbox now listens); its deployment is the sandbox's. Only a registration that
    is the sandbox's (its client id, an issuer on this machine) is moved: one of a real
    platform that happens to be called "sandbox" is never taken over."""
    if found.client_id != platform.client_id or not registry.is_loopback_host(
        urlsplit(found.issuer).hostname
    ):
        raise SandboxRefused(
            f"the database already has a registration called {SANDBOX_REGISTRATION!r} for "
            f"another platform ({found.issuer}); the sandbox LMS leaves it alone. Rename that "
            "registration or give the sandbox its own database (LTI_TOOL_DATABASE_URL)"
        )
    found.issuer = platform.issuer
    found.client_id = platform.client_id
    registry.replace_endpoints(
        session,
        found,
        {
            "auth_login_url": platform.auth_url,
            "auth_token_url": platform.token_url,
            "key_set_url": platform.jwks_url,
        },
        development=development,
    )


def _add_sandbox(session: Any, platform: SandboxPlatform, development: bool) -> None:
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
        self.app = create_sandbox_app(platform)
        self._server: BaseWSGIServer = make_server(host, port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the server stops (the command line's foreground sandbox)."""
        self._thread.join()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
