"""Blueprints, one per area; URL prefixes are set here."""

from __future__ import annotations

from flask import Flask

from lti_tool.web import (
    admin,
    api,
    canvas_config,
    class_view,
    completion_grid,
    context_api,
    deep_linking,
    errors,
    formatting,
    launch_token,
    lti,
    ops,
    page_binding,
    privacy,
    rate_limit,
    register,
    reload,
    request_input,
    security,
    staff,
    student,
)


def init_app(app: Flask) -> None:
    from lti_tool.grading.sync_sweep import recover_at_start, requeue_lost_syncs

    # The maintenance tick queues again the grade syncs whose queued job Redis lost; the
    # in-process queue's syncs that died with an earlier process are queued again now.
    app.extensions["lti_tool"].upkeep.append(requeue_lost_syncs)
    recover_at_start(app.extensions["lti_tool"])
    # The tool's name in every page title (LTI_TOOL_TOOL_NAME).
    app.jinja_env.globals["tool_name"] = app.config["LTI_SETTINGS"].tool_name
    errors.init_app(app)
    rate_limit.init_app(app)  # after the correlation id, before any view
    request_input.init_app(app)
    security.init_app(app)
    launch_token.init_app(app)
    page_binding.init_app(app)
    reload.init_app(app)
    app.register_blueprint(ops.bp)
    app.register_blueprint(lti.bp)
    app.register_blueprint(deep_linking.bp, url_prefix="/lti/deep-link")
    app.register_blueprint(canvas_config.bp, url_prefix="/lti")
    app.register_blueprint(register.bp, url_prefix="/lti")
    formatting.init_app(app)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(context_api.bp, url_prefix="/api/context")
    app.register_blueprint(student.bp)
    app.register_blueprint(staff.bp, url_prefix="/staff")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(privacy.bp, url_prefix="/privacy")
    app.register_blueprint(class_view.bp, url_prefix="/staff/class")
    app.register_blueprint(completion_grid.bp, url_prefix="/staff/class/completion")
    # The platform POSTs logins and launches cross-site; they are protected by state, nonce
    # and signature instead. The JSON API checks CSRF itself when it is cookie-authenticated
    # (a bearer token is not sent by the browser on its own, so it needs none).
    security.csrf.exempt(lti.bp)
    # The deep-linking response form checks its hidden launch token, or else CSRF, itself.
    security.csrf.exempt(deep_linking.bp)
    # Dynamic Registration runs in an LMS iframe that may get no cookies: its POST checks the
    # form token against the pending install itself (and Flask-WTF's check when it can).
    security.csrf.exempt(register.bp)
    security.csrf.exempt(api.bp)
    security.csrf.exempt(context_api.bp)
    for blueprint in (api.bp, context_api.bp):
        blueprint_before = security.csrf_unless_bearer
        app.before_request_funcs.setdefault(blueprint.name, []).append(blueprint_before)
