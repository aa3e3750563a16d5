"""The floor of ``scripts/bench_launch.py``: a tool that only verifies the id_token.

Its login answers with the redirect to the platform (a random state and nonce, kept nowhere);
its launch verifies the id_token's signature against the platform's JWKS (fetched once per
process), its ``iss``, ``aud`` and ``exp``, and answers a page with the launch token meta tag.
No storage, no nonce or state check, no records, no templates: nothing a real tool can skip.
Whatever a real tool measures above it is the tool's own work; what the floor costs is the
web server, the HTTP client and the RS256 verification both share.

Configuration (environment, all required): NULL_TOOL_ISSUER, NULL_TOOL_CLIENT_ID,
NULL_TOOL_AUTH_LOGIN_URL, NULL_TOOL_KEY_SET_URL, NULL_TOOL_LAUNCH_URL.
Serve it with ``gunicorn --pythonpath scripts/bench_support -w 2 null_tool:app``.
"""

from __future__ import annotations

import html
import os
import secrets
from urllib.parse import urlencode

import jwt
from flask import Flask, Response, abort, request

ISSUER = os.environ.get("NULL_TOOL_ISSUER", "")
CLIENT_ID = os.environ.get("NULL_TOOL_CLIENT_ID", "")
AUTH_LOGIN_URL = os.environ.get("NULL_TOOL_AUTH_LOGIN_URL", "")
LAUNCH_URL = os.environ.get("NULL_TOOL_LAUNCH_URL", "")
_keys = jwt.PyJWKClient(os.environ.get("NULL_TOOL_KEY_SET_URL", ""), cache_keys=True)

app = Flask("null_tool")


@app.route("/lti/login", methods=["GET", "POST"])
def login() -> Response:
    values = request.values
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": CLIENT_ID,
        "redirect_uri": LAUNCH_URL,
        "login_hint": values.get("login_hint", ""),
        "lti_message_hint": values.get("lti_message_hint", ""),
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
    }
    response = Response(status=302)
    response.headers["Location"] = f"{AUTH_LOGIN_URL}?{urlencode(query)}"
    return response


@app.post("/lti/launch")
def launch() -> Response:
    token = request.form.get("id_token", "")
    try:
        key = _keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=CLIENT_ID, issuer=ISSUER)
    except jwt.PyJWTError:
        abort(400)
    sub = html.escape(str(claims.get("sub", "")))
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="lti-launch-token" content="{secrets.token_urlsafe(16)}">'
        f"<title>Null tool</title></head><body><p>{sub}</p></body></html>"
    )
    return Response(page, mimetype="text/html")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
