"""Canvas's LTI 1.3 developer-key JSON, for an administrator to paste or point Canvas at.

Shape from Canvas's ``doc/api/lti_dev_key_config.md`` and its ``Schemas::Lti::ToolConfiguration``:
``privacy_level`` "public" or Canvas sends no name or email; deep linking through the
``link_selection`` (module items) and ``assignment_selection`` (graded assignments) placements.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify

from lti_tool.lti import claims as c
from lti_tool.settings import Settings
from lti_tool.web.auth import services

bp = Blueprint("canvas_config", __name__)

# Names no qualification: which ones the tool tracks is config/qualifications's business.
DESCRIPTION = (
    "Each student's checklist towards their qualification: CPD courses completed, assessment "
    "modules, deadlines and a study plan; a class overview for course staff."
)
AGS_SCOPES = [c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READ, c.SCOPE_RESULT, c.SCOPE_SCORE]
# No $Canvas.user.id: a link's own custom parameters can replace it (Canvas names the student
# by their sub instead, lms/canvas/identity.py), so the tool does not ask for it.
CUSTOM_FIELDS = {
    "canvas_course_id": "$Canvas.course.id",
    "context_history": "$Context.id.history",
}
SELECTION_SIZE = {"selection_width": 800, "selection_height": 700}


def canvas_configuration(settings: Settings) -> dict[str, Any]:
    """The developer-key JSON for this deployment of the tool."""
    launch_url = settings.url_for_tool("/lti/launch")
    placements: list[dict[str, Any]] = [
        {
            "placement": "course_navigation",
            "message_type": c.RESOURCE_LINK_REQUEST,
            "text": settings.tool_name,
            "target_link_uri": launch_url,
        },
        {
            "placement": "link_selection",
            "message_type": c.DEEP_LINKING_REQUEST,
            "text": settings.tool_name,
            "target_link_uri": launch_url,
            **SELECTION_SIZE,
        },
        {
            "placement": "assignment_selection",
            "message_type": c.DEEP_LINKING_REQUEST,
            "text": f"{settings.tool_name}: assessment module",
            "target_link_uri": launch_url,
            **SELECTION_SIZE,
        },
    ]
    return {
        "title": settings.tool_name,
        "description": DESCRIPTION,
        "target_link_uri": launch_url,
        "oidc_initiation_url": settings.url_for_tool("/lti/login"),
        "public_jwk_url": settings.url_for_tool("/.well-known/jwks.json"),
        "scopes": [*AGS_SCOPES, c.NRPS_SCOPE],
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": urlsplit(settings.base_url).netloc,
                "tool_id": "clinical-leadership-pathway",
                "privacy_level": "public",
                "settings": {"text": settings.tool_name, "placements": placements},
            }
        ],
        "custom_fields": dict(CUSTOM_FIELDS),
    }


@bp.get("/canvas.json")
def canvas_json() -> Response:
    """``GET /lti/canvas.json``: Canvas's "Enter URL" developer-key method reads this."""
    response = jsonify(canvas_configuration(services().settings))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
