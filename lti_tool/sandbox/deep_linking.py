"""The sandbox LMS's Deep Linking 2.0 side: the request it signs, and the return endpoint that
checks the tool's response as a platform must before it places anything.

The request's opaque ``data`` is a short JWT the platform signs itself (as Canvas does): it
carries what was asked (one item or several, which types), so the return endpoint needs no
memory of the request and notices a ``data`` that was altered or not echoed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from flask import Blueprint, Flask, Response, jsonify, render_template_string, request

from lti_tool.lti import claims as c
from lti_tool.sandbox.platform import SandboxPlatform

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
RETURN_PATH = "/deep-link/return"
DATA_PREFIX = "opaque-"
MAX_RESPONSE_AGE_SECONDS = 600
LEEWAY_SECONDS = 5

_PLACED_PAGE = """{% extends "base.html" %}
{% block title %}Placed in the course — Sandbox LMS{% endblock %}
{% block content %}<h1>{{ items|length }} item(s) placed in the course</h1>
{% if msg %}<p role="status">{{ msg }}</p>{% endif %}
{% if errormsg %}<p role="alert">{{ errormsg }}</p>{% endif %}
<ul>{% for item in items %}<li>{{ item.title }}{% if item.lineItem %} (gradebook column out of
{{ item.lineItem.scoreMaximum }}){% endif %}</li>{% endfor %}</ul>{% endblock %}"""


class ResponseRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class DeepLinkReturns:
    """What the return endpoint accepted (for tests and the demo) and what it has seen."""

    placed: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seen_nonces: set[str] = field(default_factory=set)
    seen_requests: set[str] = field(default_factory=set)


def deep_link_claims(
    platform: SandboxPlatform,
    user: str,
    nonce: str,
    *,
    accept_multiple: bool = True,
    accept_lineitem: bool | None = True,
    accept_types: Sequence[str] = ("ltiResourceLink",),
    auto_create: bool = False,
) -> dict[str, Any]:
    """The claims of an ``LtiDeepLinkingRequest`` for a demo user in the demo course."""
    claims = platform.launch_claims(user, nonce)
    del claims[c.RESOURCE_LINK]
    claims[c.MESSAGE_TYPE] = c.DEEP_LINKING_REQUEST
    now = int(time.time())
    request_data = {
        "request": secrets.token_hex(8),
        "accept_multiple": accept_multiple,
        "accept_types": list(accept_types),
        "iat": now,
        "exp": now + 3600,
    }
    settings: dict[str, Any] = {
        "deep_link_return_url": platform.issuer + RETURN_PATH,
        "accept_types": list(accept_types),
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": accept_multiple,
        "auto_create": auto_create,
        "data": DATA_PREFIX + platform.sign(request_data),
    }
    if accept_lineitem is not None:
        settings["accept_lineitem"] = accept_lineitem
    claims[c.DEEP_LINKING_SETTINGS] = settings
    return claims


def _tool_key(platform: SandboxPlatform, token: str) -> Any:
    kid = jwt.get_unverified_header(token).get("kid")
    if platform.tool_jwks_source is not None:
        document = platform.tool_jwks_source()
    else:
        url = platform.tool_url.rstrip("/") + "/.well-known/jwks.json"
        document = requests.get(url, timeout=5).json()
    for key in document.get("keys", []):
        if key.get("kid") == kid:
            return jwt.PyJWK(key).key
    raise ResponseRefused(f"no key {kid!r} in the tool's JWKS")


def _request_of(platform: SandboxPlatform, data: Any) -> dict[str, Any]:
    """The platform's own request record, from the ``data`` the tool had to echo."""
    if not isinstance(data, str) or not data.startswith(DATA_PREFIX):
        raise ResponseRefused("the data claim was not echoed")
    token = data[len(DATA_PREFIX) :]
    kid = jwt.get_unverified_header(token).get("kid")
    key = next((k for k in platform.keys if k.kid == kid), None)
    if key is None:
        raise ResponseRefused("the data claim was altered")
    try:
        record: dict[str, Any] = jwt.decode(
            token, key.private_key.public_key(), algorithms=["RS256"]
        )
    except jwt.InvalidTokenError as exc:
        raise ResponseRefused(f"the data claim is invalid: {exc}") from exc
    return record


