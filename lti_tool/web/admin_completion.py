"""The admin pages of a registration's completion data, under ``/admin/registrations/<pk>``:
its completion source (Moodle web services, Canvas REST or AGS results; staged, then
confirmed) and its CPD course mappings (set by hand or discovered in the learning platform).

The views are added to the admin blueprint by ``add_completion_routes``, so their URLs and
endpoint names (``admin.source_form`` …) are those of the other admin pages.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.admin import mapping, platforms, sources
from lti_tool.completion.setup import SetupError
from lti_tool.errors import ToolError
from lti_tool.web.admin_auth import admin, form_refusal, require_admin
from lti_tool.web.auth import services


@require_admin
def source_form(pk: int) -> Response | str:
    registration = platforms.get_registration(services(), admin(), pk)
    current = sources.source_summary(services(), admin(), pk)
    error: str | None = None
    if request.method == "POST":
        form = sources.SourceForm(
            kind=request.form.get("kind", ""),
            endpoint_url=request.form.get("endpoint_url", ""),
            token=request.form.get("token", ""),
            mode=request.form.get("mode", "course"),
            ags_threshold=request.form.get("ags_threshold", ""),
        )
        try:
            change_id = sources.stage_source_change(services(), admin(), pk, form)
        except ToolError as exc:
            error = form_refusal(exc)
        else:
            return redirect(url_for("admin.confirm_source", pk=pk, change_id=change_id))
    page = render_template(
        "admin/source.html", registration=registration, current=current, error=error
    )
    return Response(page, status=422 if error else 200, mimetype="text/html")


@require_admin
def confirm_source(pk: int, change_id: str) -> Response | str:
    if request.method == "POST":
        sources.apply_source_change(services(), admin(), pk, change_id)
        flash("The completion source is changed.", "ok")
        return redirect(url_for("admin.registration", pk=pk))
    change = sources.staged_change(services(), admin(), pk, change_id)
    return render_template("admin/source_confirm.html", change=change)


@require_admin
def mapping_page(pk: int) -> Response | str:
    if request.method == "POST":
        form = request.form
        code = form.get("code", "")
        try:
            mapping.set_course_mapping(
                services(),
                admin(),
                pk,
                code,
                form.get("course_id", ""),
                form.get("activity_id", ""),
            )
        except ToolError as exc:
            flash(form_refusal(exc), "error")
        else:
            flash(f"{code} is mapped.", "ok")
        return redirect(url_for("admin.mapping_page", pk=pk))
    return render_template("admin/mapping.html", view=mapping.mapping_view(services(), admin(), pk))


@require_admin
def discover(pk: int) -> Response | str:
    try:
        result = mapping.discover_mappings(
            services(), admin(), pk, request.form.get("mode", "courses"), request.form.get("course")
        )
    except ToolError as exc:
        flash(form_refusal(exc), "error")
        return redirect(url_for("admin.mapping_page", pk=pk))
    return render_template(
        "admin/discovery.html",
        view=mapping.mapping_view(services(), admin(), pk),
        result=result,
    )


@require_admin
def apply_discovery(pk: int, discovery_id: str) -> Response:
    try:
        stored = mapping.apply_discovery(services(), admin(), pk, discovery_id)
    except SetupError as exc:  # a mapping its source would not read: nothing stored
        flash(form_refusal(exc), "error")
    else:
        flash(f"Stored {stored} mappings found in the learning platform.", "ok")
    return redirect(url_for("admin.mapping_page", pk=pk))


def add_completion_routes(bp: Blueprint) -> None:
    registration = "/registrations/<int:pk>"
    both = ["GET", "POST"]
    bp.add_url_rule(f"{registration}/source", "source_form", source_form, methods=both)
    bp.add_url_rule(
        f"{registration}/source/confirm/<change_id>", "confirm_source", confirm_source, methods=both
    )
    bp.add_url_rule(f"{registration}/mapping", "mapping_page", mapping_page, methods=both)
    bp.add_url_rule(f"{registration}/mapping/discover", "discover", discover, methods=["POST"])
    bp.add_url_rule(
        f"{registration}/mapping/discover/<discovery_id>",
        "apply_discovery",
        apply_discovery,
        methods=["POST"],
    )
