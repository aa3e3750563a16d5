"""Security headers, proxy trust and CSRF."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from flask import Flask, Response, g
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool.logs import log_event
from lti_tool.settings import IPNetwork, trusted_proxies
from lti_tool.urls import web_origin

csrf = CSRFProtect()


def csp_nonce() -> str:
    """Per-request nonce for the few inline scripts the pages carry."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


class TrustedProxies:
    """Apply X-Forwarded-* only for requests arriving from the listed proxy addresses.

    ``LTI_TOOL_TRUSTED_PROXIES`` is either a number of hops (``1``: trust the nearest proxy,
    whatever its address) or a comma-separated list of addresses / networks.
    """

    def __init__(self, app: Any, networks: Iterable[IPNetwork], hops: int) -> None:
        self._plain = app
        self._fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        self._networks = list(networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not self._networks:
            return self._fixed(environ, start_response)
        try:
            remote = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            return self._plain(environ, start_response)
        if any(remote in net for net in self._networks):
            return self._fixed(environ, start_response)
        return self._plain(environ, start_response)


def install_proxy_trust(app: Flask, setting: str) -> None:
    trusted = trusted_proxies(setting)  # load_settings has refused a malformed one
    if isinstance(trusted, int):
        log_event(
            logging.getLogger("lti_tool.security"),
            logging.WARNING,
            "LTI_TOOL_TRUSTED_PROXIES is a hop count: any client that reaches the tool without "
            "passing through the proxy can forge X-Forwarded-For (and so the address the "
            "sign-in and rate limits count). Name the proxy's addresses or networks instead "
            "(e.g. 10.0.0.5,10.0.1.0/24), or make sure only the proxy can reach the tool.",
            code="trusted_proxies_hop_count",
            hops=trusted,
        )
        app.wsgi_app = TrustedProxies(app.wsgi_app, [], trusted)  # type: ignore[method-assign]
    elif trusted:
        app.wsgi_app = TrustedProxies(app.wsgi_app, trusted, 1)  # type: ignore[method-assign]


def csrf_unless_bearer() -> None:
    """Unsafe API calls authenticated by the session cookie need the CSRF header."""
    from flask import request

    from lti_tool.web.auth import bearer_token

    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    # Only a real bearer token (which is what authenticates the request then) skips the check;
    # an empty "Bearer " falls back to the cookie, and so to CSRF.
    if bearer_token() is not None:
        return
    csrf.protect()


def allow_framing_by(origins: Iterable[str]) -> None:
    """Let this response be framed by ``origins`` as well (the platform asking to register is
    not registered yet)."""
    g.extra_frame_ancestors = [*g.get("extra_frame_ancestors", ()), *origins]


def allow_form_to(url: str) -> None:
    """Let this response's form post to ``url``'s origin as well: the deep-linking return
    URL, which the platform's signed request named."""
    origin = web_origin(url)
    if origin:
        g.extra_form_actions = [*g.get("extra_form_actions", ()), origin]


def _platform_origins() -> list[str]:
    """The origins of registrations with an active deployment; when the database is down, the
    ones last read (that must not turn every answer into a 500, nor wait for it)."""
    from flask import current_app, request

    from lti_tool.outages import DATABASE
    from lti_tool.web.outages import unavailable_now

    if request.blueprint == "ops":
        return []  # the probes' JSON is never framed, and /healthz must not need the database
    cache = current_app.extensions["lti_tool"].registry_cache
    if unavailable_now() == DATABASE:
        # The 503 page of a database outage: the origins last read, so the page still shows
        # inside the LMS frame, without waiting for the database again.
        return list(cache.last_frame_origins())
    try:
        return list(cache.frame_origins())
    except SQLAlchemyError:
        return list(cache.last_frame_origins())


# A source the policy may name for a platform: a scheme, a host (``*.`` for a domain's sites)
# and a port; nothing that could end the directive or add another (``;``, spaces, quotes).
_SOURCE = re.compile(
    r"https?://((\*\.)?([a-z0-9_-]+\.)*[a-z0-9_-]+\.?|\[[0-9a-f:.]+\])(:[0-9]{1,5})?",
    re.IGNORECASE,
)


def _sources(values: Iterable[str]) -> list[str]:
    """The values that are sources as ``_SOURCE`` reads them; others are left out (they came
    from a platform's word: ``urls.web_origin`` builds origins that pass)."""
    return [value for value in values if _SOURCE.fullmatch(value)]


def content_security_policy() -> str:
    """The one policy of every answer. ``frame-ancestors``: the tool, the origins of ACTIVE
    registrations (an unapproved or deactivated one may not frame the tool), the operator's
    ``LTI_TOOL_FRAME_ANCESTORS`` and what the view allowed (``allow_framing_by``).
    ``form-action``: the tool, the active registrations (a login form's redirect goes to
    their auth endpoint) and what the view allowed (``allow_form_to``)."""
    from flask import current_app

    settings = current_app.extensions["lti_tool"].settings
    forms, ancestors = _directives(
        tuple(_platform_origins()),
        settings.frame_ancestors,
        tuple(g.get("extra_frame_ancestors", ())),
        tuple(g.get("extra_form_actions", ())),
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{csp_nonce()}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        f"form-action {forms}; "
        "base-uri 'none'; object-src 'none'; "
        f"frame-ancestors {ancestors}"
    )


@lru_cache(maxsize=256)
def _directives(
    platform_origins: tuple[str, ...],
    operator_ancestors: str,
    extra_ancestors: tuple[str, ...],
    extra_forms: tuple[str, ...],
) -> tuple[str, str]:
    """``form-action`` and ``frame-ancestors``' sources, worked out once per set of origins
    (the same for nearly every answer) instead of once per answer."""
    platforms = _sources(platform_origins)
    ancestors = ["'self'", *platforms, *operator_ancestors.split(), *_sources(extra_ancestors)]
    forms = ["'self'", *platforms, *_sources(extra_forms)]
    return " ".join(dict.fromkeys(forms)), " ".join(dict.fromkeys(ancestors))


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _headers(response: Response) -> Response:
        # Built here only: no view or blueprint sets its own policy.
        response.headers["Content-Security-Policy"] = content_security_policy()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response
