"""A host's vetted addresses are kept a few seconds for new connections (a class refresh
against an LMS that closes every connection would otherwise look the host up per call): the
connection still goes to the address that was checked, and a refusal is never kept."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
from urllib3.util import connection as urllib3_connection

from lti_tool.outbound import http as outbound_http
from lti_tool.outbound.http import OutboundSession
from lti_tool.outbound.policy import OutboundPolicy, OutboundRefused


def _answering(addresses: list[str], resolved: list[str]) -> Any:
    answers = iter(addresses)

    def resolve(host: str, port: int, *args: Any) -> list[Any]:
        address = next(answers)
        resolved.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return resolve


@pytest.fixture
def connected(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []

    def no_network(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        seen.append(address)
        raise ConnectionRefusedError("the test has no network")

    monkeypatch.setattr(urllib3_connection, "create_connection", no_network)
    return seen


def _get(session: OutboundSession, url: str) -> None:
    with pytest.raises(requests.ConnectionError):
        session.get(url)


def test_a_vetted_answer_serves_the_next_connections(connected: list[tuple[str, int]]) -> None:
    resolved: list[str] = []
    resolver = _answering(["93.184.216.34", "127.0.0.1"], resolved)
    session = OutboundSession(OutboundPolicy(development=True, resolver=resolver), timeout=1.0)
    _get(session, "http://kept.example:8080/a")
    _get(session, "http://kept.example:8080/b")
    assert resolved == ["93.184.216.34"]  # the later loopback answer is never asked for
    assert connected == [("93.184.216.34", 8080)] * 2


def test_a_refusal_is_not_kept(connected: list[tuple[str, int]]) -> None:
    resolved: list[str] = []
    resolver = _answering(["10.0.0.7", "93.184.216.34"], resolved)
    session = OutboundSession(OutboundPolicy(development=True, resolver=resolver), timeout=1.0)
    with pytest.raises(OutboundRefused):
        session.get("http://refused.example:8080/")
    _get(session, "http://refused.example:8080/")
    assert resolved == ["10.0.0.7", "93.184.216.34"]
    assert connected == [("93.184.216.34", 8080)]


def test_a_kept_answer_expires(
    connected: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbound_http, "VETTED_SECONDS", 0.0)
    resolved: list[str] = []
    resolver = _answering(["93.184.216.34", "10.0.0.8"], resolved)
    session = OutboundSession(OutboundPolicy(development=True, resolver=resolver), timeout=1.0)
    _get(session, "http://expiring.example:8080/")
    with pytest.raises(OutboundRefused):  # looked up again, and checked again
        session.get("http://expiring.example:8080/")
    assert resolved == ["93.184.216.34", "10.0.0.8"]


def test_another_policy_does_not_use_what_one_policy_vetted(
    connected: list[tuple[str, int]],
) -> None:
    lenient = OutboundPolicy(
        development=True,
        allowed_hosts=frozenset({"shared.example"}),
        resolver=lambda host, port, *a: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.9", port))
        ],
    )
    _get(OutboundSession(lenient, timeout=1.0), "http://shared.example:8080/")
    strict = OutboundPolicy(development=True, resolver=lenient.resolver)
    with pytest.raises(OutboundRefused):
        OutboundSession(strict, timeout=1.0).get("http://shared.example:8080/")
    assert connected == [("10.0.0.9", 8080)]
