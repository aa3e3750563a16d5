"""The one policy for cookies the tool needs inside an LMS frame.

Inside a course page on another site every cookie of the tool is third-party. Over HTTPS such
a cookie must be ``Secure; SameSite=None`` to be sent at all, and ``Partitioned`` (CHIPS) to be
kept by a browser that blocks third-party cookies (Chrome's default): it is then kept per top
level site, which is what a framed tool needs. Over plain HTTP (development only) browsers
refuse ``SameSite=None`` without ``Secure``, so ``Lax`` applies, as it always has.

Every such cookie is written through :func:`set_frame_cookie` (the launch session, the login
state, the cookie check) or follows :class:`FrameSessionInterface` (Flask's own session, which
holds the CSRF token; web/launch_token.py builds on it). Admin cookies are not frame cookies:
they stay ``SameSite=Strict``.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class FrameCookieOptions(TypedDict):
    secure: bool
    httponly: bool
    samesite: Literal["None", "Lax"]
    partitioned: bool


def frame_cookie_options(secure: bool) -> FrameCookieOptions:
    """Attributes of a cookie the tool needs inside a third-party frame."""
    return {
        "secure": secure,
        "httponly": True,
        "samesite": "None" if secure else "Lax",
        "partitioned": secure,
    }


def request_is_secure() -> bool:
    """Whether the current request reached the tool over HTTPS (after trusted proxies)."""
    return bool(request.is_secure)


def set_frame_cookie(
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int,
    secure: bool | None = None,
    path: str = "/",
) -> None:
    """Write ``name`` with the frame policy; ``secure`` defaults to the request's scheme."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        **frame_cookie_options(request_is_secure() if secure is None else secure),
    )


def delete_frame_cookie(response: Response, name: str, *, path: str = "/") -> None:
    """Remove ``name``: the deletion must carry the same attributes to reach a partitioned jar."""
    response.delete_cookie(name, path=path, **frame_cookie_options(request_is_secure()))


class FrameSessionInterface(SecureCookieSessionInterface):
    """Flask's signed session cookie (it holds the CSRF token) under the frame policy.

    Flask reads ``SESSION_COOKIE_SECURE/SAMESITE/PARTITIONED`` from static config; the policy
    follows the request's own scheme instead, like every other frame cookie.

    The signing serializer is built once per set of keys, not twice per request as Flask
    does (its construction, which serializes a test value, was ~0.1 ms of each request).
    """

    _serializer: tuple[tuple[object, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        held = self._serializer
        if held is not None and held[0] == keys:
            return held[1]
        serializer = super().get_signing_serializer(app)
        self._serializer = (keys, serializer)
        return serializer

    def get_cookie_secure(self, app: Flask) -> bool:
        return request_is_secure()

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return frame_cookie_options(request_is_secure())["samesite"]

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return request_is_secure()

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True


__all__ = [
    "FrameCookieOptions",
    "delete_frame_cookie",
    "frame_cookie_options",
    "set_frame_cookie",
]
