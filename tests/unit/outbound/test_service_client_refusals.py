"""The LTI service client takes the outbound policy's refusal as final: the same URL would be
refused on every try, so it is neither tried again nor waited for (outside review)."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from urllib3.util import connection as urllib3_connection

from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.lti.service_errors import ServiceCallFailed, ServiceUrlRefused
from lti_tool.outbound.http import OutboundSession
from lti_tool.outbound.policy import OutboundPolicy
from lti_tool.outbound.retry import Backoff, RetryRule

RETRIES = 3


def _connector(policy: OutboundPolicy, wait: float) -> ToolServiceConnector:
    """A connector whose ``_send`` retries ``RETRIES`` times, ``wait`` seconds apart."""
    connector = ToolServiceConnector.__new__(ToolServiceConnector)
    connector._http = OutboundSession(policy, timeout=1.0)
    connector._backoff = Backoff(retries=RETRIES, base=wait, cap=wait)
    connector._retry = RetryRule(retries=RETRIES, max_wait_seconds=wait)
    return connector


def _resolving_to(address: str, asked: list[str]) -> Any:
    def resolve(host: str, port: int, *args: Any) -> list[Any]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return resolve


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://lms.example/api/lti/courses/1/line_items", "private_address"),
        ("http://lms.example/api/lti/courses/1/line_items", "insecure_url"),
    ],
)
def test_a_url_the_policy_refuses_is_not_tried_again(url: str, code: str) -> None:
    asked: list[str] = []
    connector = _connector(OutboundPolicy(resolver=_resolving_to("10.0.0.7", asked)), wait=0.5)
    started = time.monotonic()
    with pytest.raises(ServiceUrlRefused) as refused:
        connector._send("GET", url)
    assert time.monotonic() - started < 0.25  # no backoff waited
    assert refused.value.code == code
    assert not refused.value.retryable
    assert len(asked) <= 1  # looked up (and refused) once, never again


def test_a_network_failure_is_still_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    connected: list[tuple[str, int]] = []

    def refused(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connected.append(address)
        raise ConnectionRefusedError("the test has no network")

    monkeypatch.setattr(urllib3_connection, "create_connection", refused)
    policy = OutboundPolicy(resolver=_resolving_to("93.184.216.34", []))
    with pytest.raises(ServiceCallFailed) as failed:
        _connector(policy, wait=0.01)._send("GET", "https://lms.example/api/lti/x")
    assert failed.value.retryable
    assert len(connected) == RETRIES + 1
