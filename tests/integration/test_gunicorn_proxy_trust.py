"""LTI_TOOL_TRUSTED_PROXIES under the production server (`lti-tool serve --workers N`,
gunicorn), not only under Flask's test client (tests/web/test_ops_security.py). README:
"empty trusts none"; only requests arriving from the listed addresses have their
X-Forwarded-* headers applied. gunicorn's own `forwarded_allow_ips` (default 127.0.0.1,::1)
used to apply X-Forwarded-Proto from loopback whatever the tool's setting said."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests

from tests.integration.test_serve_ports import environment, free_ports, lti_tool, serving

pytestmark = pytest.mark.slow


def _admin_login_cookie(tmp_path: Path, trusted: str) -> str:
    """The session cookie set by /admin/login, asked for from 127.0.0.1 over plain HTTP with
    ``X-Forwarded-Proto: https``, under gunicorn with ``trusted`` proxies."""
    env = environment(tmp_path)
    env.update(
        LTI_TOOL_ENV="production",
        LTI_TOOL_OUTBOUND_ALLOW_LOOPBACK="0",
        LTI_TOOL_SECRET_KEY="production secret " * 3,
        LTI_TOOL_BASE_URL="https://pathway.example.ac.uk",
        LTI_TOOL_TRUSTED_PROXIES=trusted,
    )
    (tmp_path / "var").mkdir()
    init = subprocess.run(
        lti_tool("init"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert init.returncode == 0, init.stdout + init.stderr
    (port,) = free_ports(1)
    with serving(tmp_path, ["--port", str(port), "--workers", "2"], env, [port]):
        page = requests.get(
            f"http://127.0.0.1:{port}/admin/login",
            headers={"X-Forwarded-Proto": "https"},
            timeout=60,
        )
    assert page.status_code == 200
    return page.headers["Set-Cookie"]


@pytest.mark.parametrize("trusted", ["", "10.9.9.9"], ids=["none", "another-proxy"])
def test_forwarded_proto_from_an_untrusted_address_is_ignored_under_gunicorn(
    tmp_path: Path, trusted: str
) -> None:
    # As the Flask test client shows for the same settings: plain HTTP, so no Secure cookie.
    cookie = _admin_login_cookie(tmp_path, trusted)
    assert "Secure" not in cookie, cookie


def test_forwarded_proto_from_the_trusted_proxy_is_applied_under_gunicorn(
    tmp_path: Path,
) -> None:
    cookie = _admin_login_cookie(tmp_path, "127.0.0.1")
    assert "Secure" in cookie, cookie
