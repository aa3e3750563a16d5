"""Fixtures shared by the web tests."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from lti_tool.resources import resource_dir
from lti_tool.sandbox import SandboxServer
from lti_tool.sandbox.dynreg import register_dynreg
from tests.support.class_refresh import with_moodle_source
from tests.support.dynreg import Lms
from tests.support.lti import Launcher
from tests.unit.rules.support import MADE_UP_FILE


@pytest.fixture
def lms() -> Iterator[Lms]:
    app = Flask("dynreg-fakes")
    fakes = register_dynreg(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Lms(fakes, server.server_port)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def two_qualifications(tmp_path: Path, sqlite_tool_factory: Any) -> Launcher:
    """A tool that knows the real certificate and the made-up diploma of the rules tests."""
    folder = tmp_path / "qualifications"
    folder.mkdir()
    shutil.copy(
        resource_dir("config") / "qualifications" / "pgcert-clinical-leadership.toml", folder
    )
    shutil.copy(MADE_UP_FILE, folder)
    launcher: Launcher = sqlite_tool_factory(qualifications_dir=str(folder))
    return launcher


@pytest.fixture
def moodle(sandbox_server: SandboxServer) -> Iterator[Any]:
    """The sandbox's Moodle web services, without the faults an earlier test set."""
    fake = sandbox_server.app.extensions["moodle_ws"]
    fake.reset_faults()
    yield fake
    fake.reset_faults()


@pytest.fixture
def with_moodle(launcher: Launcher) -> Launcher:
    """The tool reading completion from the sandbox Moodle."""
    return with_moodle_source(launcher)
