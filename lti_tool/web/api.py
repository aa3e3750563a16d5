"""JSON API for pages running inside the LMS iframe."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from lti_tool.web.auth import current_launch, require_launch, require_staff, services

bp = Blueprint("api", __name__)


@bp.get("/session")
@require_launch
def session_info() -> Response:
    launch = current_launch()
    assert launch is not None
    data = launch.data
    registration = data.get("registration", {})
    context = data.get("context")
    return jsonify(
        {
            "user": {"sub": data.get("sub"), "name": data.get("name"), "email": data.get("email")},
            "roles": data.get("roles", []),
            "is_staff": bool(data.get("is_staff")),
            "context": (
                {"id": context["id"], "title": context.get("title"), "label": context.get("label")}
                if context
                else None
            ),
            # Only what the pages show (launched.html names the platform). The issuer,
            # client_id, deployment id and endpoints are the registration's internals: a
            # script in the frame has no use for them, an attacker preparing a takeover does.
            "platform": {"name": registration.get("name")},
        }
    )


@bp.get("/me/checklist")
@require_launch
def my_checklist() -> Response:
    from lti_tool.pathway.service import my_checklist

    launch = current_launch()
    assert launch is not None
    return jsonify(my_checklist(services(), launch))


@bp.get("/jobs/<job_id>")
@require_staff
def job(job_id: str) -> Response:
    from lti_tool.grading.service import job_status

    launch = current_launch()
    assert launch is not None
    return jsonify(job_status(services(), launch, job_id))
