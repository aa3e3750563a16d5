"""Staff JSON API for the launched course: checklists, module starts, qualification."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from lti_tool.pathway import service
from lti_tool.web.auth import current_launch, require_staff, services

bp = Blueprint("context_api", __name__)


def _json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        from lti_tool.pathway.module_starts import InvalidInput

        raise InvalidInput("bad_json", "Send a JSON object with Content-Type: application/json.")
    return body


@bp.get("/students/<sub>/checklist")
@require_staff
def student_checklist(sub: str) -> Response:
    launch = current_launch()
    assert launch is not None
    return jsonify(service.student_checklist(services(), launch, sub))


@bp.get("/module-starts")
@require_staff
def module_starts() -> Response:
    launch = current_launch()
    assert launch is not None
    return jsonify(service.module_starts_overview(services(), launch))


@bp.put("/module-starts")
@require_staff
def put_module_starts() -> Response:
    launch = current_launch()
    assert launch is not None
    return jsonify(service.set_cohort_module_starts(services(), launch, _json_body()))


@bp.put("/module-starts/<sub>")
@require_staff
def put_student_module_starts(sub: str) -> Response:
    launch = current_launch()
    assert launch is not None
    return jsonify(service.set_student_module_starts(services(), launch, sub, _json_body()))


@bp.put("/qualification")
@require_staff
def put_qualification() -> Response:
    launch = current_launch()
    assert launch is not None
    body = _json_body()
    code = body.get("code") if isinstance(body, dict) else None
    return jsonify(
        {"qualification": service.choose_context_qualification(services(), launch, str(code or ""))}
    )


@bp.put("/completions/<sub>/<code>")
@require_staff
def put_completion(sub: str, code: str) -> Response:
    launch = current_launch()
    assert launch is not None
    return jsonify(service.record_completion(services(), launch, sub, code, _json_body()))
