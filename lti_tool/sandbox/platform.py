"""The sandbox LMS's platform side: its keys, its URLs and the id_tokens it signs for the demo
people of ``sandbox/demo_people.py``.

Tests use :class:`SandboxPlatform` directly to mint launches, forged ones included.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lti_tool.lti import claims as c
from lti_tool.sandbox.demo_people import (
    AUTUMN_CONTEXT,
    DEMO_CONTEXT,
    DEMO_USERS,
    DemoUser,
    demo_groups,
    demo_roster,
)


@dataclass
class PlatformKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return jwk


def new_platform_key() -> PlatformKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    digest = hashlib.sha256(str(numbers.n).encode()).digest()
    return PlatformKey(base64.urlsafe_b64encode(digest[:12]).decode().rstrip("="), key)


@dataclass
class SandboxPlatform:
    """An LTI 1.3 platform: issuer, the client it issued to the tool, its signing keys."""

    issuer: str
    tool_url: str
    client_id: str = "sandbox-tool"
    deployment_id: str = "sandbox-deployment-1"
    keys: list[PlatformKey] = field(default_factory=lambda: [new_platform_key()])
    # The course roster NRPS serves; tests change it to see joiners and leavers.
    roster: list[dict[str, Any]] = field(default_factory=lambda: demo_roster())
    # NRPS pages link to the next one by an absolute URL, as Moodle does; True: by a relative
    # one (``</api/nrps/...?from=2>``), which RFC 8288 allows and other platforms send.
    relative_links: bool = False
    # The Course Groups service's groups; tests change or empty it.
    groups: list[dict[str, Any]] = field(default_factory=lambda: demo_groups())
    group_sets: list[dict[str, Any]] = field(
        default_factory=lambda: [{"id": "tutor", "name": "Tutor groups"}]
    )
    # The scopes the token endpoint grants this tool (None: any it asks for). A token request
    # for another is refused with ``invalid_scope`` (RFC 6749 section 5.2), as a platform
    # does for a scope beyond what it granted.
    token_scopes: frozenset[str] | None = None
    # Access tokens the token endpoint issued: token -> (scopes, expiry time).
    access_tokens: dict[str, tuple[frozenset[str], float]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    # How the platform reads the tool's JWKS: over HTTP from tool_url by default; tests that
    # drive the tool through Flask's test client pass a function that asks it there.
    tool_jwks_source: Callable[[], dict[str, Any]] | None = None
    # Like Moodle: each launch page's lti_message_hint works for one authorization request;
    # a second use is answered with an OpenID error (invalid_request).
    single_use_hints: bool = False
    spent_hints: set[str] = field(default_factory=set)
    # The tool's Dynamic Registration mode (open, approve, off): the sandbox's "Register a
    # tool by URL" page says what it means for the new registration's first launch.
    tool_registration_mode: str = "open"

    @property
    def signing_key(self) -> PlatformKey:
        return self.keys[-1]

    @property
    def login_url(self) -> str:
        return self.tool_url.rstrip("/") + "/lti/login"

    @property
    def launch_url(self) -> str:
        return self.tool_url.rstrip("/") + "/lti/launch"

    @property
    def auth_url(self) -> str:
        return self.issuer + "/auth"

    @property
    def token_url(self) -> str:
        return self.issuer + "/token"

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/jwks"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.keys]}

    def rotate_key(self, keep_old: bool = True) -> PlatformKey:
        key = new_platform_key()
        self.keys = [*self.keys, key] if keep_old else [key]
        return key

    def login_params(self, user: str = "student1", link: str = "checklist") -> dict[str, str]:
        """The third-party initiated login the platform sends to the tool."""
        return {
            "iss": self.issuer,
            "login_hint": DEMO_USERS[user].sub,
            "target_link_uri": self.launch_url,
            "lti_message_hint": json.dumps({"user": user, "link": link}),
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }

    def launch_claims(
        self, user: str, nonce: str, link: str = "checklist", course: str = "spring"
    ) -> dict[str, Any]:
        """The claims of a resource-link launch for a demo user in the demo course (or in
        the ``autumn`` course: another context, with no services)."""
        person = DEMO_USERS[user]
        now = int(time.time())
        claims = self._spring_claims(person, nonce, link, now)
        if course == "autumn":
            claims[c.CONTEXT] = dict(AUTUMN_CONTEXT)
            claims[c.RESOURCE_LINK] = {"id": f"link-{link}-autumn", "title": "Pathway (autumn)"}
            for service in (c.NRPS, c.AGS, c.GROUPS_SERVICE):
                claims.pop(service)
        return claims

    def _spring_claims(self, person: DemoUser, nonce: str, link: str, now: int) -> dict[str, Any]:
        return {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": person.sub,
            "iat": now,
            "exp": now + 60,
            "nonce": nonce,
            "name": person.name,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "email": person.email,
            c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
            c.VERSION: c.LTI_VERSION,
            c.DEPLOYMENT_ID: self.deployment_id,
            c.TARGET_LINK_URI: self.launch_url,
            c.RESOURCE_LINK: {"id": f"link-{link}", "title": "Clinical leadership pathway"},
            c.ROLES: list(person.roles),
            c.CONTEXT: dict(DEMO_CONTEXT),
            c.TOOL_PLATFORM: {
                "guid": "sandbox-lms",
                "name": "Sandbox LMS",
                "product_family_code": "sandbox",
            },
            c.LAUNCH_PRESENTATION: {"document_target": "iframe", "locale": "en-GB"},
            c.LIS: {"person_sourcedid": person.key.upper()},
            c.NRPS: {
                "context_memberships_url": self.issuer + "/api/nrps/pgcert-cl-2027/memberships",
                "service_versions": ["2.0"],
            },
            c.AGS: {
                "scope": [
                    c.SCOPE_LINEITEM,
                    c.SCOPE_RESULT,
                    c.SCOPE_SCORE,
                ],
                "lineitems": self.issuer + "/api/ags/pgcert-cl-2027/lineitems",
            },
            c.GROUPS_SERVICE: {
                "scope": [c.GROUPS_SCOPE],
                "context_groups_url": self.issuer + "/api/groups/pgcert-cl-2027/groups",
                "context_group_sets_url": self.issuer + "/api/groups/pgcert-cl-2027/sets",
                "service_versions": ["1.0"],
            },
            c.CUSTOM: {"context_history": ""},
        }

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: PlatformKey | None = None,
        headers: dict[str, Any] | None = None,
        algorithm: str = "RS256",
    ) -> str:
        """Sign ``claims`` as this platform (or with ``key``, e.g. a stranger's)."""
        key = key or self.signing_key
        header = {"kid": key.kid, **(headers or {})}
        # The key object, not its PEM: parsing a PEM costs ~60 ms per token.
        return jwt.encode(claims, key.private_key, algorithm=algorithm, headers=header)


# What an OIDC authentication request to an LTI 1.3 platform must carry (LTI 1.3 Security
# Framework, 5.1.1.2): the sandbox's own /auth and the tools registered on its "Register a
# tool by URL" page check them alike.
OIDC_REQUEST_VALUES = (
    ("scope", "openid"),
    ("response_type", "id_token"),
    ("response_mode", "form_post"),
    ("prompt", "none"),
)


def oidc_request_problem(params: Mapping[str, str]) -> str | None:
    """What is wrong with an authentication request's fixed values, or None."""
    for name, expected in OIDC_REQUEST_VALUES:
        if params.get(name) != expected:
            return f"{name} must be {expected!r}"
    return None
