"""Another Moodle site on a loopback port of its own: the sandbox's Moodle web services with
the same demo people (Moodle numbers users 2, 3, 4 … on every site, so the same user ids),
answering as the site it is (its ``siteurl`` is its own address, not the sandbox platform's)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import make_server

from lti_tool.sandbox.demo_data import demo_lms
from lti_tool.sandbox.moodle_ws import MoodleWsFake, register_moodle_ws


@dataclass(frozen=True)
class OtherMoodle:
    site: str  # its wwwroot: what it answers as ``siteurl``
    fake: MoodleWsFake

    @property
    def endpoint(self) -> str:
        return self.site + "/webservice/rest/server.php"


@contextmanager
def other_moodle() -> Iterator[OtherMoodle]:
    """Serve another Moodle site while the block runs."""
    app = Flask("other_moodle")
    fake = register_moodle_ws(app, demo_lms())
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield OtherMoodle(f"http://127.0.0.1:{server.server_port}/moodle", fake)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
