"""The platform's keys as RFC 7517/7518 allow them: RSA and EC, with or without ``alg``; and
malformed ones, which refuse the launch with a page, never a 500."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from werkzeug.test import TestResponse

from tests.support.lti import Launcher

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _rsa(bits: int = 2048) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key, json.loads(RSAAlgorithm.to_jwk(key.public_key()))


def _rsa_private() -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    """A platform that publishes its whole key, private half included."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, json.loads(RSAAlgorithm.to_jwk(key))


def _ec(curve: ec.EllipticCurve) -> tuple[ec.EllipticCurvePrivateKey, dict[str, Any]]:
    key = ec.generate_private_key(curve)
    return key, json.loads(ECAlgorithm.to_jwk(key.public_key()))


def _launch_signed_with(
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[], tuple[PrivateKey, dict[str, Any]]],
    jwk_alg: str | None,
    alg: str,
) -> TestResponse:
    """The platform publishes the key ``make`` gives (with ``alg`` when ``jwk_alg`` is set)
    beside its own, and signs a launch in ``alg`` with its private half."""
    private_key, jwk = make()
    jwk.update(kid=f"extra-{alg}", use="sig")
    if jwk_alg:
        jwk["alg"] = jwk_alg
    published = launcher.platform.jwks
    monkeypatch.setattr(launcher.platform, "jwks", lambda: {"keys": [*published()["keys"], jwk]})
    client = launcher.app.test_client()
    login = launcher.login(client)
    claims = launcher.claims("student1", login.nonce)
    with warnings.catch_warnings():  # the platform signing with a short key is the point
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        token = jwt.encode(claims, private_key, algorithm=alg, headers={"kid": jwk["kid"]})
    return launcher.post_launch(client, token, login.state)


KeyMaker = Callable[[], tuple[PrivateKey, dict[str, Any]]]
# (label, the key, its "alg" if any, the launch's algorithm, None when the key verifies it,
# else the refusal's code)
KEY_CASES: list[tuple[str, KeyMaker, str | None, str, str | None]] = [
    ("RSA without alg, RS384", _rsa, None, "RS384", None),
    ("RSA without alg, RS512", _rsa, None, "RS512", None),
    ("RSA without alg, PS256", _rsa, None, "PS256", None),
    ("RSA with alg PS384", _rsa, "PS384", "PS384", None),
    ("RSA with alg PS512", _rsa, "PS512", "PS512", None),
    ("EC P-256 with alg", lambda: _ec(ec.SECP256R1()), "ES256", "ES256", None),
    ("EC P-256 without alg", lambda: _ec(ec.SECP256R1()), None, "ES256", None),
    ("EC P-384 without alg", lambda: _ec(ec.SECP384R1()), None, "ES384", None),
    ("EC P-521 with alg", lambda: _ec(ec.SECP521R1()), "ES512", "ES512", None),
    ("RSA key for RS256, launch in PS256", _rsa, "RS256", "PS256", "wrong_alg"),
    ("RSA key of 1024 bits", lambda: _rsa(1024), "RS256", "RS256", "bad_platform_key"),
    (
        "EC P-256 key, launch in RS256",
        lambda: (_rsa()[0], _ec(ec.SECP256R1())[1]),
        None,
        "RS256",
        "wrong_alg",
    ),
    ("the private half published", _rsa_private, None, "RS256", "bad_platform_key"),
]


@pytest.mark.parametrize(
    ("label", "make", "jwk_alg", "alg", "refusal"), KEY_CASES, ids=[k[0] for k in KEY_CASES]
)
def test_a_key_verifies_the_algorithms_of_its_kind_only(
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    label: str,
    make: KeyMaker,
    jwk_alg: str | None,
    alg: str,
    refusal: str | None,
) -> None:
    response = _launch_signed_with(launcher, monkeypatch, make, jwk_alg, alg)
    page = response.get_data(as_text=True)
    if refusal is None:
        assert response.status_code == 200, page
    else:
        assert response.status_code == 400, page
        assert refusal in page and "Reference for support" in page


# What a platform's key set might hold under the launch's kid, each unusable.
MALFORMED: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str]] = [
    (
        "a symmetric key claiming RS256 (algorithm confusion)",
        lambda k: {"kid": k["kid"], "kty": "oct", "k": "c2VjcmV0", "alg": "RS256"},
        "wrong_alg",
    ),
    ("RSA without its modulus", lambda k: {f: v for f, v in k.items() if f != "n"}, "bad_platform"),
    ("a modulus that is a number", lambda k: {**k, "n": 5}, "bad_platform_key"),
    ("a modulus that is not base64url", lambda k: {**k, "n": "!!!"}, "bad_platform_key"),
    ("no key type", lambda k: {f: v for f, v in k.items() if f != "kty"}, "wrong_alg"),
    ("a key for encryption", lambda k: {**k, "use": "enc"}, "bad_platform_key"),
    ("alg none", lambda k: {**k, "alg": "none"}, "wrong_alg"),
]


@pytest.mark.parametrize(("label", "spoil", "code"), MALFORMED, ids=[case[0] for case in MALFORMED])
def test_a_malformed_platform_key_refuses_the_launch_with_a_page(
    launcher: Launcher,
    monkeypatch: pytest.MonkeyPatch,
    label: str,
    spoil: Callable[[dict[str, Any]], dict[str, Any]],
    code: str,
) -> None:
    good = launcher.platform.signing_key.public_jwk()
    monkeypatch.setattr(launcher.platform, "jwks", lambda: {"keys": [spoil(dict(good))]})
    response = launcher.launch(launcher.app.test_client())
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert "Reference for support" in page and code in page
