"""A live tool and sandbox LMS on loopback ports, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lti_tool.persistence.models import SigningKey
from lti_tool.sandbox import SandboxServer, register_sandbox
from lti_tool.sandbox.platform import SandboxPlatform
from tests.conftest import make_tool
from tests.support.backends import MigratedBackends
from tests.support.tooling import add_tool_key, served

CHROMIUM = "/usr/bin/chromium"

# How long a browser step may wait for its condition (an element, a load). Generous: on a busy
# 2-core machine a frame once took more than 10 s; a passing step never waits the whole time.
BROWSER_WAIT_MS = 60_000
ARTIFACTS = Path(__file__).parent / "artifacts"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveSite:
    tool_url: str
    sandbox_url: str
    app: Any
    platform: SandboxPlatform | None = None
    sandbox_app: Any = None  # the sandbox LMS's Flask app (its registration fakes)


@contextmanager
def running_site(
    tmp_path: Path,
    migrated: MigratedBackends,
    key: SigningKey,
    tool_host: str = "127.0.0.1",
    register: bool = True,
    tls: bool = False,
    settings: dict[str, Any] | None = None,
) -> Iterator[LiveSite]:
    """The tool at http://``tool_host``:port (a name the browser maps to loopback, or
    127.0.0.1) and the sandbox LMS at http://127.0.0.1:port, both served in threads;
    ``register=False`` leaves the sandbox unregistered (for Dynamic Registration);
    ``settings`` are the tool's setting overrides."""
    port = _free_port()
    tool_url = f"{'https' if tls else 'http'}://{tool_host}:{port}"
    app = make_tool(
        {"database_url": migrated.sqlite_url(tmp_path), "base_url": tool_url, **(settings or {})},
        tmp_path,
    )
    services = app.extensions["lti_tool"]
    add_tool_key(services, key)
    platform = SandboxPlatform(
        issuer="http://127.0.0.1:0",
        tool_url=tool_url,
        tool_registration_mode=app.extensions["lti_tool"].settings.dynamic_registration_mode,
    )
    if tool_host != "127.0.0.1":
        # The sandbox fetches the tool's JWKS itself and cannot resolve the browser's name.
        platform.tool_jwks_source = lambda: app.test_client().get("/.well-known/jwks.json").json
    sandbox = SandboxServer(platform, "127.0.0.1", 0)
    platform.issuer = f"http://127.0.0.1:{sandbox.port}"
    if register:
        register_sandbox(services.db, platform, development=True)
    with sandbox, served(app, port, tls=tls):
        yield LiveSite(
            tool_url=tool_url,
            sandbox_url=platform.issuer,
            app=app,
            platform=platform,
            sandbox_app=sandbox.app,
        )
    services.close()


@pytest.fixture
def live_site(
    tmp_path: Path, migrated: MigratedBackends, tool_key_template: SigningKey
) -> Iterator[LiveSite]:
    with running_site(tmp_path, migrated, tool_key_template) as site:
        yield site


# A host name for the tool that is not the LMS's: its frame in the course page is cross-site.
CROSS_SITE_TOOL_HOST = "tool.test"


@pytest.fixture
def cross_site(
    tmp_path: Path, migrated: MigratedBackends, tool_key_template: SigningKey
) -> Iterator[LiveSite]:
    """The tool on its own host name (``tool.test``) beside the sandbox LMS on 127.0.0.1."""
    with running_site(
        tmp_path, migrated, tool_key_template, tool_host=CROSS_SITE_TOOL_HOST
    ) as site:
        yield site


# The tool's cross-site frame in one renderer with its course page. With site isolation every
# login step swaps the frame between processes (tool.test, then the LMS's /auth, then tool.test
# again), and when the swap back is fast Playwright's frame tree loses the frame for good: it
# is no longer in page.frames, so a wait on it times out although the page is on screen.
# Cookies, storage partitions and postMessage do not depend on the process model.
SAME_PROCESS_FRAMES = ["--disable-site-isolation-trials"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: scripts/test installs it"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_driver: Any) -> Iterator[Any]:
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(BROWSER_WAIT_MS)
    yield page
    context.close()


@contextmanager
def blocking_profile(
    driver: Any,
    folder: Path,
    *,
    map_host: str | None = None,
    keep_none_in: tuple[str, str] | None = None,
) -> Iterator[Any]:
    """A persistent Chromium context whose profile blocks third-party cookies (Chrome's
    default). ``keep_none_in=(tool_origin, course_site_origin)`` also makes it keep no cookie
    at all for the tool inside that site's frames, partitioned ones included (Safari's way,
    or a browser whose owner blocks them), while the tool's own window keeps its cookies.
    ``map_host`` resolves to loopback (a second site for the tool)."""
    profile = folder / "profile"
    (profile / "Default").mkdir(parents=True)
    prefs: dict[str, Any] = {"cookie_controls_mode": 1, "block_third_party_cookies": True}
    if keep_none_in is not None:
        pattern = ",".join(keep_none_in)
        prefs["content_settings"] = {"exceptions": {"cookies": {pattern: {"setting": 2}}}}
    (profile / "Default" / "Preferences").write_text(json.dumps({"profile": prefs}))
    # --ignore-certificate-errors: the HTTPS tests' certificates are self-signed.
    args = [*CHROMIUM_ARGS, "--ignore-certificate-errors", *SAME_PROCESS_FRAMES]
    if map_host is not None:
        args.append(f"--host-resolver-rules=MAP {map_host} 127.0.0.1")
    context = driver.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=args,
        viewport={"width": 1024, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(BROWSER_WAIT_MS)
    try:
        yield context
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def browser_context(chromium: Any) -> Iterator[Any]:
    """A desktop context for pages checked with axe-core: axe is injected, so the context
    bypasses the CSP (the tool's own scripts run the same with or without it)."""
    context = chromium.new_context(viewport={"width": 1024, "height": 768}, bypass_csp=True)
    context.set_default_timeout(BROWSER_WAIT_MS)
    yield context
    context.close()
