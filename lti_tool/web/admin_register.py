"""Adding a platform on the admin pages (tool administrators only) and the page of what to
paste into the LMS for a registration (any admin who may see it).

Adding works without JavaScript in two steps: the kind of platform (and a Moodle site's
address or which Canvas site), then the whole form filled in from that and editable; saving
is a POST with a CSRF token, checked by the rules of ``lti-tool platform add`` and audited
like it. The views are added to the admin blueprint by ``add_register_routes``.
"""

from __future__ import annotations

from dataclasses import fields

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.admin import lms_setup, platform_form, platforms
from lti_tool.web.admin_auth import admin, require_admin, require_tool_admin
from lti_tool.web.auth import services


def _form_from(values: dict[str, str]) -> platform_form.PlatformForm:
    """The form as sent (GET's query or POST's body); fields not sent keep their default."""
    names = [f.name for f in fields(platform_form.PlatformForm)]
    given = {name: values[name][:2000] for name in names if name in values}
    return platform_form.PlatformForm(**given)


def _page(form: platform_form.PlatformForm, step: str, problems: dict[str, str]) -> Response:
    page = render_template(
        "admin/platform_new.html",
        form=form,
        step=step,
        problems=problems,
        labels=platform_form.LABELS,
        kinds=platform_form.KINDS,
        canvas_sites=platform_form.CANVAS_SITES,
    )
    return Response(page, status=422 if problems else 200, mimetype="text/html")


@require_tool_admin
def new_platform() -> Response:
    """GET without ``step``: choose the kind. GET with ``step=details``: the form filled in
    for it. POST: save (or the form again with what to change beside each field)."""
    if request.method == "POST":
        form = _form_from(request.form.to_dict())
        try:
            pk = platform_form.register_platform(services(), admin(), form)
        except platform_form.FormProblems as exc:
            return _page(form, "details", exc.problems)
        flash(f"{form.name.strip()} is added. Now paste these values into the platform.", "ok")
        return redirect(url_for("admin.lms_setup_page", pk=pk), 303)
    form = _form_from(request.args.to_dict())
    if request.args.get("step") != "details":
        return _page(form, "kind", {})
    try:
        filled = platform_form.preset(services(), admin(), form)
    except platform_form.FormProblems as exc:
        return _page(form, "kind", exc.problems)
    return _page(filled, "details", {})


@require_admin
def lms_setup_page(pk: int) -> str:
    """What the LMS administrator pastes into the platform for this registration."""
    registration = platforms.get_registration(services(), admin(), pk)
    settings = services().settings
    return render_template(
        "admin/lms_setup.html",
        registration=registration,
        kind=registration.kind,
        values=lms_setup.paste_values(settings, pk, registration.kind),
        dynamic_registration=lms_setup.dynamic_registration_url(settings),
    )


@require_tool_admin
def lms_setup_first() -> str:
    """What to paste into a platform not added yet (Moodle and Canvas give the client ID only
    once the tool is set up in them)."""
    kind = request.args.get("kind", "")
    kind = kind if kind in platform_form.KINDS else "generic"
    settings = services().settings
    return render_template(
        "admin/lms_setup.html",
        registration=None,
        kind=kind,
        values=lms_setup.paste_values(settings, None, kind),
        dynamic_registration=lms_setup.dynamic_registration_url(settings),
    )


def add_register_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/registrations/new", "new_platform", new_platform, methods=["GET", "POST"])
    bp.add_url_rule("/registrations/<int:pk>/setup", "lms_setup_page", lms_setup_page)
    bp.add_url_rule("/registrations/new/setup", "lms_setup_first", lms_setup_first)
