"""The OIDC third-party initiated login (the first half of a launch).

pylti1p3 keeps state and nonce in the Flask session (per process, or a cookie) and binds the
state to the browser only by a cookie holding the state itself. Here both go to the shared
store, the nonce is issued per state, and the browser holds a random secret whose hash the
state record keeps; the cookie is ``Partitioned`` for third-party iframes.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from pylti1p3.contrib.flask.cookie import FlaskCookieService
from pylti1p3.contrib.flask.oidc_login import FlaskOIDCLogin
from pylti1p3.contrib.flask.request import FlaskRequest
from pylti1p3.exception import OIDCException

from lti_tool.container import Services
from lti_tool.errors import LaunchRefused
from lti_tool.lti.tool_conf import ToolConf


class ToolCookieService(FlaskCookieService):
    """pylti1p3's cookie service without ``Partitioned``: added for third-party iframes."""

    def update_response(self, response: Any) -> None:
        request = self._request
        secure = bool(request is not None and request.is_secure())
        for key, data in self._cookie_data_to_set.items():
            response.set_cookie(
                key,
                data["value"],
                max_age=data["exp"],
                secure=secure,
                httponly=True,
                path="/",
                samesite="None" if secure else "Lax",
                partitioned=secure,
            )


def hash_secret(value: str) -> str:
    """What the store keeps of a browser-binding secret."""
    return hashlib.sha256(value.encode()).hexdigest()


class ToolOIDCLogin(FlaskOIDCLogin):
    """Third-party initiated login: state and nonce go to shared storage, not the session."""

    def __init__(self, services: Services, request: FlaskRequest, tool_conf: ToolConf) -> None:
        super().__init__(request, tool_conf, cookie_service=ToolCookieService(request))
        self._services = services
        self._conf = tool_conf

    def _prepare_redirect_url(self, launch_url: str) -> str:
        try:
            self._registration = self.validate_oidc_login()
        except OIDCException as exc:
            raise _login_refusal(str(exc), self._conf) from exc
        settings = self._services.settings
        row = self._conf.found
        assert row is not None
        state = "state-" + str(uuid.uuid4())
        nonce = secrets.token_urlsafe(32)
        browser_secret = secrets.token_urlsafe(32)
        record = {
            "nonce": nonce,
            "registration_pk": row.pk,
            "browser": hash_secret(browser_secret),
            "target_link_uri": self._get_request_param("target_link_uri") or "",
            "created": time.time(),
        }
        store = self._services.store
        store.put("state", state, record, settings.state_ttl_seconds)
        store.put("nonce", nonce, {"state": state}, settings.state_ttl_seconds)
        self._cookie_service.set_cookie(state, browser_secret, settings.state_ttl_seconds)
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": row.client_id,
            "redirect_uri": launch_url,
            "state": state,
            "nonce": nonce,
            "login_hint": self._get_request_param("login_hint"),
        }
        message_hint = self._get_request_param("lti_message_hint")
        if message_hint:
            params["lti_message_hint"] = message_hint
        separator = "&" if "?" in row.auth_login_url else "?"
        return str(row.auth_login_url + separator + urlencode(params))


def _login_refusal(message: str, conf: ToolConf) -> LaunchRefused:
    if "issuer" in message:
        return LaunchRefused("missing_iss", "The login request did not say which platform sent it.")
    if "login hint" in message:
        return LaunchRefused("missing_login_hint", "The login request carried no login_hint.")
    return LaunchRefused(
        "unknown_registration",
        conf.miss_reason
        or "This platform is not registered with the tool. An administrator must register it.",
    )
