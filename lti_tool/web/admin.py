"""Tool administration pages under ``/admin``: registrations and deployments, keys, the audit
log, health and erasure requests; a registration's completion source and CPD mappings are in
``web/admin_completion.py``, adding a platform and what to paste into the LMS in
``web/admin_register.py``, the sign-in in ``web/admin_auth.py`` (all on this blueprint).

Every state change is a POST with a CSRF token; destructive ones (deactivating a deployment,
rotating the key, changing a completion source) first show a confirmation page that works
without JavaScript. The service functions in ``lti_tool/admin`` enforce the admin's scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.admin import (
    audit_log,
    deployments,
    erasure,
    health,
    keys,
    new_deployments,
    pages,
    platforms,
    registration_endpoints,
)
from lti_tool.errors import ToolError
from lti_tool.lti import registry
from lti_tool.lti.deployment_policy import ACCEPT
from lti_tool.lti.keys import JWKS_MAX_AGE_SECONDS, KEY_LEAD_TIME
from lti_tool.web.admin_auth import (
    add_login_routes,
    admin,
    current_admin,
    form_refusal,
    require_admin,
    require_admin_even_in_outage,
    require_tool_admin,
)
from lti_tool.web.admin_completion import add_completion_routes
from lti_tool.web.admin_register import add_register_routes
from lti_tool.web.auth import services
from lti_tool.web.formatting import when
from lti_tool.web.request_input import query_number

bp = Blueprint("admin", __name__)
add_login_routes(bp)
add_completion_routes(bp)
add_register_routes(bp)


@bp.context_processor
def _identity() -> dict[str, Any]:
    return {"admin_identity": current_admin()}


def _int_arg(name: str) -> int | None:
    return request.args.get(name, type=query_number)


@bp.get("/")
@require_admin
def dashboard() -> str:
    return render_template("admin/dashboard.html", page=pages.dashboard(services(), admin()))


@bp.get("/registrations")
@require_admin
def registrations() -> str:
    rows = platforms.list_registrations(services(), admin())
    return render_template("admin/registrations.html", registrations=rows)


@bp.get("/registrations/<int:pk>")
@require_admin
def registration(pk: int) -> str:
    detail = pages.registration_detail(services(), admin(), pk)
    return render_template("admin/registration.html", detail=detail)


@bp.post("/registrations/<int:pk>/deployments/<int:dep>/activate")
@require_admin
def activate_deployment(pk: int, dep: int) -> Response:
    done = deployments.set_deployment_active(services(), admin(), pk, dep, True)
    flash(f"Deployment {done.deployment_id} is active: its launches are accepted.", "ok")
    return redirect(url_for("admin.registration", pk=pk))


@bp.post("/registrations/<int:pk>/new-deployments")
@require_admin
def set_new_deployments(pk: int) -> Response:
    """Accept new deployments on their first signed launch, or hold them for approval."""
    policy = request.form.get("policy", "")
    try:
        changed = new_deployments.set_new_deployments(services(), admin(), pk, policy)
    except ToolError as exc:
        flash(form_refusal(exc), "error")
        return redirect(url_for("admin.registration", pk=pk))
    if not changed:
        flash("Nothing was changed.", "ok")
    elif policy == ACCEPT:
        flash("New deployments are now allowed on their first launch.", "ok")
    else:
        flash("New deployments now wait for a tool administrator's approval.", "ok")
    return redirect(url_for("admin.registration", pk=pk))


@bp.route("/registrations/<int:pk>/deployments/<int:dep>/deactivate", methods=["GET", "POST"])
@require_admin
def deactivate_deployment(pk: int, dep: int) -> Response | str:
    registration, deployment = platforms.get_deployment(services(), admin(), pk, dep)
    if request.method == "POST":
        deployments.set_deployment_active(services(), admin(), pk, dep, False)
        flash(f"Deployment {deployment.deployment_id} is inactive: launches are refused.", "ok")
        return redirect(url_for("admin.registration", pk=pk))
    return render_template(
        "admin/confirm.html",
        heading=f"Deactivate deployment {deployment.deployment_id}?",
        facts=[("Registration", registration.name), ("Deployment", deployment.deployment_id)],
        consequence="Every launch from this deployment will be refused until it is activated "
        "again. Students and staff of its courses cannot open the tool meanwhile. "
        + (
            "Only a tool administrator will be able to activate it again, not an "
            "administrator of the platform."
            if admin().is_tool_admin
            else "You or a tool administrator can activate it again."
        ),
        action=url_for("admin.deactivate_deployment", pk=pk, dep=dep),
        button="Deactivate deployment",
        cancel=url_for("admin.registration", pk=pk),
    )


def _endpoint_form() -> dict[str, str | None]:
    """The fields the form sent; a field left out keeps its value (an empty audience clears)."""
    return {name: request.form.get(name) for name in registry.ENDPOINT_FIELDS}


@bp.route("/registrations/<int:pk>/endpoints", methods=["GET", "POST"])
@require_tool_admin
def endpoints_form(pk: int) -> Response | str:
    """The registration's endpoints and keys: a form, a review of old → new, then the change
    (audited). Dynamic Registration never changes them; only a tool administrator does."""
    error: str | None = None
    change = registration_endpoints.current_endpoints(services(), admin(), pk)
    if request.method == "POST":
        try:
            if request.form.get("step") == "apply":
                done = registration_endpoints.apply_endpoints(
                    services(), admin(), pk, _endpoint_form()
                )
                flash(
                    f"The endpoints of {done.name} are replaced."
                    if done.changed
                    else "Nothing was changed.",
                    "ok",
                )
                return redirect(url_for("admin.registration", pk=pk))
            change = registration_endpoints.review_endpoints(
                services(), admin(), pk, _endpoint_form()
            )
        except ToolError as exc:
            error = form_refusal(exc)
        else:
            return render_template("admin/endpoints_confirm.html", change=change)
    page = render_template("admin/endpoints.html", change=change, error=error)
    return Response(page, status=422 if error else 200, mimetype="text/html")


@bp.get("/keys")
@require_admin
def key_list() -> str:
    return render_template("admin/keys.html", keys=keys.list_keys(services()))


@bp.route("/keys/rotate", methods=["GET", "POST"])
@require_tool_admin
def rotate_key() -> Response | str:
    if request.method == "POST":
        at_once = request.form.get("when") == "now"
        key = keys.rotate_keys(services(), admin(), at_once=at_once)
        if at_once:
            flash(
                f"New active key {key.kid}, signing now; the earlier keys are withdrawn. "
                "Platforms may refuse the tool's messages for a few minutes, until they fetch "
                "the new key.",
                "ok",
            )
        else:
            flash(
                f"New key {key.kid} is published and begins signing at "
                f"{when(key.activates_at)}; the current key signs until then.",
                "ok",
            )
        return redirect(url_for("admin.key_list"))
    return render_template(
        "admin/keys_rotate.html",
        grace_days=services().settings.key_grace_period_days,
        lead_minutes=KEY_LEAD_TIME // dt.timedelta(minutes=1),
        cache_minutes=JWKS_MAX_AGE_SECONDS // 60,
    )


@bp.get("/audit")
@require_admin
def audit() -> str:
    page = audit_log.audit_page(
        services(),
        admin(),
        action=request.args.get("action") or None,
        context_pk=_int_arg("course"),
        page=_int_arg("page") or 1,
    )
    return render_template(
        "admin/audit.html",
        page=page,
        action=request.args.get("action", ""),
        course=_int_arg("course"),
    )


@bp.get("/health")
@require_admin_even_in_outage
def health_page() -> str:
    return render_template("admin/health.html", report=health.health_report(services(), admin()))


@bp.get("/erasure")
@require_admin
def erasure_requests() -> str:
    return render_template(
        "admin/erasure.html",
        pending=erasure.erasure_requests(services(), admin()),
        decided=[
            r for r in erasure.erasure_requests(services(), admin(), None) if r.status != "pending"
        ][-20:],
    )


@bp.route("/erasure/<int:request_id>", methods=["GET", "POST"])
@require_admin
def erasure_request(request_id: int) -> Response | str:
    if request.method == "POST":
        if request.form.get("decision") == "approve":
            outcome = erasure.approve_erasure(services(), admin(), request_id)
            flash(f"Erasure request {outcome.request_id} approved: the person is erased.", "ok")
        else:
            try:
                erasure.reject_erasure(
                    services(), admin(), request_id, request.form.get("reason", "")
                )
            except ToolError as exc:
                flash(form_refusal(exc), "error")
                return redirect(url_for("admin.erasure_request", request_id=request_id))
            flash(f"Erasure request {request_id} rejected.", "ok")
        return redirect(url_for("admin.erasure_requests"))
    view = erasure.erasure_request(services(), admin(), request_id)
    return render_template("admin/erasure_request.html", item=view)
