"""The outbound-URL policy against the addresses an attacker would use (issue 10, item 2)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from urllib3.util import connection as urllib3_connection

from lti_tool.outbound.http import OutboundSession
from lti_tool.outbound.policy import OutboundPolicy, OutboundRefused, address_refusal
from tests.support.outage_servers import answer_ok

PRODUCTION = OutboundPolicy()


@pytest.mark.parametrize(
    "host", ["127.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.0.0.1", "localhost", "[::1]"]
)
def test_every_spelling_of_loopback_is_refused(host: str) -> None:
    # The real resolver turns each odd form into 127.0.0.1 (or ::1) before the check.
    with pytest.raises(OutboundRefused) as refused:
        PRODUCTION.vetted_addresses(host, 443)
    assert refused.value.code == "private_address"


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped IPv6
        "::ffff:93.184.216.34",  # mapped, even when the IPv4 address is public
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    ],
)
def test_private_and_special_addresses_are_refused(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is not None
    policy = OutboundPolicy(resolver=_resolving_to(address))
    with pytest.raises(OutboundRefused):
        policy.vetted_addresses("platform.example", 443)


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    policy = OutboundPolicy(resolver=_resolving_to("93.184.216.34", "10.0.0.7"))
    with pytest.raises(OutboundRefused, match=r"10\.0\.0\.7"):
        policy.vetted_addresses("platform.example", 443)


def test_public_addresses_pass() -> None:
    policy = OutboundPolicy(resolver=_resolving_to("93.184.216.34", "2606:2800:220:1::1"))
    found = policy.vetted_addresses("platform.example", 443)
    assert [a[1][0] for a in found] == ["93.184.216.34", "2606:2800:220:1::1"]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://moodle.example.ac.uk/", "insecure_url"),
        ("https://user:pw@moodle.example.ac.uk/", "bad_url"),
        ("file:///etc/passwd", "bad_url"),
        ("gopher://moodle.example.ac.uk/", "bad_url"),
        ("https:///nohost", "bad_url"),
        ("https://moodle.example.ac.uk:99999/", "bad_url"),
        # urlsplit reads a backslash as part of the host, requests as the path's start.
        ("https://attacker.example\\.moodle.example.ac.uk/", "bad_url"),
        ("https://attacker.example\\/moodle.example.ac.uk/", "bad_url"),
    ],
)
def test_urls_of_the_wrong_form_are_refused(url: str, code: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        PRODUCTION.check_url(url)
    assert refused.value.code == code


def test_plain_http_only_in_development() -> None:
    OutboundPolicy(development=True).check_url("http://127.0.0.1:5001/jwks")


def test_loopback_only_with_the_development_setting() -> None:
    allowed = OutboundPolicy.from_settings(development=True, allow_loopback=True, allowed_hosts="")
    assert allowed.vetted_addresses("127.0.0.1", 80)
    # The same setting in production is ignored here (and refused by load_settings).
    ignored = OutboundPolicy.from_settings(development=False, allow_loopback=True, allowed_hosts="")
    with pytest.raises(OutboundRefused):
        ignored.vetted_addresses("127.0.0.1", 80)
    # Loopback allowed does not open the private network.
    with pytest.raises(OutboundRefused):
        OutboundPolicy(
            development=True, allow_loopback=True, resolver=_resolving_to("10.0.0.2")
        ).vetted_addresses("lms.internal", 443)


def test_operator_allowed_hosts_and_networks() -> None:
    policy = OutboundPolicy.from_settings(
        development=False, allow_loopback=False, allowed_hosts="Moodle.Internal, 10.0.4.0/24"
    )
    by_name = OutboundPolicy(
        allowed_hosts=policy.allowed_hosts, resolver=_resolving_to("192.168.9.9")
    )
    assert by_name.vetted_addresses("moodle.internal", 443)
    in_network = OutboundPolicy(
        allowed_networks=policy.allowed_networks, resolver=_resolving_to("10.0.4.20")
    )
    assert in_network.vetted_addresses("canvas.internal", 443)
    with pytest.raises(OutboundRefused):
        OutboundPolicy(
            allowed_networks=policy.allowed_networks, resolver=_resolving_to("10.0.5.1")
        ).vetted_addresses("other.internal", 443)


# -- DNS rebinding: the connection goes to the address that was checked ------------------------


@pytest.fixture
def loopback_server() -> Iterator[tuple[int, list[bytes]]]:
    """A plain HTTP server on 127.0.0.1 that records what it was sent."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    seen: list[bytes] = []

    answer_ok(server, seen)
    yield server.getsockname()[1], seen
    server.close()


def test_rebinding_public_then_loopback_never_reaches_loopback(
    loopback_server: tuple[int, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resolver answers a public address first and loopback afterwards (a rebinding
    attacker's DNS). The session resolves once, checks that answer and connects to that very
    address; the later loopback answer is never used, so the loopback server sees nothing."""
    port, seen = loopback_server
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1", "127.0.0.1"])
    resolved: list[str] = []
    connected: list[tuple[str, int]] = []

    def rebinding(host: str, *args: Any) -> list[Any]:
        address = next(answers)
        resolved.append(address)
        return _resolving_to(address)(host, *args)

    def no_network(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connected.append(address)
        raise ConnectionRefusedError("the test has no network")

    monkeypatch.setattr(urllib3_connection, "create_connection", no_network)
    session = OutboundSession(OutboundPolicy(development=True, resolver=rebinding), timeout=1.0)
    with pytest.raises(requests.ConnectionError):
        session.get(f"http://rebind.example:{port}/")
    assert resolved == ["93.184.216.34"]  # resolved once, by the policy
    assert connected == [("93.184.216.34", port)]  # and connected to what it checked
    assert seen == []


def test_rebinding_loopback_first_is_refused(loopback_server: tuple[int, list[bytes]]) -> None:
    port, seen = loopback_server
    policy = OutboundPolicy(development=True, resolver=_resolving_to("127.0.0.1"))
    with pytest.raises(OutboundRefused) as refused:
        OutboundSession(policy, timeout=1.0).get(f"http://rebind.example:{port}/")
    assert refused.value.code == "private_address"
    assert seen == []


def test_an_allowed_host_is_reached_at_the_vetted_address_with_its_own_name(
    loopback_server: tuple[int, list[bytes]],
) -> None:
    port, seen = loopback_server
    policy = OutboundPolicy(
        development=True,
        allowed_hosts=frozenset({"lms.internal"}),
        resolver=_resolving_to("127.0.0.1"),
    )
    answer = OutboundSession(policy, timeout=2.0).get(f"http://lms.internal:{port}/x")
    assert answer.status_code == 200 and answer.content == b"ok"
    assert b"Host: lms.internal:" in seen[0]  # the name kept, the address pinned


def _resolving_to(*addresses: str) -> Any:
    def resolve(host: str, port: int, *args: Any) -> list[Any]:
        found: list[Any] = []
        for address in addresses:
            if ":" in address:
                found.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                found.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return found

    return resolve
