"""Fixtures shared by the web tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from lti_tool.sandbox.dynreg import register_dynreg
from tests.support.dynreg import Lms


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
