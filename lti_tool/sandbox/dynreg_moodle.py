"""The sandbox's Moodle-like LTI Dynamic Registration fake (``dynreg.py`` serves it).

Moodle (as recorded from 4.5.6 in ``fixtures/moodle-4.5.6/dynreg-flow.json`` and its
``mod/lti/classes/local/ltiopenid/registration_helper.php``): configuration at
``/mod/lti/openid-configuration.php`` with the issuer = the site root; registration at
``/mod/lti/openid-registration.php``; the registration token is a JWT (scope ``reg``, one hour,
its ``sub`` becomes the client_id) usable once. Errors are plain words labelled text/html: 401
``missing_registration_token`` / ``token_already_used``, 400 ``invalid_token_endpoint_auth_method``,
``missing required attribute jwks_uri``… The answer carries ``deployment_id`` inside the tool
configuration and the granted scopes (any AGS scope grants score, result and lineitem.readonly).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
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

MOODLE_CONFIG_PATH = "/mod/lti/openid-configuration.php"
MOODLE_REGISTRATION_PATH = "/mod/lti/openid-registration.php"
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


def _domain(url_or_domain: str) -> str:
    netloc = urlsplit(url_or_domain).netloc if "//" in url_or_domain else url_or_domain
    return netloc.split("/")[0].removeprefix("www.").lower()


@dataclass
class MoodleLikeRegistration(FakePlatform):
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

    def start_url(self, tool_register_url: str, host_url: str, token: str | None = None) -> str:
        """Where Moodle sends the admin's browser: the tool's URL + both parameters."""
        query = {
            "openid_configuration": self.site(host_url) + MOODLE_CONFIG_PATH,
            "registration_token": token or self.issue_token(),
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
        tool = tool_configuration(body)
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
        tool = tool_configuration(body)
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
