"""Staff pages: course settings (qualification, module start dates) and student previews.

The class view with results and grade sync replaces the member list in a later step.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.csv_files import decode_upload
from lti_tool.errors import ToolError
from lti_tool.pathway import service
from lti_tool.web.auth import page_launch, require_staff, services
from lti_tool.web.student import render_checklist

bp = Blueprint("staff", __name__)


def uploaded_text() -> str:
    """The form's uploaded CSV ``file`` as text ("" without one)."""
    upload = request.files.get("file")
    return decode_upload(upload.read()) if upload else ""


def render_overview(launch: Any, **extra: Any) -> str:
    return render_template(
        "staff/overview.html",
        overview=service.staff_overview(services(), launch),
        session=launch.data,
        **extra,
    )


@bp.get("/")
@require_staff
def overview() -> str:
    return render_overview(page_launch())


@bp.get("/students/<sub>")
@require_staff
def student_preview(sub: str) -> str:
    launch = page_launch()
    checklist = service.student_checklist(services(), launch, sub)
    return render_checklist(
        checklist, launch.data, student=checklist["student"], attempts=checklist["attempts"]
    )


@bp.post("/module-starts")
@require_staff
def save_module_starts() -> Response:
    launch = page_launch()
    body = {k: v for k, v in request.form.items() if k != "csrf_token" and v.strip()}
    _apply(lambda: service.set_cohort_module_starts(services(), launch, body), "Start dates saved.")
    return redirect(url_for("staff.overview"))


@bp.post("/students/<sub>/module-starts")
@require_staff
def save_student_start(sub: str) -> Response:
    launch = page_launch()
    form = request.form
    body = {form.get("module", ""): form.get("start_date", ""), "reason": form.get("reason", "")}
    _apply(
        lambda: service.set_student_module_starts(services(), launch, sub, body),
        "The student's new start date is recorded.",
    )
    return redirect(url_for("staff.student_preview", sub=sub))


@bp.post("/module-starts/import")
@require_staff
def import_module_starts() -> Response:
    launch = page_launch()

    def run() -> str:  # reading the file is inside: an unreadable file is a message too
        rows = service.import_module_starts_csv(services(), launch, uploaded_text())
        return f"Imported {rows} rows."

    _apply(run, None)
    return redirect(url_for("staff.overview"))


@bp.post("/students/<sub>/completions")
@require_staff
def save_completion(sub: str) -> Response:
    launch = page_launch()
    form = request.form
    code = form.get("course_code", "")
    _apply(
        lambda: service.record_completion(services(), launch, sub, code, dict(form)),
        f"{code} recorded.",
    )
    return redirect(url_for("staff.student_preview", sub=sub))


@bp.post("/completions/import")
@require_staff
def import_completions() -> Response:
    launch = page_launch()
    reason = request.form.get("reason", "")

    def run() -> str:
        rows = service.import_completions_csv(services(), launch, uploaded_text(), reason)
        return f"Imported {rows} completion records."

    _apply(run, None)
    return redirect(url_for("staff.overview"))


@bp.post("/qualification")
@require_staff
def choose_qualification() -> Response:
    launch = page_launch()
    code = request.form.get("qualification", "")
    _apply(
        lambda: service.choose_context_qualification(services(), launch, code),
        "This course now tracks the chosen qualification.",
    )
    return redirect(url_for("staff.overview"))


def _apply(action: Any, message: str | None) -> None:
    """Run a change; its refusal becomes a message on the page it returns to."""
    try:
        result = action()
    except ToolError as exc:
        flash(exc.message, "error")
        return
    flash(message or str(result), "ok")
