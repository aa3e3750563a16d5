"""JSON API for pages running inside the LMS iframe."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from lti_tool.lti.launch_context import Launch
from lti_tool.web.auth import requires_launch, services

bp = Blueprint("api", __name__)


@bp.get("/session")
@requires_launch()
def session_info(launch: Launch) -> Response:
    user, context = launch.user, launch.context
    return jsonify(
        {
            "user": {"sub": user.sub, "name": user.name, "email": user.email},
            "roles": list(launch.roles.raw),
            "is_staff": launch.is_staff,
            "context": (
                {"id": context.id, "title": context.title, "label": context.label}
                if context
                else None
            ),
            # Only what the pages show (launched.html names the platform). The issuer,
            # client_id, deployment id and endpoints are the registration's internals: a
            # script in the frame has no use for them, an attacker preparing a takeover does.
            "platform": {"name": launch.registration.name},
        }
    )


@bp.get("/me/checklist")
@requires_launch()
def my_checklist(launch: Launch) -> Response:
    from lti_tool.pathway.service import my_checklist

    return jsonify(my_checklist(services(), launch))


@bp.get("/jobs/<job_id>")
@requires_launch(staff=True)
def job(job_id: str, launch: Launch) -> Response:
    from lti_tool.grading.marking import job_status

    return jsonify(job_status(services(), launch, job_id))