def _check_items(items: Any, asked: dict[str, Any]) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ResponseRefused("content_items must be an array of objects")
    if len(items) > 1 and not asked.get("accept_multiple"):
        raise ResponseRefused("several items were returned but accept_multiple was false")
    for item in items:
        if item.get("type") not in asked.get("accept_types", []):
            raise ResponseRefused(f"item type {item.get('type')!r} was not asked for")
        url = item.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith("http")):
            raise ResponseRefused("an item's url is not an absolute URL")
        custom = item.get("custom", {})
        if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
            raise ResponseRefused("custom values must be strings")
        line_item = item.get("lineItem")
        if line_item is not None:
            maximum = line_item.get("scoreMaximum") if isinstance(line_item, dict) else None
            if not isinstance(maximum, int | float) or isinstance(maximum, bool) or maximum <= 0:
                raise ResponseRefused("lineItem.scoreMaximum must be a positive number")
    return items


def verify_response(
    platform: SandboxPlatform, returns: DeepLinkReturns, token: str
) -> dict[str, Any]:
    """Check the tool's ``LtiDeepLinkingResponse`` JWT; the placed record, or ResponseRefused."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _tool_key(platform, token),
            algorithms=["RS256"],
            audience=platform.issuer,
            issuer=platform.client_id,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
        )
    except (jwt.InvalidTokenError, requests.RequestException, ValueError) as exc:
        raise ResponseRefused(f"the response JWT is invalid: {exc}") from exc
    if time.time() - float(claims["iat"]) > MAX_RESPONSE_AGE_SECONDS:
        raise ResponseRefused("the response was issued too long ago")
    nonce = claims["nonce"]
    if not isinstance(nonce, str) or not nonce or nonce in returns.seen_nonces:
        raise ResponseRefused("the nonce is missing or was already used")
    for name, expected in (
        (c.DEPLOYMENT_ID, platform.deployment_id),
        (c.MESSAGE_TYPE, "LtiDeepLinkingResponse"),
        (c.VERSION, c.LTI_VERSION),
    ):
        if claims.get(name) != expected:
            raise ResponseRefused(f"{name.rsplit('/', 1)[-1]} must be {expected!r}")
    asked = _request_of(platform, claims.get(DL + "data"))
    if asked["request"] in returns.seen_requests:
        raise ResponseRefused("a response to this request was already received")
    items = _check_items(claims.get(DL + "content_items"), asked)
    returns.seen_nonces.add(nonce)
    returns.seen_requests.add(asked["request"])
    return {
        "items": items,
        "data": claims[DL + "data"],
        "msg": claims.get(DL + "msg"),
        "errormsg": claims.get(DL + "errormsg"),
        "kid": jwt.get_unverified_header(token).get("kid"),
    }


def register_deep_linking(app: Flask, platform: SandboxPlatform) -> DeepLinkReturns:
    """Serve ``/deep-link/return``; returns the record of what was placed."""
    returns = DeepLinkReturns()
    blueprint = Blueprint("sandbox_deep_linking", __name__)

    @blueprint.post(RETURN_PATH)
    def deep_link_return() -> Response | str:
        try:
            placed = verify_response(platform, returns, request.form.get("JWT", ""))
        except (ResponseRefused, jwt.InvalidTokenError) as exc:
            reason = exc.reason if isinstance(exc, ResponseRefused) else f"not a JWT: {exc}"
            returns.refused.append(reason)
            response = jsonify({"error": "invalid_response", "error_description": reason})
            response.status_code = 400
            return response
        returns.placed.append(placed)
        return render_template_string(_PLACED_PAGE, **placed)

    app.register_blueprint(blueprint)
    app.extensions["deep_linking"] = returns
    return returns
