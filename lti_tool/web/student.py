"""The student's own checklist page (also what a student launch renders)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from lti_tool.web.auth import current_launch, require_launch, services

bp = Blueprint("student", __name__)


def render_checklist(checklist: dict[str, Any], launch_data: dict[str, Any], **extra: Any) -> str:
    g.locale = launch_data.get("locale")
    return render_template(
        "student/checklist.html", checklist=checklist, session=launch_data, **extra
    )


@bp.get("/me")
@require_launch
def my_checklist_page() -> str:
    from lti_tool.pathway.service import my_checklist

    launch = current_launch()
    assert launch is not None
    return render_checklist(my_checklist(services(), launch), launch.data)
