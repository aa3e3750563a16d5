"""Staff class view: the whole cohort, sortable and filterable on the server, CSV export,
result entry, and grade sync with live progress."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from lti_tool.csv_files import spreadsheet_safe
from lti_tool.errors import ToolError, field_label
from lti_tool.grading import marking
from lti_tool.grading import service as grading
from lti_tool.grading.class_columns import SYNC_LABELS
from lti_tool.lti.launch_context import Launch
from lti_tool.web.auth import requires_launch, services
from lti_tool.web.class_refresh_view import refresh_view
from lti_tool.web.formatting import plural
from lti_tool.web.request_input import query_number
from lti_tool.web.staff import FILE_CONFLICT, _apply, render_preview, uploaded_text

bp = Blueprint("class_view", __name__)
PAGE_SIZE = 50


@bp.get("/")
@requires_launch(staff=True)
def overview(launch: Launch) -> str:
    # The class refresh's progress before the table: a refresh that finishes while the table
    # is read then shows as running (the page asks again and reloads), never as "done" over
    # rows read before it wrote them (it writes the rows, then says it is done).
    refresh = refresh_view(services(), launch)
    groups = grading.class_groups(services(), launch)
    group = request.args.get("group", type=query_number)
    group = group if any(g.pk == group for g in groups) else None
    layout = grading.class_layout(services(), launch)
    chosen = layout.filter_name(request.args.get("filter"))
    sort = layout.sort_name(request.args.get("sort"))
    found = grading.class_page(
        services(),
        launch,
        filter_name=chosen,
        sort_name=sort,
        page=max(1, request.args.get("page", default=1, type=query_number) or 1),
        size=PAGE_SIZE,
        group_pk=group,
    )
    return render_template(
        "staff/class.html",
        rows=found.rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        columns=layout.columns,
        filters=layout.filters,
        sorts=layout.sorts,
        sync_labels=SYNC_LABELS,
        chosen=chosen,
        sort=sort,
        groups=groups,
        group=group,
        session=launch,
        job_id=request.args.get("job"),
        untrackable=grading.untrackable_courses(services(), launch),
        **refresh,
    )


class SpreadsheetSafeWriter:
    """``csv.writer`` whose text cells cannot start a spreadsheet formula: names and group
    names come from the LMS and its users (``=HYPERLINK(…)`` would run in Excel)."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])


@bp.get("/export.csv")
@requires_launch(staff=True)
def export(launch: Launch) -> Response:
    groups = grading.class_groups(services(), launch)
    group = request.args.get("group", type=query_number)
    group = group if any(g.pk == group for g in groups) else None
    layout = grading.class_layout(services(), launch)
    rows = grading.class_overview(services(), launch, group_pk=group)
    out = io.StringIO()
    writer = SpreadsheetSafeWriter(out)
    writer.writerow(layout.csv_header())
    for line in layout.csv_rows(rows):
        writer.writerow(line)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="class.csv"'
    return response


@bp.post("/results/<sub>")
@requires_launch(staff=True)
def save_result(sub: str, launch: Launch) -> BaseResponse | tuple[str, int]:
    """The result forms (a student's page, a cell of the class table). Saved: back where the
    form was. Refused: the student's page again with what was typed and the message next to
    its field."""
    form = request.form
    typed = {k: form.get(k, "") for k in RESULT_FIELDS}
    body: dict[str, str] = {k: typed[k] for k in RESULT_FIELDS if k != "module"}
    body["max"] = body["max"] or "100"
    body["released"] = "true" if form.get("released") else "false"
    body["outcome_confirmed"] = "true" if form.get("outcome_confirmed") else "false"
    module_code = typed["module"]
    try:
        marking.save_result(services(), launch, module_code, sub, body)
    except ToolError as exc:
        values = {**typed, "released": bool(form.get("released"))}
        error = {"field": result_field(exc), "message": exc.message, "code": exc.code}
        page = render_preview(launch, sub, result_form={"typed": values, "error": error})
        return page, exc.status
    flash(f"{module_code} result saved.", "ok")
    if form.get("back") == "class":
        return redirect(url_for("class_view.overview", **_class_view_args(form)))
    return redirect(url_for("staff.student_preview", sub=sub))


RESULT_FIELDS = ("module", "score", "max", "outcome", "comment", "override_reason")
_FIELD_OF_CODE = {
    "bad_score": "score",
    "bad_max": "max",
    "bad_outcome": "outcome",
    "outcome_unconfirmed": "outcome",
    "cpd_incomplete": "override_reason",
    "unknown_module": "module",
}


def result_field(exc: ToolError) -> str | None:
    """The form field a refusal is about (None: the form as a whole)."""
    if exc.code in {"bad_number", "bad_text"}:  # the message starts with the field's label
        for field in RESULT_FIELDS:
            if exc.message.startswith(field_label(field) + " "):
                return field
        return None
    return _FIELD_OF_CODE.get(exc.code)


def _class_view_args(form: Any) -> dict[str, Any]:
    """The class view's filter, sort, group and page the cell form was posted from."""
    return {k: form[k] for k in ("filter", "sort", "group", "page") if form.get(k)}


@bp.post("/results/import")
@requires_launch(staff=True)
def import_results(launch: Launch) -> BaseResponse:
    def run() -> str:
        imported = marking.import_results_csv(services(), launch, uploaded_text())
        return f"Imported {plural(imported, 'result')}."

    _apply(run, None, conflict=FILE_CONFLICT)
    return redirect(url_for("class_view.overview"))


@bp.post("/sync")
@requires_launch(staff=True)
def sync(launch: Launch) -> BaseResponse:
    job_id = marking.sync_grades(services(), launch)
    return redirect(url_for("class_view.overview", job=job_id))


@bp.post("/release")
@requires_launch(staff=True)
def release(launch: Launch) -> BaseResponse | str:
    """Release held results: first the question with its numbers, then (``confirmed``) the
    release itself."""
    module_code = request.form.get("module") or None
    if not request.form.get("confirmed"):
        question = marking.release_question(services(), launch, module_code)
        if question is None:
            flash("There are no held results to release.", "ok")
            return redirect(url_for("class_view.overview"))
        return render_template(
            "staff/confirm_release.html", question=question, module=module_code, session=launch
        )

    def run() -> str:
        released = marking.release_results(services(), launch, module_code, None)
        if not released:
            return "There are no held results to release."
        return f"Released {plural(released, 'result')}; send them to the gradebook when ready."

    _apply(run, None)
    return redirect(url_for("class_view.overview"))
