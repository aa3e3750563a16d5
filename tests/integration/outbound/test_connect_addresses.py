"""A host's addresses and the call's total deadline: a name listing many addresses that never
answer holds the call one deadline, not one per address, and only the first
``MAX_ADDRESSES_TRIED`` are tried."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from lti_tool.outbound.http import (
    MAX_ADDRESSES_TRIED,
    OutboundSession,
    OutboundTimeout,
    addresses_to_try,
)
from lti_tool.outbound.policy import OutboundPolicy
from tests.support.outage_servers import answer_ok

Listen = Callable[[str, int], int]


@pytest.fixture
def unanswered() -> Iterator[Listen]:
    """``unanswered(address, port)``: a listener on ``address`` whose accept queue is full, so
    a SYN to it is dropped and a connect hangs until its timeout, as to a black-holed public
    address; its port (a new one when ``port`` is 0)."""
    sockets: list[socket.socket] = []

    def start(address: str, port: int) -> int:
        server = socket.socket()
        server.bind((address, port))
        server.listen(0)
        sockets.append(server)
        port = server.getsockname()[1]
        for _ in range(4):  # fill the accept queue (never accepted)
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect((address, port))
            except BlockingIOError:
                pass
            sockets.append(filler)
        time.sleep(0.2)
        return port

    yield start
    for sock in sockets:
        sock.close()


@pytest.fixture
def answering() -> Iterator[Listen]:
    """``answering(address, port)``: an HTTP server on ``address`` that answers 200 "ok"."""
    servers: list[socket.socket] = []

    def start(address: str, port: int) -> int:
        server = socket.socket()
        server.bind((address, port))
        server.listen(16)
        servers.append(server)

        answer_ok(server)
        return int(server.getsockname()[1])

    yield start
    for server in servers:
        server.close()


def _session(addresses: list[str], timeout: float) -> OutboundSession:
    """A session on which every host name resolves to ``addresses`` (IPv4, in that order)."""

    def resolve(host: str, port: int, *args: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    policy = OutboundPolicy(development=True, allow_loopback=True, resolver=resolve)
    return OutboundSession(policy, timeout=timeout)


def test_a_host_with_many_dead_addresses_cannot_hold_the_call_past_its_deadline(
    unanswered: Listen,
) -> None:
    """A name (e.g. an openid_configuration host given to /lti/register) resolving to six
    addresses that never answer holds the call one deadline, not six."""
    port = unanswered("0.0.0.0", 0)
    session = _session([f"127.0.0.{n}" for n in range(2, 8)], timeout=1.0)
    started = time.monotonic()
    with pytest.raises(OutboundTimeout):
        session.get(f"http://many.example:{port}/.well-known/openid-configuration")
    assert time.monotonic() - started < 2.0


def test_a_dead_first_address_leaves_time_for_the_next(
    unanswered: Listen, answering: Listen
) -> None:
    """As with a broken IPv6 route: the first address takes its share of the call, not all
    of it, and the second still answers within the deadline."""
    port = unanswered("127.0.0.2", 0)
    answering("127.0.0.3", port)
    session = _session(["127.0.0.2", "127.0.0.3"], timeout=2.0)
    started = time.monotonic()
    assert session.get(f"http://two.example:{port}/").text == "ok"
    assert time.monotonic() - started < 2.0


def test_only_the_first_addresses_are_tried(answering: Listen) -> None:
    """Six addresses that refuse at once but the last: the call stops after the first four."""
    addresses = [f"127.0.0.{n}" for n in range(2, 8)]
    port = answering(addresses[MAX_ADDRESSES_TRIED - 1], 0)
    assert _session(addresses, timeout=2.0).get(f"http://six.example:{port}/").text == "ok"
    port = answering(addresses[MAX_ADDRESSES_TRIED], 0)
    with pytest.raises(requests.ConnectionError):
        _session(addresses, timeout=2.0).get(f"http://six.example:{port}/")


def test_the_addresses_tried_take_the_families_in_turn() -> None:
    """A host listing many IPv6 addresses first is still tried on IPv4 within the cap."""
    six = [(int(socket.AF_INET6), (f"2001:db8::{n}", 443, 0, 0)) for n in range(1, 7)]
    four = [(int(socket.AF_INET), ("192.0.2.1", 443))]
    tried = addresses_to_try(six + four)
    assert len(tried) == MAX_ADDRESSES_TRIED
    assert [family for family, _ in tried[:2]] == [socket.AF_INET6, socket.AF_INET]
