"""The OIDC third-party initiated login (the first half of a launch).

pylti1p3 keeps state and nonce in the Flask session (per process, or a cookie) and binds the
state to the browser only by a cookie holding the state itself. Here both go to the shared
store, the nonce is issued per state, and the browser holds a random secret whose hash the
state record keeps: in a ``Partitioned`` cookie, and also, when the platform offers LTI
platform storage (``lti_storage_target``; pylti1p3 has no support for it), in the platform's
storage through the ``lti.put_data`` postMessage, for iframes that get no cookies at all.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from pylti1p3.contrib.flask.oidc_login import FlaskOIDCLogin
from pylti1p3.contrib.flask.request import FlaskRequest
from pylti1p3.cookie import CookieService
from pylti1p3.exception import OIDCException

from lti_tool.cookies import set_frame_cookie
from lti_tool.errors import LaunchRefused
from lti_tool.lti.collaborators import LoginParts
from lti_tool.lti.tool_conf import ToolConf

# The names pylti1p3's Flask cookie service gives its cookies; kept so cookies match.
COOKIE_PREFIX = "lti1p3-"


class ToolCookieService(CookieService):
    """pylti1p3's Flask cookie service writes no ``Partitioned``; ours follows the frame policy.

    ``update_response`` is what pylti1p3's ``FlaskRedirect`` calls to set the cookies."""

    def __init__(self, request: FlaskRequest) -> None:
        self._http_request = request
        self._pending: dict[str, tuple[str, int]] = {}

    def get_cookie(self, name: str) -> str | None:
        value = self._http_request.get_cookie(COOKIE_PREFIX + name)
        return None if value is None else str(value)

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        if exp is None:
            raise ValueError("a cookie inside the LMS frame always has a lifetime")
        self._pending[COOKIE_PREFIX + name] = (str(value), exp)

    def update_response(self, response: Any) -> None:
        secure = bool(self._http_request.is_secure())
        for key, (value, exp) in self._pending.items():
            set_frame_cookie(response, key, value, max_age=exp, secure=secure)


def hash_secret(value: str) -> str:
    """What the store keeps of a browser-binding secret."""
    return hashlib.sha256(value.encode()).hexdigest()


# "_parent" or the name of a frame in window.parent.frames (Canvas: post_message_forwarding).
_STORAGE_TARGET = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# What the login keeps so the fallback page can restart it in a new window.
LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
)
# The longest value each login parameter may have: the login keeps them (state and cookie-check
# records) before anything is verified, so an anonymous request must not make the store hold
# megabytes. Canvas's lti_message_hint (a signed JWT) is the longest seen in practice (~1 KB).
MAX_LOGIN_PARAM_LENGTH = {
    "iss": 512,
    "login_hint": 1024,
    "target_link_uri": 2048,
    "lti_message_hint": 4096,
    "client_id": 255,
    "lti_deployment_id": 255,
}
# The whole login POST: the parameters above, with room to spare.
LOGIN_BODY_LIMIT = 16 * 1024


def refuse_oversized_login(values: Mapping[str, str]) -> None:
    """Refuse (400) a login parameter longer than any platform sends."""
    for name, limit in MAX_LOGIN_PARAM_LENGTH.items():
        if len(values.get(name) or "") > limit:
            raise LaunchRefused(
                "login_param_too_long",
                f"The login request's {name} is longer than {limit} characters, more than "
                "any learning platform sends. Please launch the tool again from your course.",
            )


def storage_key(state: str) -> str:
    """The platform-storage key under which a login keeps its browser secret."""
    return "state_" + state


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def storage_target(value: str | None) -> str | None:
    """A usable ``lti_storage_target`` value, or None."""
    value = (value or "").strip()
    return value if _STORAGE_TARGET.match(value) else None


@dataclass(frozen=True)
class StorageLogin:
    """What the login page needs to keep the browser secret in the platform's storage before
    going on to the platform's authorization endpoint."""

    auth_url: str
    target: str
    origin: str
    key: str
    value: str


