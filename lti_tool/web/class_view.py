"""Staff class view: the whole cohort, sortable and filterable on the server, CSV export,
result entry, and grade sync with live progress."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from lti_tool.grading import service as grading
from lti_tool.grading.class_columns import SYNC_LABELS
from lti_tool.lti.launch_context import Launch
from lti_tool.web.auth import requires_launch, services
from lti_tool.web.formatting import plural
from lti_tool.web.staff import _apply, uploaded_text

bp = Blueprint("class_view", __name__)
PAGE_SIZE = 50


@bp.get("/")
@requires_launch(staff=True)
def overview(launch: Launch) -> str:
    groups = grading.class_groups(services(), launch)
    group = request.args.get("group", type=int)
    group = group if any(g.pk == group for g in groups) else None
    layout = grading.class_layout(services(), launch)
    rows = grading.class_overview(services(), launch, group_pk=group)
    chosen = layout.filter_name(request.args.get("filter"))
    sort = layout.sort_name(request.args.get("sort"))
    rows = [r for r in rows if layout.keep(r, chosen)]
    rows.sort(key=layout.sort_key(sort))
    page = max(1, request.args.get("page", default=1, type=int) or 1)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render_template(
        "staff/class.html",
        rows=shown,
        total=len(rows),
        page=min(page, pages),
        pages=pages,
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
    )


class SpreadsheetSafeWriter:
    """``csv.writer`` whose text cells cannot start a spreadsheet formula: names and group
    names come from the LMS and its users (``=HYPERLINK(…)`` would run in Excel)."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([_inert(cell) for cell in row])


def _inert(cell: Any) -> Any:
    if isinstance(cell, str) and cell[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + cell
    return cell


@bp.get("/export.csv")
@requires_launch(staff=True)
def export(launch: Launch) -> Response:
    groups = grading.class_groups(services(), launch)
    group = request.args.get("group", type=int)
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
def save_result(sub: str, launch: Launch) -> BaseResponse:
    form = request.form
    body = {k: form.get(k, "") for k in ("score", "max", "outcome", "comment", "override_reason")}
    body["max"] = body["max"] or "100"
    body["released"] = "true" if form.get("released") else "false"
    module_code = form.get("module", "")
    _apply(
        lambda: grading.save_result(services(), launch, module_code, sub, body),
        f"{module_code} result saved.",
    )
    return redirect(url_for("staff.student_preview", sub=sub))


@bp.post("/results/import")
@requires_launch(staff=True)
def import_results(launch: Launch) -> BaseResponse:
    def run() -> str:
        imported = grading.import_results_csv(services(), launch, uploaded_text())
        return f"Imported {plural(imported, 'result')}."

    _apply(run, None)
    return redirect(url_for("class_view.overview"))


@bp.post("/sync")
@requires_launch(staff=True)
def sync(launch: Launch) -> BaseResponse:
    job_id = grading.sync_grades(services(), launch)
    return redirect(url_for("class_view.overview", job=job_id))


@bp.post("/release")
@requires_launch(staff=True)
def release(launch: Launch) -> BaseResponse:
    module_code = request.form.get("module") or None

    def run() -> str:
        released = grading.release_results(services(), launch, module_code, None)
        if not released:
            return "There are no held results to release."
        return f"Released {plural(released, 'result')}; send them to the gradebook when ready."

    _apply(run, None)
    return redirect(url_for("class_view.overview"))
