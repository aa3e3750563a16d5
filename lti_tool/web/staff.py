"""Staff pages: course settings (qualification, module start dates) and student previews.

The class view with results and grade sync replaces the member list in a later step.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response

from lti_tool.csv_files import decode_upload
from lti_tool.errors import ToolError
from lti_tool.logs import log_event
from lti_tool.lti.launch_context import Launch
from lti_tool.pathway import service
from lti_tool.pathway.module_starts import StartOrderQuestion
from lti_tool.web.auth import requires_launch, services
from lti_tool.web.errors import is_write_conflict
from lti_tool.web.formatting import plural
from lti_tool.web.student import render_checklist

log = logging.getLogger(__name__)
bp = Blueprint("staff", __name__)


def uploaded_text() -> str:
    """The form's uploaded CSV ``file`` as text ("" without one)."""
    upload = request.files.get("file")
    return decode_upload(upload.read()) if upload else ""


def render_overview(launch: Launch, **extra: Any) -> str:
    """The staff home page; ``focus_module`` counts only when it is one of the course's
    qualification's modules."""
    overview = service.staff_overview(services(), launch)
    asked = extra.pop("focus_module", None)
    focus = next((m["code"] for m in overview["modules"] if m["code"] == asked), None)
    return render_template(
        "staff/overview.html", overview=overview, session=launch, focus_module=focus, **extra
    )


@bp.get("/")
@requires_launch(staff=True)
def overview(launch: Launch) -> str:
    """The staff home page; ``module=B832`` is a placed assessment link's landing."""
    return render_overview(launch, focus_module=request.args.get("module"))


@bp.get("/students/<sub>")
@requires_launch(staff=True)
def student_preview(sub: str, launch: Launch) -> str:
    return render_preview(launch, sub)


def render_preview(launch: Launch, sub: str, **extra: Any) -> str:
    """A student's checklist as staff see it, with the staff forms (``extra``: a refused
    result form's typed values and message)."""
    checklist = service.student_checklist(services(), launch, sub)
    return render_checklist(
        checklist, launch, student=checklist["student"], attempts=checklist["attempts"], **extra
    )


@bp.post("/module-starts")
@requires_launch(staff=True)
def save_module_starts(launch: Launch) -> Response:
    body = {k: v for k, v in request.form.items() if k != "csrf_token" and v.strip()}
    try:
        service.set_cohort_module_starts(services(), launch, body)
    except StartOrderQuestion as question:
        # Asked on the page itself, with the dates as typed and a box to confirm them.
        page = render_overview(launch, typed=body, order_question=question.message)
        return Response(page, status=question.status, mimetype="text/html")
    except ToolError as exc:
        flash(exc.message, "error")
    else:
        flash("Start dates saved.", "ok")
    return redirect(url_for("staff.overview"))


@bp.post("/students/<sub>/module-starts")
@requires_launch(staff=True)
def save_student_start(sub: str, launch: Launch) -> Response:
    form = request.form
    body = {form.get("module", ""): form.get("start_date", ""), "reason": form.get("reason", "")}
    _apply(
        lambda: service.set_student_module_starts(services(), launch, sub, body),
        "The student's new start date is recorded.",
    )
    return redirect(url_for("staff.student_preview", sub=sub))


@bp.post("/module-starts/import")
@requires_launch(staff=True)
def import_module_starts(launch: Launch) -> Response:

    def run() -> str:  # reading the file is inside: an unreadable file is a message too
        added, already = service.import_module_starts_csv(services(), launch, uploaded_text())
        said = f"Imported {plural(added, 'start date')}."
        if already:
            said += f" {plural(already, 'line')} gave the start date already recorded: no change."
        return said

    _apply(run, None, conflict=FILE_CONFLICT)
    return redirect(url_for("staff.overview"))


@bp.post("/students/<sub>/completions")
@requires_launch(staff=True)
def save_completion(sub: str, launch: Launch) -> Response:
    form = request.form
    code = form.get("course_code", "")
    _apply(
        lambda: service.record_completion(services(), launch, sub, code, dict(form)),
        f"{code} recorded.",
    )
    return redirect(url_for("staff.student_preview", sub=sub))


@bp.post("/completions/import")
@requires_launch(staff=True)
def import_completions(launch: Launch) -> Response:
    reason = request.form.get("reason", "")

    def run() -> str:
        rows = service.import_completions_csv(services(), launch, uploaded_text(), reason)
        return f"Imported {plural(rows, 'completion record')}."

    _apply(run, None, conflict=FILE_CONFLICT)
    return redirect(url_for("staff.overview"))


@bp.post("/qualification")
@requires_launch(staff=True)
def choose_qualification(launch: Launch) -> Response:
    code = request.form.get("qualification", "")
    _apply(
        lambda: service.choose_context_qualification(services(), launch, code),
        "This course now tracks the chosen qualification.",
    )
    return redirect(url_for("staff.overview"))


# A file's lines are saved in one transaction: a lost race saves none of them.
FILE_CONFLICT = (
    "Nothing from this file was saved: someone else was changing the same records at the same "
    "moment. Upload the file again."
)
CHANGE_CONFLICT = (
    "This change was not saved: someone else was changing the same record at the same moment. "
    "Check the values below, then try again."
)


def _apply(action: Any, message: str | None, *, conflict: str = CHANGE_CONFLICT) -> None:
    """Run a change; its refusal, or a lost race with another change (nothing saved), becomes
    a message on the page it returns to. The error page would offer "Reload", which sends an
    uploaded file again."""
    try:
        result = action()
    except ToolError as exc:
        flash(exc.message, "error")
        return
    except DBAPIError as exc:
        if not is_write_conflict(exc):
            raise
        log_event(log, logging.WARNING, "write conflict", path=request.path, reason=str(exc.orig))
        flash(conflict, "error")
        return
    flash(message or str(result), "ok")
