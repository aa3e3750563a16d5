"""The one outbound-URL policy: which URLs the tool may fetch on someone else's word, and which
addresses it may connect to.

A URL passes ``check_url`` (scheme, no credentials). The host is then resolved once, at connect
time, with ``getaddrinfo``; every address it resolves to must be public (not loopback, private,
link-local, multicast, unspecified, reserved, shared or an IPv4 address wrapped in IPv6), and
the connection is made to the checked address itself (``http.py`` pins it), so a name that
resolves to a public address when checked and to a private one a moment later (DNS rebinding)
cannot slip through. Odd spellings of loopback (``127.1``, ``2130706433``, ``0x7f000001``,
``0177.0.0.1``) are caught because the resolver turns them into ``127.0.0.1`` before the check.

Two deliberate exceptions, both settings: ``outbound_allowed_hosts`` (hosts or networks an
operator allows, e.g. an on-premises Moodle on a private network) and, in development only,
``outbound_allow_loopback`` (the sandbox LMS and the test fakes run on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# getaddrinfo's shape: (family, type, proto, canonname, sockaddr)
Resolver = Callable[..., Sequence[tuple[object, object, object, object, tuple[object, ...]]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefused(requests.exceptions.InvalidURL):
    """The policy refused a URL or every address it resolves to. A ``requests`` exception, so
    every caller that already handles a failed call handles this one; ``code`` and
    ``message`` are for the page or the log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OutboundPolicy:
    """What the tool may fetch. ``development`` allows plain http; ``allow_loopback`` (only
    honoured in development) allows loopback addresses; ``allowed`` are operator-allowed
    host names and networks."""

    development: bool = False
    allow_loopback: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=socket.getaddrinfo, compare=False, repr=False)

    @classmethod
    def from_settings(
        cls, *, development: bool, allow_loopback: bool, allowed_hosts: str
    ) -> OutboundPolicy:
        """Build the policy from the settings' values (``allowed_hosts`` comma or space
        separated: host names, addresses or networks such as ``10.0.4.0/24``)."""
        names, networks = parse_allowed_hosts(allowed_hosts)
        return cls(
            development=development,
            allow_loopback=development and allow_loopback,
            allowed_hosts=names,
            allowed_networks=networks,
        )

    def check_url(self, url: str) -> str:
        """The URL if its form is acceptable: http(s) with a host, https outside development,
        no user name or password and no backslash before the path. Addresses are checked
        when connecting."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as exc:
            raise OutboundRefused("bad_url", f"{_shown(url)} is not a valid URL.") from exc
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise OutboundRefused("bad_url", f"{_shown(url)} is not an absolute http(s) URL.")
        if scheme == "http" and not self.development:
            raise OutboundRefused(
                "insecure_url", f"{_shown(url)} refused: outside development only https is used."
            )
        if parts.username or parts.password:
            raise OutboundRefused("bad_url", f"{_shown(url)} carries a user name or password.")
        if "\\" in parts.netloc:
            # urlsplit reads a backslash as part of the host, requests as the path's start.
            raise OutboundRefused("bad_url", f"{_shown(url)} has a backslash in its host.")
        return url

    def vetted_addresses(self, host: str, port: int) -> list[tuple[int, tuple[object, ...]]]:
        """Resolve ``host`` once and check every address; the (family, sockaddr) pairs to
        connect to, or ``OutboundRefused`` when any address is not allowed."""
        host = host.strip("[]").lower()
        try:
            found = self.resolver(host, port, 0, socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise OutboundRefused("unknown_host", f"The host {host!r} could not be found.") from exc
        vetted: list[tuple[int, tuple[object, ...]]] = []
        for family, _type, _proto, _name, sockaddr in found:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            refusal = self.refusal(host, address)
            if refusal:
                raise OutboundRefused(
                    "private_address",
                    f"The host {host!r} resolves to {address} ({refusal}); the tool does not "
                    "connect there. An operator can allow it with outbound_allowed_hosts.",
                )
            vetted.append((int(family), tuple(sockaddr)))  # type: ignore[call-overload]
        if not vetted:
            raise OutboundRefused("unknown_host", f"The host {host!r} has no address.")
        return vetted

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """Why ``address`` (reached through ``host``) is refused, or None when allowed."""
        if host in self.allowed_hosts or any(address in n for n in self.allowed_networks):
            return None
        reason = address_refusal(address)
        if reason == "loopback" and self.allow_loopback:
            return None
        return reason


def address_refusal(address: IPAddress) -> str | None:
    """Why an address is not a public one, or None. IPv6 forms that carry an IPv4 address
    (mapped, NAT64, 6to4, Teredo) are judged by the IPv4 address too."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        embedded = [address.sixtofour, address.teredo[1] if address.teredo else None]
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        for inner in embedded:
            if inner is not None and address_refusal(inner):
                return f"it carries {inner}, {address_refusal(inner)}"
    for label, test in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if test:
            return label
    if not address.is_global:
        return "not a public address"
    return None


def parse_allowed_hosts(value: str) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split the ``outbound_allowed_hosts`` setting into host names and networks."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for item in _items(value):
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            names.add(item.lower().rstrip("."))
    return frozenset(names), tuple(networks)


def _items(value: str) -> Iterable[str]:
    return (i for i in value.replace(",", " ").split() if i)


def _shown(url: str) -> str:
    """A URL for a message: no query (it may carry a token), cut short."""
    text = url.split("?", 1)[0].split("#", 1)[0]
    return repr(text if len(text) <= 120 else text[:119] + "…")
