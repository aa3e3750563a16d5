"""The Data Privacy Launch pages: what the tool holds about a person, its JSON download,
and the erasure request form."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.errors import ToolError
from lti_tool.lti.launch_context import Launch
from lti_tool.privacy import service
from lti_tool.web.auth import requires_launch, services

bp = Blueprint("privacy", __name__)


def render_privacy_page(launch: Launch, launch_token: str | None = None) -> str:
    """The privacy page for a launch's data (the landing page of a Data Privacy Launch)."""
    overview = service.privacy_overview(services(), launch)
    return render_template(
        "privacy/overview.html",
        overview=overview,
        document=overview.document,
        session=launch,
        launch_token=launch_token,
    )


@bp.get("/")
@requires_launch()
def overview(launch: Launch) -> Response:
    response = Response(render_privacy_page(launch), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.json")
@requires_launch()
def export(launch: Launch) -> Response:
    document = service.export_personal_data(services(), launch)
    body = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
    response = Response(body + "\n", mimetype="application/json")
    filename = f"personal-data-v{document['schema_version']}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/erasure")
@requires_launch()
def request_erasure(launch: Launch) -> WerkzeugResponse:
    reason = request.form.get("reason", "")
    try:
        _, created = service.ask_for_erasure(services(), launch, reason)
    except ToolError as exc:
        if exc.status == 403:
            raise
        flash(exc.message, "error")
    else:
        flash(
            "Erasure requested. A tool administrator will confirm or reject it."
            if created
            else "An erasure request is already waiting for a tool administrator.",
            "ok",
        )
    return redirect(url_for("privacy.overview"))
