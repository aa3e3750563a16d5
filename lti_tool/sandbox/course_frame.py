"""The sandbox's course page: the tool in an iframe, as an LMS shows it, with LTI platform
storage (client-side postMessages: ``lti.capabilities``, ``lti.put_data``, ``lti.get_data``)
answered either by the page itself (``lti_storage_target=_parent``) or by a sibling frame
named ``post_message_forwarding`` on the authorization endpoint's origin, as Canvas does.
``?storage=none`` behaves like stock Moodle: no storage, the tool must rely on its cookie."""

from __future__ import annotations

from flask import Flask, abort, render_template, request

from lti_tool.sandbox.platform import DEMO_USERS, SandboxPlatform

FORWARDING_FRAME = "post_message_forwarding"
STORAGE_MODES = {"forwarding": FORWARDING_FRAME, "parent": "_parent", "none": None}


def storage_target(mode: str | None) -> str | None:
    """The ``lti_storage_target`` a launch page with ``?storage=mode`` sends (None: none)."""
    if mode is None:
        return None
    if mode not in STORAGE_MODES:
        abort(400, "storage must be forwarding, parent or none")
    return STORAGE_MODES[mode]


def register_course_frame(app: Flask, platform: SandboxPlatform) -> None:
    @app.get("/course/<user>")
    def course_page(user: str) -> str:
        if user not in DEMO_USERS:
            abort(404)
        mode = request.args.get("storage", "forwarding")
        target = storage_target(mode)
        return render_template(
            "sandbox/course.html",
            user=DEMO_USERS[user],
            mode=mode,
            target=target,
            forwarding=target == FORWARDING_FRAME,
            tool_origin=platform.tool_url,
        )

    @app.get("/post_message_forwarding")
    def forwarding_frame() -> str:
        return render_template("sandbox/storage_frame.html", tool_origin=platform.tool_url)
