"""An unverified launch naming a held (or switched-off) deployment of an on-premises
platform (its keys inside the network ``outbound_allowed_hosts`` opens) takes the shared
"unknown kid: refetch" slot, and its public-only refetch is bound to fail. The slot stays taken
for ``platform_jwks_refetch_min_seconds``, so the platform's own launches signed with its new
key (after a key rotation) are refused as "unknown kid" meanwhile; anyone repeating such a
launch every few seconds kept the platform's key rotation out for as long as they liked. The
public-only refetch now has a slot of its own."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from jwt.algorithms import RSAAlgorithm

from lti_tool.errors import LaunchRefused, UpstreamError
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.outbound.policy import OutboundRefused

URL = "https://moodle.internal.example.ac.uk/mod/lti/certs.php"


def jwk(kid: str) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    found: dict[str, Any] = RSAAlgorithm.to_jwk(key, as_dict=True)
    return {**found, "kid": kid, "alg": "RS256", "use": "sig"}


class Inside(requests.Session):
    """The tool's own session: the on-premises platform's key set, rotated after the first
    answer."""

    def __init__(self) -> None:
        super().__init__()
        self.sets = [{"keys": [jwk("old")]}, {"keys": [jwk("old"), jwk("new")]}]

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        body = self.sets[0] if len(self.sets) == 1 else self.sets.pop(0)
        response._content = json.dumps(body).encode()
        return response


class PublicOnly(requests.Session):
    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise OutboundRefused("private_address", "inside the network")


@pytest.fixture
def app(sqlite_tool_factory: Any) -> Flask:
    tool: Flask = sqlite_tool_factory().app
    return tool


def test_a_held_launch_does_not_keep_the_platforms_new_key_out(app: Flask) -> None:
    store = app.extensions["lti_tool"].store
    keys = PlatformKeys(store, Inside(), PublicOnly(), 3600, refetch_min_seconds=10)
    keys.verification_key(URL, "old", "RS256")  # a launch of the platform: cached
    # The platform rotates its key. First, a launch naming a held deployment (its claim not
    # verified yet): public-only, refused.
    with pytest.raises((UpstreamError, LaunchRefused)):
        keys.verification_key(URL, "new", "RS256", public_only=lambda: True)
    # Then the platform's own launch from its approved deployment, signed with the new key.
    try:
        keys.verification_key(URL, "new", "RS256")
    except LaunchRefused as refused:
        pytest.fail(f"the approved deployment's launch was refused: {refused.code}")
