"""The sandbox's Canvas-like LTI Dynamic Registration fake (``dynreg.py`` serves it).

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
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt

from lti_tool.sandbox.dynreg_common import (
    AGS,
    CLAIMS,
    NRPS,
    PLATFORM_CONFIGURATION,
    PRIVATE_KEY_JWT,
    TOOL_CONFIGURATION,
    FakePlatform,
    Registered,
    tool_configuration,
)

CANVAS_CONFIG_PATH = "/api/lti/security/openid-configuration"
CANVAS_REGISTRATION_PATH = "/api/lti/registrations"
CANVAS_ISSUER = "https://canvas.instructure.com"
CANVAS_SSO = "https://sso.canvaslms.com"
CANVAS_AUTHORIZE_PATH = "/api/lti/authorize_redirect"
CANVAS_JWKS_PATH = "/api/lti/security/jwks"
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


@dataclass
class CanvasLikeRegistration(FakePlatform):
    """Canvas cloud's registration, served on an institution's host."""

    # Recent Canvas answers with the deployment it made; older Canvas with none.
    return_deployment_id: bool = True
    next_key: int = 1
    # Canvas keeps keys, tokens and the authorization endpoint on sso.canvaslms.com; the
    # sandbox LMS serves them on its own host instead, where its launches can reach them.
    sso_on_host: bool = False

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

    def start_url(self, tool_register_url: str, host_url: str, token: str | None = None) -> str:
        """Canvas's iframe URL: the configuration URL carries the token in its query too."""
        token = token or self.issue_token()
        configuration = (
            host_url.rstrip("/")
            + CANVAS_CONFIG_PATH
            + "?"
            + urlencode({"registration_token": token})
        )
        query = {"openid_configuration": configuration, "registration_token": token}
        return f"{tool_register_url}?{urlencode(query)}"

    def configuration(self, host_url: str) -> dict[str, Any]:
        sso = host_url.rstrip("/") if self.sso_on_host else CANVAS_SSO
        return self._apply(
            {
                "issuer": CANVAS_ISSUER,
                "authorization_endpoint": sso + CANVAS_AUTHORIZE_PATH,
                "registration_endpoint": host_url.rstrip("/") + CANVAS_REGISTRATION_PATH,
                "jwks_uri": sso + CANVAS_JWKS_PATH,
                "token_endpoint": sso + "/login/oauth2/token",
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
        tool = tool_configuration(body)
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
                **tool_configuration(body),
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
