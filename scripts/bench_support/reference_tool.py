"""A minimal LTI 1.3 tool written the way pylti1p3's README and its Flask example do it.

It is the yardstick of ``scripts/bench_launch.py``: ``FlaskOIDCLogin`` (no cookie-check page,
a plain redirect), ``FlaskMessageLaunch`` validated through ``get_launch_data()``, a
``ToolConfDict`` for one platform, ``FlaskCacheDataStorage`` on a Flask-Caching filesystem
cache (so gunicorn's worker processes share it) and the platform's public keys cached in that
storage with ``set_public_key_caching``, as the README shows. No error handling beyond
Flask's default: an ``LtiException`` becomes a 500, as in the example.

Configuration comes from environment variables (all required unless noted)::

    REF_TOOL_ISSUER, REF_TOOL_CLIENT_ID, REF_TOOL_DEPLOYMENT_ID,
    REF_TOOL_AUTH_LOGIN_URL, REF_TOOL_AUTH_TOKEN_URL, REF_TOOL_KEY_SET_URL,
    REF_TOOL_CACHE_DIR                 (default: a new temporary directory)
    REF_TOOL_PRIVATE_KEY_FILE          (default: a key generated at startup into a temp file)
    REF_TOOL_CACHE_THRESHOLD           (default 500, Flask-Caching's own default)

Serve it with e.g. ``gunicorn --pythonpath scripts/bench_support -w 2 reference_tool:app``.
It answers the platform at ``/lti/login`` and ``/lti/launch`` (the paths the sandbox platform
uses) and ``/healthz`` for the benchmark's readiness probe.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, render_template_string
from flask_caching import Cache
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.tool_config import ToolConfDict

LAUNCH_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="lti-launch-token" content="{{ launch_id }}">
<title>Reference tool</title></head>
<body><h1>Launched</h1>
<p>Hello {{ launch_data.get("name") or launch_data.get("sub") }}
 ({{ "staff" if is_staff else "student" }}).</p>
</body></html>"""


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"reference tool: {name} is not set")
    return value


def _private_key_pem() -> str:
    """The tool's private key: from REF_TOOL_PRIVATE_KEY_FILE, or generated into a temp file."""
    path = os.environ.get("REF_TOOL_PRIVATE_KEY_FILE", "")
    if not path or not Path(path).exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        handle, path = tempfile.mkstemp(prefix="ref-tool-key-", suffix=".pem")
        with os.fdopen(handle, "wb") as out:
            out.write(pem)
    return Path(path).read_text()


def _tool_conf() -> ToolConfDict:
    issuer = _env("REF_TOOL_ISSUER")
    client_id = _env("REF_TOOL_CLIENT_ID")
    conf = ToolConfDict(
        {
            issuer: [
                {
                    "default": True,
                    "client_id": client_id,
                    "auth_login_url": _env("REF_TOOL_AUTH_LOGIN_URL"),
                    "auth_token_url": _env("REF_TOOL_AUTH_TOKEN_URL"),
                    "auth_audience": None,
                    "key_set_url": _env("REF_TOOL_KEY_SET_URL"),
                    "key_set": None,
                    "deployment_ids": [_env("REF_TOOL_DEPLOYMENT_ID")],
                }
            ]
        }
    )
    conf.set_private_key(issuer, _private_key_pem(), client_id=client_id)
    return conf


app = Flask("reference_tool")
app.config.from_mapping(
    SECRET_KEY=os.environ.get("REF_TOOL_SECRET_KEY", "replace-me"),
    CACHE_TYPE="FileSystemCache",
    CACHE_DIR=os.environ.get("REF_TOOL_CACHE_DIR") or tempfile.mkdtemp(prefix="ref-tool-cache-"),
    CACHE_DEFAULT_TIMEOUT=600,
    CACHE_THRESHOLD=int(os.environ.get("REF_TOOL_CACHE_THRESHOLD", "500")),
)
cache = Cache(app)
tool_conf = _tool_conf()


def get_launch_data_storage() -> FlaskCacheDataStorage:
    return FlaskCacheDataStorage(cache)


@app.route("/lti/login", methods=["GET", "POST"])
def login() -> Any:
    flask_request = FlaskRequest()
    target_link_uri = flask_request.get_param("target_link_uri")
    if not target_link_uri:
        raise Exception('Missing "target_link_uri" param')
    oidc_login = FlaskOIDCLogin(
        flask_request, tool_conf, launch_data_storage=get_launch_data_storage()
    )
    return oidc_login.redirect(target_link_uri)


@app.route("/lti/launch", methods=["POST"])
def launch() -> str:
    flask_request = FlaskRequest()
    launch_data_storage = get_launch_data_storage()
    message_launch = FlaskMessageLaunch(
        flask_request, tool_conf, launch_data_storage=launch_data_storage
    )
    message_launch.set_public_key_caching(launch_data_storage, cache_lifetime=7200)
    launch_data = message_launch.get_launch_data()
    return render_template_string(
        LAUNCH_PAGE,
        launch_id=message_launch.get_launch_id(),
        launch_data=launch_data,
        is_staff=message_launch.check_staff_access() or message_launch.check_teacher_access(),
    )


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
