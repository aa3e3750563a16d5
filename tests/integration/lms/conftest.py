"""The sandbox's Moodle and Canvas fakes, served on a loopback port for each test."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from lti_tool.sandbox.canvas_rest import CanvasRestFake, register_canvas_rest
from lti_tool.sandbox.demo_data import LmsData, demo_lms
from lti_tool.sandbox.moodle_ws import MoodleWsFake, register_moodle_ws


@dataclass
class LiveLms:
    url: str
    data: LmsData
    moodle: MoodleWsFake
    canvas: CanvasRestFake

    @property
    def moodle_url(self) -> str:
        return self.url + "/moodle"

    @property
    def canvas_url(self) -> str:
        return self.url + "/canvas"


@pytest.fixture
def lms() -> Iterator[LiveLms]:
    app = Flask("fake_lms")
    data = demo_lms()
    moodle = register_moodle_ws(app, data)
    canvas = register_canvas_rest(app, data)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for it, once per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield LiveLms(f"http://127.0.0.1:{server.server_port}", data, moodle, canvas)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
