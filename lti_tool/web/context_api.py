"""Staff JSON API for the launched course: checklists, module starts, qualification."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from lti_tool.csv_files import decode_upload
from lti_tool.errors import ToolError
from lti_tool.lti.launch_context import Launch
from lti_tool.pathway import service
from lti_tool.web.auth import requires_launch, services
from lti_tool.web.request_input import UnreadableInput, json_object, query_number

bp = Blueprint("context_api", __name__)


STARTS_HINT = 'Send an object of module codes to dates, e.g. {"<module code>": "2027-05-30"}.'


def _optional_text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UnreadableInput("bad_field", f"{field} must be text, not {type(value).__name__}.")
    return value


@bp.get("/students/<sub>/checklist")
@requires_launch(staff=True)
def student_checklist(sub: str, launch: Launch) -> Response:
    return jsonify(service.student_checklist(services(), launch, sub))


@bp.get("/module-starts")
@requires_launch(staff=True)
def module_starts(launch: Launch) -> Response:
    return jsonify(service.module_starts_overview(services(), launch))


@bp.put("/module-starts")
@requires_launch(staff=True)
def put_module_starts(launch: Launch) -> Response:
    return jsonify(service.set_cohort_module_starts(services(), launch, json_object(STARTS_HINT)))


@bp.put("/module-starts/<sub>")
@requires_launch(staff=True)
def put_student_module_starts(sub: str, launch: Launch) -> Response:
    return jsonify(
        service.set_student_module_starts(services(), launch, sub, json_object(STARTS_HINT))
    )


@bp.put("/qualification")
@requires_launch(staff=True)
def put_qualification(launch: Launch) -> Response:
    code = _optional_text(json_object('Send {"code": "<qualification code>"}.'), "code")
    return jsonify(
        {"qualification": service.choose_context_qualification(services(), launch, code or "")}
    )


@bp.put("/completions/<sub>/<code>")
@requires_launch(staff=True)
def put_completion(sub: str, code: str, launch: Launch) -> Response:
    return jsonify(service.record_completion(services(), launch, sub, code, json_object()))


@bp.get("/students")
@requires_launch(staff=True)
def students(launch: Launch) -> Response:
    """The whole class; ``?offset=&limit=`` page it."""
    from lti_tool.grading.service import class_overview

    offset = max(0, request.args.get("offset", default=0, type=query_number) or 0)
    limit = request.args.get("limit", default=None, type=query_number)
    group = request.args.get("group", type=query_number)
    return jsonify(class_overview(services(), launch, offset, limit, group_pk=group))


@bp.put("/results/<module_code>/<sub>")
@requires_launch(staff=True)
def put_result(module_code: str, sub: str, launch: Launch) -> Response:
    from lti_tool.grading.marking import save_result

    return jsonify(save_result(services(), launch, module_code, sub, json_object()))


@bp.post("/results/release")
@requires_launch(staff=True)
def release_results(launch: Launch) -> Response:
    from lti_tool.grading.marking import release_results

    # No body at all releases every held result of the course.
    body = (
        json_object('Send {"module": "<module code>"}, {"sub": "<student id>"} or {}.')
        if request.get_data(cache=True)
        else {}
    )
    module, sub = _optional_text(body, "module"), _optional_text(body, "sub")
    count = release_results(services(), launch, module, sub)
    return jsonify({"released": count})


@bp.post("/grade-sync")
@requires_launch(staff=True)
def grade_sync(launch: Launch) -> Response:
    from lti_tool.grading.marking import sync_grades

    response = jsonify({"job_id": sync_grades(services(), launch)})
    response.status_code = 202
    return response


@bp.post("/roster/refresh")
@requires_launch(staff=True)
def roster_refresh(launch: Launch) -> Response:
    from lti_tool.pathway.groups import refresh_groups
    from lti_tool.pathway.roster import refresh_roster

    context_pk = launch.context_pk or 0
    outcome = refresh_roster(services(), context_pk)
    groups: dict[str, Any] | None
    try:
        found = refresh_groups(services(), context_pk)
        groups = (
            None if found is None else {"groups": found.groups, "memberships": found.memberships}
        )
    except ToolError as exc:  # the roster is stored; the groups can be read again later
        groups = {"error": exc.message}
    return jsonify(
        {
            "members": outcome.members,
            "left": outcome.left,
            "fetched_at": outcome.fetched_at.isoformat(),
            "groups": groups,
        }
    )


@bp.post("/results/import")
@requires_launch(staff=True)
def import_results(launch: Launch) -> Response:
    """CSV body (text/csv) or a multipart ``file``; all rows or none."""
    from lti_tool.grading.marking import import_results_csv

    upload = request.files.get("file")
    raw = upload.read() if upload else request.get_data()
    count = import_results_csv(services(), launch, decode_upload(raw))
    return jsonify({"imported": count})


@bp.post("/completions/refresh")
@requires_launch(staff=True)
def refresh_completions(launch: Launch) -> Response:
    """Queue a refresh of every student's completion copy from the LMS (not a second one
    while one runs for the course)."""
    from lti_tool.completion.class_progress import start_class_refresh

    queued = start_class_refresh(services(), launch.context_pk or 0, only_if_stale=False)
    response = jsonify({"queued": True, "already_running": not queued})
    response.status_code = 202
    return response


@bp.get("/completions/refresh")
@requires_launch(staff=True)
def refresh_progress(launch: Launch) -> Response:
    """The course's running or last class refresh (the class view polls it)."""
    from lti_tool.completion.class_progress import progress_of

    return jsonify(progress_of(services(), launch.context_pk or 0) or {"status": "never"})
