"""Blueprints, one per area; URL prefixes are set here."""

from __future__ import annotations

from flask import Flask

from lti_tool.web import api, errors, lti, ops, security


def init_app(app: Flask) -> None:
    errors.init_app(app)
    security.init_app(app)
    app.register_blueprint(ops.bp)
    app.register_blueprint(lti.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    # The platform POSTs logins and launches cross-site; they are protected by state, nonce
    # and signature instead. The JSON API authenticates with a bearer token.
    security.csrf.exempt(lti.bp)
    security.csrf.exempt(api.bp)
