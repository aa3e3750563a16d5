"""/lti/register fetches for anyone: it must not reach the private network that
LTI_TOOL_OUTBOUND_ALLOWED_HOSTS opens for an on-premises LMS, nor say how a connection failed
(an outside review mapped open and closed ports of an allowed network by the error's class)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.web.test_outbound_limits import LEAKY, Recorder


@pytest.fixture
def inside() -> Iterator[Recorder]:
    server = Recorder(LEAKY)
    yield server
    server.close()


def _register(app: Any, url: str) -> tuple[int, str]:
    answer = app.test_client().get("/lti/register?" + urlencode({"openid_configuration": url}))
    return answer.status_code, answer.get_data(as_text=True)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_allowed_private_network_is_not_reachable_through_register(
    sqlite_tool_factory: Any, inside: Recorder
) -> None:
    app = sqlite_tool_factory(
        env="production", secret_key="s" * 48, outbound_allowed_hosts="127.0.0.0/8, localhost"
    ).app
    for url in (
        f"https://127.0.0.1:{inside.port}/mod/lti/openid-configuration.php",
        f"https://localhost:{inside.port}/mod/lti/openid-configuration.php",
        f"https://127.0.0.1:{_closed_port()}/mod/lti/openid-configuration.php",
    ):
        status, text = _register(app, url)
        assert status == 400, text
        assert "private_address" in text
    time.sleep(0.2)
    assert inside.received == []  # no connection was ever made


def _main_text(page: str) -> str:
    """The page's message without the reference (a fresh correlation id each time)."""
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    return re.sub(r"[0-9a-f]{32}", "REF", words)


def test_every_failed_connection_gets_the_same_words(
    sqlite_tool_factory: Any, inside: Recorder
) -> None:
    """Development allows loopback (the sandbox): a port that speaks no TLS and a closed
    port end on the same page, with no exception class in it."""
    app = sqlite_tool_factory(http_timeout_seconds=2).app
    pages = []
    for port in (inside.port, _closed_port()):
        status, text = _register(app, f"https://127.0.0.1:{port}/openid-configuration")
        assert status == 502, text
        assert "could not fetch the configuration from" in text
        assert not re.search(r"SSLError|ConnectionError|Timeout|Error\)", text)
        pages.append(_main_text(text).replace(str(port), "PORT"))
    assert pages[0] == pages[1]