class ToolOIDCLogin(FlaskOIDCLogin):
    """Third-party initiated login: state and nonce go to shared storage, not the session."""

    def __init__(self, services: LoginParts, request: FlaskRequest, tool_conf: ToolConf) -> None:
        cookies = ToolCookieService(request)
        super().__init__(request, tool_conf, cookie_service=cookies)
        self._services = services
        self._conf = tool_conf
        self._http_request = request
        self._cookies = cookies
        self._storage: StorageLogin | None = None

    def respond(self, launch_url: str) -> Any:
        """A 302 to the platform, or (with platform storage offered) the storage page's data
        as a ``StorageLogin``; the state cookie is set on the response either way."""
        auth_url = self._begin(launch_url)
        if self._storage is None:
            return self.get_redirect(auth_url).do_redirect()
        return self._storage

    # pylti1p3's own entry points would keep state in the Flask session: route them here.
    def get_redirect_object(self, launch_url: str) -> Any:
        return self.get_redirect(self._begin(launch_url))

    def redirect(self, launch_url: str, js_redirect: bool = False) -> Any:
        answer = self.get_redirect_object(launch_url)
        return answer.do_js_redirect() if js_redirect else answer.do_redirect()

    def finish(self, response: Any) -> Any:
        """Set the state cookie on a response the web layer rendered."""
        self._cookies.update_response(response)
        return response

    def _param(self, name: str) -> str | None:
        value = self._http_request.get_param(name)
        return None if value is None else str(value)

    def check_request(self) -> None:
        """Refuse a login with an oversized parameter, naming no issuer, no login_hint or an
        unregistered platform."""
        refuse_oversized_login(
            {name: value for name in LOGIN_PARAMS if (value := self._param(name))}
        )
        try:
            self.validate_oidc_login()
        except OIDCException as exc:
            raise _login_refusal(str(exc), self._conf) from exc

    def _begin(self, launch_url: str) -> str:
        self.check_request()
        settings = self._services.settings
        row = self._conf.found
        assert row is not None
        state = "state-" + str(uuid.uuid4())
        nonce = secrets.token_urlsafe(32)
        browser_secret = secrets.token_urlsafe(32)
        target = storage_target(self._param("lti_storage_target"))
        record = {
            "nonce": nonce,
            "registration_pk": row.pk,
            "browser": hash_secret(browser_secret),
            "target_link_uri": self._param("target_link_uri") or "",
            "created": time.time(),
            "storage_target": target,
            "auth_origin": origin_of(row.auth_login_url),
            "login": {name: value for name in LOGIN_PARAMS if (value := self._param(name))},
        }
        store = self._services.store
        # State and nonce together: one Redis round trip (or one transaction).
        store.put_entries(
            [("state", state, record), ("nonce", nonce, {"state": state})],
            settings.state_ttl_seconds,
        )
        self._cookies.set_cookie(state, browser_secret, settings.state_ttl_seconds)
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": row.client_id,
            "redirect_uri": launch_url,
            "state": state,
            "nonce": nonce,
            "login_hint": self._param("login_hint"),
        }
        message_hint = self._param("lti_message_hint")
        if message_hint:
            params["lti_message_hint"] = message_hint
        separator = "&" if "?" in row.auth_login_url else "?"
        auth_url = str(row.auth_login_url + separator + urlencode(params))
        if target is not None:
            self._storage = StorageLogin(
                auth_url=auth_url,
                target=target,
                origin=str(record["auth_origin"]),
                key=storage_key(state),
                value=browser_secret,
            )
        return auth_url


def check_login_request(services: LoginParts, registration_pk: int | None) -> None:
    """Refuse this request's login if it could not go on anyway (no issuer, no login_hint,
    an unregistered platform), before the tool keeps anything for it."""
    conf = ToolConf(services.db, services.registry_cache, registration_pk)
    ToolOIDCLogin(services, FlaskRequest(), conf).check_request()


def login_with_params(
    services: LoginParts, registration_pk: int | None, params: Mapping[str, str]
) -> Any:
    """A login from kept platform parameters (not this request's), answered with the
    redirect to the platform; the state cookie is set on it."""
    conf = ToolConf(services.db, services.registry_cache, registration_pk)
    login = ToolOIDCLogin(services, FlaskRequest(request_data=dict(params)), conf)
    return login.respond(services.settings.url_for_tool("/lti/launch"))


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
