"""The student's own checklist page (also what a student launch renders)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from lti_tool.lti.launch_context import Launch
from lti_tool.web.auth import requires_launch, services

bp = Blueprint("student", __name__)


def render_checklist(checklist: dict[str, Any], launch: Launch, **extra: Any) -> str:
    g.locale = launch.locale
    return render_template("student/checklist.html", checklist=checklist, session=launch, **extra)


@bp.get("/me")
@requires_launch()
def my_checklist_page(launch: Launch) -> str:
    from lti_tool.pathway.service import my_checklist

    return render_checklist(my_checklist(services(), launch), launch)
