"""The tool in its production shape (PostgreSQL, Redis, RQ) for the integration tests that
race grade syncs, with settings of their own, registered with the sandbox platform."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lti_tool.persistence.models import SigningKey
from lti_tool.sandbox.platform import SandboxPlatform
from tests.conftest import make_tool
from tests.support.backends import MigratedBackends, backend_settings
from tests.support.lti import Launcher
from tests.support.tooling import sandbox_launcher


@contextmanager
def production_launcher(
    tmp_path: Path,
    migrated: MigratedBackends,
    platform: SandboxPlatform,
    template: SigningKey,
    **settings: Any,
) -> Iterator[Launcher]:
    """A launcher on PostgreSQL + Redis with ``settings`` over the test tool's; closed after."""
    with backend_settings("postgres+redis", tmp_path, migrated) as overrides:
        app = make_tool({**overrides, **settings}, tmp_path)
        yield sandbox_launcher(app, platform, template)
        app.extensions["lti_tool"].close()
