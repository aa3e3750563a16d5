"""Sandbox LMS fakes of LTI Dynamic Registration: a Moodle-like and a Canvas-like platform,
each with its OpenID configuration and a registration endpoint that checks what the tool sends
as the real one does, and records it for tests to inspect.

Moodle (as recorded from 4.5.6 in ``fixtures/moodle-4.5.6/dynreg-flow.json`` and its
``mod/lti/classes/local/ltiopenid/registration_helper.php``): configuration at
``/mod/lti/openid-configuration.php`` with the issuer = the site root; registration at
``/mod/lti/openid-registration.php``; the registration token is a JWT (scope ``reg``, one hour,
its ``sub`` becomes the client_id) usable once. Errors are plain words labelled text/html: 401
``missing_registration_token`` / ``token_already_used``, 400 ``invalid_token_endpoint_auth_method``,
``missing required attribute jwks_uri``… The answer carries ``deployment_id`` inside the tool
configuration and the granted scopes (any AGS scope grants score, result and lineitem.readonly).

Canvas (``Lti::IMS::DynamicRegistrationController``, ``doc/api/registration.md``): the
configuration lives on the institution's host while the issuer is
``https://canvas.instructure.com`` and keys and tokens are on ``sso.canvaslms.com``; both calls
need the token as bearer; errors are JSON (401 ``{"errorMessage"}``, 422 ``{"errors"}``); the
answer echoes the registration with ``client_id``, ``registration_config_url`` inside the tool
configuration and, like recent Canvas, ``deployment_id`` at the top level.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from flask import Blueprint, Flask, Response, jsonify, request

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MOODLE_CONFIG_PATH = "/mod/lti/openid-configuration.php"
MOODLE_REGISTRATION_PATH = "/mod/lti/openid-registration.php"
CANVAS_CONFIG_PATH = "/api/lti/security/openid-configuration"
CANVAS_REGISTRATION_PATH = "/api/lti/registrations"
CANVAS_ISSUER = "https://canvas.instructure.com"
CANVAS_SSO = "https://sso.canvaslms.com"
MOODLE_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-bo/scope/basicoutcome",
    AGS + "lineitem.readonly",
    AGS + "result.readonly",
    AGS + "score",
    AGS + "lineitem",
    NRPS,
    "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting",
    "openid",
]
CANVAS_SCOPES = [
    AGS + "lineitem",
    AGS + "lineitem.readonly",
    AGS + "result.readonly",
    AGS + "score",
    NRPS,
    "https://canvas.instructure.com/lti/public_jwk/scope/update",
    "https://canvas.instructure.com/lti/account_lookup/scope/show",
]
PRIVACY_LEVELS = ("public", "name_only", "email_only", "anonymous")
CLAIMS = ["sub", "iss", "name", "given_name", "family_name", "email"]
PRIVATE_KEY_JWT = "private_key_jwt"


@dataclass
class Registered:
    """One accepted registration: the body the tool sent, its headers, the answer."""

    body: dict[str, Any]
    authorization: str
    content_type: str
    response: dict[str, Any]


@dataclass
class _FakePlatform:
    """What both fakes share: a signing secret, records, configuration overrides."""

    # Configuration fields replaced (None removes them): tests break configurations with it.
    overrides: dict[str, Any] = field(default_factory=dict)
    registered: list[Registered] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    used_tokens: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def _apply(self, config: dict[str, Any]) -> dict[str, Any]:
        for key, value in self.overrides.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        return config

    def _claims(self, authorization: str) -> dict[str, Any] | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            claims: dict[str, Any] = jwt.decode(token.strip(), self.secret, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            return None
        return claims


def _tool_configuration(body: dict[str, Any]) -> dict[str, Any]:
    value = body.get(TOOL_CONFIGURATION)
    return value if isinstance(value, dict) else {}


def _domain(url_or_domain: str) -> str:
    netloc = urlsplit(url_or_domain).netloc if "//" in url_or_domain else url_or_domain
    return netloc.split("/")[0].removeprefix("www.").lower()


@dataclass
class MoodleLikeRegistration(_FakePlatform):
    """Moodle's ``mod_lti`` registration; the site lives under ``prefix`` on the host."""

    prefix: str = "/moodle"
    # The keys served at certs.php: a test that launches sets its platform's JWKS here.
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    next_deployment: int = 2

    def site(self, host_url: str) -> str:
        return host_url.rstrip("/") + self.prefix

    def issue_token(self, ttl: int = 3600) -> str:
        """The registration token Moodle puts in the admin's redirect (its sub = client_id)."""
        now = int(time.time())
        claims = {
            "sub": secrets.token_urlsafe(12)[:15],
            "scope": "reg",
            "iat": now,
            "exp": now + ttl,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def start_url(self, tool_register_url: str, host_url: str) -> str:
        """Where Moodle sends the admin's browser: the tool's URL + both parameters."""
        query = {
            "openid_configuration": self.site(host_url) + MOODLE_CONFIG_PATH,
            "registration_token": self.issue_token(),
        }
        return f"{tool_register_url}?{urlencode(query)}"

    def configuration(self, host_url: str) -> dict[str, Any]:
        site = self.site(host_url)
        return self._apply(
            {
                "issuer": site,
                "token_endpoint": site + "/mod/lti/token.php",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "jwks_uri": site + "/mod/lti/certs.php",
                "authorization_endpoint": site + "/mod/lti/auth.php",
                "registration_endpoint": site + MOODLE_REGISTRATION_PATH,
                "scopes_supported": list(MOODLE_SCOPES),
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": list(CLAIMS),
                PLATFORM_CONFIGURATION: {
                    "product_family_code": "moodle",
                    "version": "4.5.6 (Build: 20250811)",
                    "messages_supported": [
                        {"type": "LtiResourceLinkRequest"},
                        {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]},
                    ],
                    "variables": ["Context.id", "Context.title", "Context.id.history", "User.id"],
                },
            }
        )

    def _check(self, body: dict[str, Any]) -> str | None:
        """registration_helper::registration_to_config's checks, in its order."""
        required = ("response_types", "initiate_login_uri", "redirect_uris", "client_name")
        for key in (*required, "jwks_uri", "token_endpoint_auth_method", TOOL_CONFIGURATION):
            if not body.get(key):
                return f"missing required attribute {key}"
        tool = _tool_configuration(body)
        domain = tool.get("domain")
        if not isinstance(domain, str) or not domain:
            return "missing_domain"
        if _domain(domain) != _domain(str(tool.get("target_link_uri") or domain)):
            return "domain_targetlinkuri_mismatch"
        if "id_token" not in body["response_types"]:
            return "invalid_response_types"
        if not isinstance(body["redirect_uris"], list):
            return "invalid_redirect_uris"
        if body["token_endpoint_auth_method"] != PRIVATE_KEY_JWT:
            return "invalid_token_endpoint_auth_method"
        if body.get("application_type") not in (None, "", "web"):
            return "invalid_application_type"
        return None

    def register(
        self, authorization: str, content_type: str, raw: bytes, host_url: str
    ) -> tuple[int, Any]:
        """Moodle's openid-registration.php: (status, plain words or the JSON answer)."""
        claims = self._claims(authorization)
        if not authorization:
            return self._refuse(401, "missing_registration_token")
        if claims is None or claims.get("scope") != "reg":
            return self._refuse(401, "invalid_registration_token")
        with self.lock:
            if claims["sub"] in self.used_tokens:
                return self._refuse(401, "token_already_used")
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return self._refuse(400, "missing required attribute response_types")
            problem = self._check(body)
            if problem:
                return self._refuse(400, problem)
            self.used_tokens.add(claims["sub"])
            deployment_id = str(self.next_deployment)
            self.next_deployment += 1
        requested = set(str(body.get("scope") or "").split())
        granted: list[str] = []
        if requested & {
            AGS + s for s in ("score", "result.readonly", "lineitem.readonly", "lineitem")
        }:
            granted += [AGS + "score", AGS + "result.readonly", AGS + "lineitem.readonly"]
        if AGS + "lineitem" in requested:
            granted.append(AGS + "lineitem")
        if NRPS in requested:
            granted.append(NRPS)
        tool = _tool_configuration(body)
        answer = {
            "client_id": claims["sub"],
            "response_types": ["id_token"],
            "jwks_uri": body["jwks_uri"],
            "initiate_login_uri": body["initiate_login_uri"],
            "grant_types": ["client_credentials", "implicit"],
            "redirect_uris": body["redirect_uris"],
            "application_type": "web",
            "token_endpoint_auth_method": "private_key_jwt",
            "client_name": body["client_name"],
            "logo_uri": body.get("logo_uri") or "",
            "scope": " ".join(granted),
            TOOL_CONFIGURATION: {
                "version": "1.3.0",
                "deployment_id": deployment_id,
                "target_link_uri": tool.get("target_link_uri", ""),
                "domain": tool["domain"],
                "description": tool.get("description", ""),
                # Moodle keeps only the deep-linking message.
                "messages": [
                    m for m in tool.get("messages", []) if m.get("type") == "LtiDeepLinkingRequest"
                ],
                "custom_parameters": tool.get("custom_parameters", {}),
                "claims": ["sub", "iss", "name", "family_name", "given_name", "email"],
            },
        }
        with self.lock:
            self.registered.append(Registered(body, authorization, content_type, answer))
        return 200, answer

    def _refuse(self, status: int, words: str) -> tuple[int, str]:
        with self.lock:
            self.refused.append((status, words))
        return status, words


