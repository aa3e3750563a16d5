"""The clinical-leadership pathway tool: an LTI 1.3 tool for the OU PGCert."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from lti_tool.settings import Settings, load_settings

__all__ = ["create_app"]


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the application. Nothing connects until the first request that needs it."""
    from lti_tool import web
    from lti_tool.container import build_services
    from lti_tool.logs import configure_logging
    from lti_tool.resources import resource_dir

    settings = config if isinstance(config, Settings) else load_settings(overrides=config)
    configure_logging(settings.log_level)
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=None,
    )
    from lti_tool.web.page_environment import PageEnvironment

    app.jinja_environment = PageEnvironment  # before anything reads app.jinja_env
    app.config.update(
        SECRET_KEY=settings.secret_key,
        WTF_CSRF_TIME_LIMIT=settings.launch_session_ttl_seconds,
        MAX_CONTENT_LENGTH=1 * 1024 * 1024,
        LTI_SETTINGS=settings,
    )
    services = build_services(settings)
    app.extensions["lti_tool"] = services
    services.start_maintenance()
    web.init_app(app)
    from lti_tool.web.security import install_proxy_trust

    install_proxy_trust(app, settings.trusted_proxies)
    return app
