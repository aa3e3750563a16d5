"""Fixtures: the tool on each storage backend, and a live sandbox platform on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lti_tool import create_app
from lti_tool.lti.keys import new_signing_key
from lti_tool.persistence.models import SigningKey
from lti_tool.sandbox import SandboxServer, register_sandbox
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.platform import SandboxPlatform
from lti_tool.settings import load_settings
from tests.support.backends import BACKENDS, MigratedBackends, backend_settings
from tests.support.lti import Launcher
from tests.support.tooling import TEMPLATE_BOX, add_tool_key

TOOL_URL = "http://localhost"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    platform = SandboxPlatform(issuer="http://127.0.0.1:0", tool_url=TOOL_URL)
    server = SandboxServer(platform, "127.0.0.1", 0)
    platform.issuer = f"http://127.0.0.1:{server.port}"
    with server:
        yield server


@pytest.fixture
def ags(sandbox_server: SandboxServer) -> Iterator[Any]:
    """The sandbox platform's AGS fake, back to its seeded gradebook before and after."""
    fake = sandbox_server.app.extensions["ags"]
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture
def platform(sandbox_server: SandboxServer) -> Iterator[SandboxPlatform]:
    """The sandbox platform, with its keys restored after a test that rotates them."""
    platform = sandbox_server.platform
    keys = list(platform.keys)
    roster = [dict(m) for m in platform.roster]
    groups = [dict(g) for g in platform.groups]
    yield platform
    platform.keys = keys
    platform.roster = roster
    platform.groups = groups
    platform.tool_jwks_source = None
    platform.access_tokens.clear()
    platform.counters.clear()
    sandbox_server.app.extensions["ags"].reset()


def make_tool(overrides: dict[str, Any], tmp_path: Path) -> Flask:
    settings = load_settings(
        overrides={
            "env": "development",
            # The sandbox platform and the fakes run on 127.0.0.1: a deliberate, visible
            # exception to the outbound policy (refused in production by load_settings).
            "outbound_allow_loopback": overrides.get("env", "development") == "development",
            # The suite launches many times from 127.0.0.1; tests of the limit set their own.
            "rate_limit_login_per_minute": 100_000,
            "rate_limit_register_per_minute": 100_000,
            "base_url": TOOL_URL,
            "secret_key": "test-secret-key-not-for-production",
            "instance_dir": str(tmp_path / "instance"),
            "log_level": "WARNING",
            "sync_stale_seconds": 1,
            **overrides,
        },
        environ={},
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedBackends]:
    backends = MigratedBackends(tmp_path_factory.mktemp("migrated"))
    yield backends
    backends.close()


@pytest.fixture(scope="session")
def tool_key_template() -> SigningKey:
    """One RSA key for the session's tools (generating one per test is slow)."""
    return new_signing_key(TEMPLATE_BOX)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tool(
    backend: str,
    tmp_path: Path,
    platform: SandboxPlatform,
    migrated: MigratedBackends,
    tool_key_template: SigningKey,
) -> Iterator[Flask]:
    """The tool on ``backend``, migrated, with a key and the sandbox platform registered."""
    with backend_settings(backend, tmp_path, migrated) as overrides:
        app = make_tool(overrides, tmp_path)
        services = app.extensions["lti_tool"]
        add_tool_key(services, tool_key_template)
        register_sandbox(services.db, platform, development=True)
        platform.tool_jwks_source = lambda: app.test_client().get("/.well-known/jwks.json").json
        yield app
        services.close()


@pytest.fixture
def sqlite_tool_factory(
    tmp_path: Path,
    platform: SandboxPlatform,
    migrated: MigratedBackends,
    tool_key_template: SigningKey,
) -> Iterator[Any]:
    """Build extra tools on SQLite with other settings (proxies, timeouts, HTTPS)."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Launcher:
        folder = tmp_path / f"tool{len(apps)}"
        folder.mkdir()
        app = make_tool({"database_url": migrated.sqlite_url(folder), **overrides}, folder)
        services = app.extensions["lti_tool"]
        add_tool_key(services, tool_key_template)
        register_sandbox(services.db, platform, development=True)
        apps.append(app)
        return Launcher(app, platform, create_sandbox_app(platform))

    yield build
    for app in apps:
        app.extensions["lti_tool"].close()


@pytest.fixture
def launcher(tool: Flask, platform: SandboxPlatform) -> Launcher:
    return Launcher(tool, platform, create_sandbox_app(platform))
