"""The sandbox Moodle (or Canvas) as the tool's completion source, and a tutor's class refresh
against it: the set-up of the tests that read completion from the sandbox LMS."""

from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient

from lti_tool.sandbox import register_sandbox
from tests.support.lti import Launcher, staff_launch

__all__ = [
    "configure_sandbox_source",
    "finished_refresh",
    "staff_launch",
    "with_canvas_source",
    "with_moodle_source",
]

REFRESH_SECONDS = 60.0  # generous: the refresh reads four students on a busy machine


def with_moodle_source(launcher: Launcher) -> Launcher:
    """``launcher``'s tool reading completion from the sandbox Moodle: the registration, its
    Moodle completion source and one Moodle course mapped to each CPD course."""
    services = launcher.app.extensions["lti_tool"]
    register_sandbox(
        services.db, launcher.platform, development=True, secret_key=services.settings.secret_key
    )
    return launcher


def configure_sandbox_source(launcher: Launcher, **settings: Any) -> None:
    """The sandbox registration's completion source, set as an admin would (development:
    the sandbox LMS is on loopback); ``settings`` are ``configure_source``'s (``kind`` …)."""
    from lti_tool.completion.setup import configure_source
    from lti_tool.crypto import SecretBox

    services = launcher.app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:
        secrets = SecretBox(services.settings.secret_key)
        configure_source(session, secrets, "sandbox", development=True, **settings)


def with_canvas_source(launcher: Launcher, mode: str = "course") -> Launcher:
    """``launcher``'s tool reading completion from the sandbox Canvas REST API: one Canvas
    course per CPD course (``mode="course"``) or one module of the programme course each
    (``mode="activity"``)."""
    from lti_tool.completion.setup import set_mapping
    from lti_tool.sandbox.canvas_rest import SANDBOX_TOKEN
    from lti_tool.sandbox.demo_data import (
        CPD_COURSES,
        PROGRAMME_COURSE_ID,
        course_id,
        programme_module_id,
    )

    canvas = launcher.platform.issuer + "/canvas"
    configure_sandbox_source(
        launcher, kind="canvas", endpoint_url=canvas, token=SANDBOX_TOKEN, mode=mode
    )
    services = launcher.app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:
        for code in CPD_COURSES:
            if mode == "course":
                set_mapping(session, "sandbox", code, str(course_id(code)))
            else:
                mapped = (str(PROGRAMME_COURSE_ID), str(programme_module_id(code)))
                set_mapping(session, "sandbox", code, *mapped)
    return launcher


def finished_refresh(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    """Wait for the course's class refresh to finish; its last progress."""
    services = client.application.extensions["lti_tool"]
    if services.queue.backend == "rq":
        services.queue.work_in_process(services)
    deadline = time.monotonic() + REFRESH_SECONDS
    while True:
        progress = dict(client.get("/api/context/completions/refresh", headers=headers).get_json())
        if progress.get("status") == "done":
            return progress
        assert time.monotonic() < deadline, progress
        time.sleep(0.05)
