"""The sandbox's course page: the tool in an iframe, as an LMS shows it, with LTI platform
storage (client-side postMessages: ``lti.capabilities``, ``lti.put_data``, ``lti.get_data``)
answered either by the page itself (``lti_storage_target=_parent``) or by a sibling frame
named ``post_message_forwarding`` on the authorization endpoint's origin, as Canvas does.
``?storage=none`` behaves like stock Moodle: no storage, the tool must rely on its cookie."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, render_template, request

from lti_tool.lti import claims as c
from lti_tool.sandbox.demo_people import COURSES, DEMO_USERS
from lti_tool.sandbox.platform import SandboxPlatform

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
        # What the frame opens: the tool's own link, a deep-linking request, or a placed link.
        extra = {k: v for k, v in request.args.items() if k in {"place", "placed"} and v.isdigit()}
        if request.args.get("course") in COURSES:
            extra["course"] = request.args["course"]  # the second course: ?course=autumn
        return render_template(
            "sandbox/course.html",
            user=DEMO_USERS[user],
            mode=mode,
            target=target,
            forwarding=target == FORWARDING_FRAME,
            tool_origin=platform.tool_url,
            extra=extra,
        )

    @app.get("/post_message_forwarding")
    def forwarding_frame() -> str:
        return render_template("sandbox/storage_frame.html", tool_origin=platform.tool_url)


def placed_link_claims(
    platform: SandboxPlatform, app: Flask, user: str, nonce: str, index: int
) -> dict[str, Any]:
    """A launch of the ``index``-th link the tool placed through deep linking (in the order
    they were accepted): its custom parameters, URL and title, as an LMS launches them."""
    placed = [item for p in app.extensions["deep_linking"].placed for item in p["items"]]
    if not 0 <= index < len(placed):
        abort(404)
    item = placed[index]
    claims = platform.launch_claims(user, nonce)
    claims[c.CUSTOM] = dict(item.get("custom") or {})
    claims[c.TARGET_LINK_URI] = item.get("url") or platform.launch_url
    claims[c.RESOURCE_LINK] = {"id": f"placed-{index}", "title": item.get("title", "")}
    return claims
