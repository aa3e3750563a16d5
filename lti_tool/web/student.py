"""The student's own checklist page (also what a student launch lands on), and the page a
staff launch outside a course lands on."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request

from lti_tool.lti.launch_context import Launch
from lti_tool.web.auth import requires_launch, services

bp = Blueprint("student", __name__)


def render_checklist(checklist: dict[str, Any], launch: Launch, **extra: Any) -> str:
    g.locale = launch.locale
    return render_template("student/checklist.html", checklist=checklist, session=launch, **extra)


@bp.get("/me")
@requires_launch()
def my_checklist_page(launch: Launch) -> str:
    """The checklist; ``module=B832`` (a placed assessment link's landing) opens it at that
    module when it is one of the qualification's."""
    from lti_tool.pathway.service import my_checklist

    checklist = my_checklist(services(), launch)
    asked = request.args.get("module")
    focus = next((m["code"] for m in checklist["modules"] if m["code"] == asked), None)
    return render_checklist(checklist, launch, focus_module=focus)


@bp.get("/launched")
@requires_launch()
def launched_page(launch: Launch) -> str:
    """What a launch outside a course grants (staff with no course: no class to show)."""
    return render_template("lti/launched.html", session=launch)