@dataclass
class CanvasLikeRegistration(_FakePlatform):
    """Canvas cloud's registration, served on an institution's host."""

    # Recent Canvas answers with the deployment it made; older Canvas with none.
    return_deployment_id: bool = True
    next_key: int = 1

    def issue_token(self, ttl: int = 3600) -> str:
        now = int(time.time())
        claims = {
            "uuid": secrets.token_hex(16),
            "initiated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "user_id": 1,
            "unified_tool_id": None,
            "root_account_global_id": 10000000000001,
            "registration_url": "",
            "exp": now + ttl,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def start_url(self, tool_register_url: str, host_url: str) -> str:
        """Canvas's iframe URL: the configuration URL carries the token in its query too."""
        token = self.issue_token()
        configuration = (
            host_url.rstrip("/")
            + CANVAS_CONFIG_PATH
            + "?"
            + urlencode({"registration_token": token})
        )
        query = {"openid_configuration": configuration, "registration_token": token}
        return f"{tool_register_url}?{urlencode(query)}"

    def configuration(self, host_url: str) -> dict[str, Any]:
        return self._apply(
            {
                "issuer": CANVAS_ISSUER,
                "authorization_endpoint": CANVAS_SSO + "/api/lti/authorize_redirect",
                "registration_endpoint": host_url.rstrip("/") + CANVAS_REGISTRATION_PATH,
                "jwks_uri": CANVAS_SSO + "/api/lti/security/jwks",
                "token_endpoint": CANVAS_SSO + "/login/oauth2/token",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "scopes_supported": list(CANVAS_SCOPES),
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": [*CLAIMS, "locale"],
                "subject_types_supported": ["public"],
                "authorization_server": "canvas.instructure.com",
                PLATFORM_CONFIGURATION: {
                    "product_family_code": "canvas",
                    "version": "vCloud",
                    "messages_supported": [
                        {
                            "type": "LtiResourceLinkRequest",
                            "placements": ["account_navigation", "course_navigation"],
                        },
                        {
                            "type": "LtiDeepLinkingRequest",
                            "placements": ["assignment_selection", "link_selection"],
                        },
                    ],
                    "variables": ["ResourceLink.id", "Canvas.user.id", "Canvas.course.id"],
                    "https://canvas.instructure.com/lti/account_name": "Sandbox University",
                },
            }
        )

    def check_token(self, authorization: str) -> dict[str, Any] | None:
        return self._claims(authorization)

    def _check(self, body: dict[str, Any]) -> list[str]:
        errors = [
            f"{key} is required"
            for key in (
                "application_type",
                "grant_types",
                "response_types",
                "redirect_uris",
                "initiate_login_uri",
                "client_name",
                "jwks_uri",
                "token_endpoint_auth_method",
                "scope",
            )
            if key not in body
        ]
        if errors:
            return errors
        if {"client_credentials", "implicit"} - set(body["grant_types"]):
            errors.append("grant_types must include client_credentials, implicit")
        if "id_token" not in body["response_types"]:
            errors.append("response_types must include id_token")
        if body["token_endpoint_auth_method"] != PRIVATE_KEY_JWT:
            errors.append("token_endpoint_auth_method must be 'private_key_jwt'")
        if body["application_type"] != "web":
            errors.append("application_type must be 'web'")
        for key in ("initiate_login_uri", "jwks_uri", *body["redirect_uris"]):
            url = body.get(key, key)
            if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
                errors.append(f"{key} must be a URL")
        unknown = set(str(body["scope"]).split()) - set(CANVAS_SCOPES)
        if unknown:
            errors.append(f"Invalid scopes: {', '.join(sorted(unknown))}")
        tool = _tool_configuration(body)
        for key in ("domain", "target_link_uri", "messages", "claims"):
            if key not in tool:
                errors.append(f"lti_tool_configuration: {key} is required")
        level = tool.get("https://canvas.instructure.com/lti/privacy_level", "anonymous")
        if level not in PRIVACY_LEVELS:
            errors.append(f"privacy_level {level!r} is not one of {', '.join(PRIVACY_LEVELS)}")
        for message in tool.get("messages", []):
            if message.get("type") not in ("LtiResourceLinkRequest", "LtiDeepLinkingRequest"):
                errors.append(f"message type {message.get('type')!r} is not supported")
            if not all(isinstance(p, str) for p in message.get("placements", [])):
                errors.append("placements must be strings")
        return errors

    def register(
        self, authorization: str, content_type: str, raw: bytes, host_url: str
    ) -> tuple[int, Any]:
        """Canvas's ``POST /api/lti/registrations``: (status, JSON answer)."""
        claims = self.check_token(authorization)
        if claims is None:
            return self._refuse(401, {"errorMessage": "JWT did not include expected contents"})
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._refuse(422, {"errors": ["the registration must be a JSON object"]})
        errors = self._check(body)
        if errors:
            return self._refuse(422, {"errors": errors})
        with self.lock:
            number = self.next_key
            self.next_key += 1
        global_id = 10000000000000 + number
        base = host_url.rstrip("/") + CANVAS_REGISTRATION_PATH + f"/{global_id}"
        answer = {
            "client_id": str(global_id),
            "application_type": "web",
            "grant_types": ["client_credentials", "implicit"],
            "initiate_login_uri": body["initiate_login_uri"],
            "redirect_uris": body["redirect_uris"],
            "response_types": ["id_token"],
            "client_name": body["client_name"],
            "jwks_uri": body["jwks_uri"],
            "logo_uri": body.get("logo_uri"),
            "token_endpoint_auth_method": "private_key_jwt",
            "scope": body["scope"],
            TOOL_CONFIGURATION: {
                **_tool_configuration(body),
                "https://canvas.instructure.com/lti/registration_config_url": base + "/view",
            },
            "registration_client_uri": base,
        }
        if self.return_deployment_id:
            answer["deployment_id"] = f"{number}:{secrets.token_hex(20)}"
        with self.lock:
            self.registered.append(Registered(body, authorization, content_type, answer))
        return 200, answer

    def _refuse(self, status: int, answer: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.refused.append((status, json.dumps(answer)))
        return status, answer


@dataclass
class DynregFakes:
    moodle: MoodleLikeRegistration
    canvas: CanvasLikeRegistration


def _moodle_words(status: int, words: str) -> Response:
    return Response(words, status=status, content_type="text/html; charset=utf-8")


def _json(status: int, body: Any) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def register_dynreg(
    app: Flask,
    moodle: MoodleLikeRegistration | None = None,
    canvas: CanvasLikeRegistration | None = None,
) -> DynregFakes:
    """Serve both fakes on ``app``: Moodle under its prefix, Canvas at ``/api/lti/…``."""
    fakes = DynregFakes(moodle or MoodleLikeRegistration(), canvas or CanvasLikeRegistration())
    moodle_site = fakes.moodle.prefix
    blueprint = Blueprint("sandbox_dynreg", __name__)

    @blueprint.get(moodle_site + MOODLE_CONFIG_PATH)
    def moodle_configuration() -> Response:
        return jsonify(fakes.moodle.configuration(request.host_url))

    @blueprint.route(moodle_site + MOODLE_REGISTRATION_PATH, methods=["GET", "POST"])
    def moodle_registration() -> Response:
        authorization = request.headers.get("Authorization", "")
        if request.method == "GET":
            return _moodle_words(401, "missing_registration_token")
        status, answer = fakes.moodle.register(
            authorization, request.content_type or "", request.get_data(), request.host_url
        )
        return _json(status, answer) if status == 200 else _moodle_words(status, answer)

    @blueprint.get(moodle_site + "/mod/lti/certs.php")
    def moodle_certs() -> Response:
        return jsonify(fakes.moodle.jwks)

    @blueprint.get(CANVAS_CONFIG_PATH)
    def canvas_configuration() -> Response:
        if fakes.canvas.check_token(request.headers.get("Authorization", "")) is None:
            return _json(401, {"errorMessage": "registration token missing or invalid"})
        return jsonify(fakes.canvas.configuration(request.host_url))

    @blueprint.post(CANVAS_REGISTRATION_PATH)
    def canvas_registration() -> Response:
        status, answer = fakes.canvas.register(
            request.headers.get("Authorization", ""),
            request.content_type or "",
            request.get_data(),
            request.host_url,
        )
        return _json(status, answer)

    app.register_blueprint(blueprint)
    app.extensions["dynreg"] = fakes
    return fakes
