"""The launch's segment check agrees with pyjwt's own, byte for byte and error for error."""

from __future__ import annotations

import base64
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.api_jws import PyJWS
from jwt.exceptions import DecodeError

from lti_tool.lti.jwt_segments import decode_segment, id_token_jwt


def _segments() -> list[bytes]:
    valid = [base64.urlsafe_b64encode(bytes(range(n))) for n in range(0, 12)]
    cases: list[bytes] = []
    for encoded in valid:
        bare = encoded.rstrip(b"=")
        cases += [encoded, bare, bare + b"=", bare + b"==", bare + b"===", bare + b"===="]
    for bad in (b"!", b"+", b"/", b".", b" ", b"\n", b"\x00", b"\xc3\xa9", b"=", b"%"):
        cases += [bad, b"QUJD" + bad, bad + b"QUJD", b"QU" + bad + b"D"]
    cases += [b"", b"A", b"AB", b"ABC", b"ABCDE", b"QUJDRA", b"QUJDRB", b"QUJDRA==", b"QR=="]
    return cases


def _outcome(check: object, segment: bytes) -> tuple[str, object]:
    try:
        return "ok", check(segment, "payload")  # type: ignore[operator]
    except DecodeError as exc:
        return "refused", str(exc)


@pytest.mark.parametrize("segment", _segments())
def test_same_answer_as_pyjwt(segment: bytes) -> None:
    assert _outcome(decode_segment, segment) == _outcome(PyJWS._decode_base64url_segment, segment)


def test_the_decoder_uses_it_and_still_verifies() -> None:
    assert id_token_jwt._jws._decode_base64url_segment is decode_segment
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": "https://lms.example", "aud": "tool", "iat": now, "exp": now + 60}
    token = jwt.encode(claims, key, algorithm="RS256")
    options = {"require": ["exp", "iat", "iss", "aud"]}
    decoded = id_token_jwt.decode(
        token,
        key.public_key(),
        algorithms=["RS256"],
        audience="tool",
        issuer="https://lms.example",
        options=options,
    )
    assert decoded == claims
    header, payload, signature = token.split(".")
    for forged in (f"{header}.{payload}!.{signature}", f"{header}.{payload}.{signature[:-4]}AAAA"):
        with pytest.raises(jwt.InvalidTokenError):
            id_token_jwt.decode(
                forged,
                key.public_key(),
                algorithms=["RS256"],
                audience="tool",
                issuer="https://lms.example",
                options=options,
            )
