"""The launch's ``jwt.decode``: pyjwt's, with its base64url check of each segment done in C.

pyjwt 2.15.1 (pinned) checks that every byte of a segment is in the base64url alphabet with a
Python generator over the bytes (``PyJWS._decode_base64url_segment``): for a 3-4 KB id_token
that was ~0.2 ms, five times the RSA verification itself and ~5% of a launch's CPU (issue 14).
``decode_segment`` makes the same checks in the same order with the same errors, the alphabet
one with ``bytes.translate``; ``tests/unit/test_jwt_segments.py`` compares the two on valid and
malformed segments and fails when pyjwt no longer has the method this replaces. Everything
else (signature, algorithms, exp/iat/nbf, aud, iss, required claims) is pyjwt's own code.
"""

from __future__ import annotations

import binascii

from jwt import PyJWT
from jwt.api_jws import PyJWS
from jwt.exceptions import DecodeError
from jwt.utils import base64url_decode, base64url_encode

BASE64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def decode_segment(segment: bytes, name: str) -> bytes:
    """``PyJWS._decode_base64url_segment``: trailing ``=`` (at most two, and only on a
    segment of whole quads) accepted, anything outside the alphabet refused, and the
    segment must be the canonical encoding of what it decodes to."""
    padding = 0
    stripped = segment
    while stripped.endswith(b"="):
        stripped = stripped[:-1]
        padding += 1
        if padding > 2:
            raise DecodeError(f"Invalid {name} padding")
    if padding and len(segment) % 4 != 0:
        raise DecodeError(f"Invalid {name} padding")
    if len(stripped) % 4 == 1 or stripped.translate(None, BASE64URL_ALPHABET):
        raise DecodeError(f"Invalid {name} padding")
    try:
        decoded = base64url_decode(stripped)
    except (TypeError, binascii.Error) as err:
        raise DecodeError(f"Invalid {name} padding") from err
    if base64url_encode(decoded) != stripped:
        raise DecodeError(f"Invalid {name} padding")
    return decoded


class _SegmentsInC(PyJWS):
    _decode_base64url_segment = staticmethod(decode_segment)


def _decoder() -> PyJWT:
    decoder = PyJWT()
    decoder._jws = _SegmentsInC(options=decoder._jws.options)
    return decoder


# Stateless (options are per call), so one for the process.
id_token_jwt = _decoder()
