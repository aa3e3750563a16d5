"""Web addresses from someone else's word, read without surprises.

``urllib.parse.urlsplit`` raises ``ValueError`` on an unclosed IPv6 bracket, and reading
``.port`` raises on a port that is not a number from 0 to 65535; ``netloc`` keeps whatever
characters it was given (``;`` and spaces included). Every address that reaches a form, a
registration or a header is read here first: an address that is not a usable http(s) URL is
``None``, never an exception, and an origin is built from the parsed host and port only, so
nothing else can ride along into a ``Content-Security-Policy`` or a comparison.

The host read here must be the host requests connects to, or an origin check (the stored
token goes only where it went before) checks one host and sends to another. So what the two
parsers read differently is refused: a ``\\`` or ``@`` before the path
(``https://evil.example\\@lms.example``: urlsplit reads lms.example, urllib3 evil.example;
user names in a platform's address have no use here), white space or control characters
anywhere, and an international name is written the way requests writes it (IDNA 2008 with
UTS 46, the ``idna`` package: ``faß`` stays ``xn--fa-hia``, where Python's codec gives
``fass``).
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

import idna

# A DNS name (letters, digits, hyphens, dots; underscores as some intranets have them) or an
# IP literal (hostname gives an IPv6 literal without its brackets).
_DNS_NAME = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?")
_IP_LITERAL = re.compile(r"[0-9a-f:.]+(%[a-z0-9_.-]+)?")


def split_web_url(url: str) -> SplitResult | None:
    """``url`` split, when it is an absolute http(s) URL with a usable host and port (1 to
    65535 when given); ``None`` otherwise."""
    text = url.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if "@" in parts.netloc or "\\" in parts.netloc:
        return None
    if parts.scheme.lower() not in {"http", "https"} or port == 0:
        return None
    if web_host(parts) is None:
        return None
    return parts


def web_host(parts: SplitResult) -> str | None:
    """The host of ``parts`` in the form a header may carry it (lower case, an international
    name in its ASCII form, an IPv6 literal in brackets), or ``None`` when it is not a host."""
    host = parts.hostname or ""
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    if ":" in host:
        return f"[{host}]" if _IP_LITERAL.fullmatch(host) else None
    return host if _DNS_NAME.fullmatch(host) else None


def web_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, rebuilt from its parsed parts; ``None``
    when ``url`` is not one."""
    parts = split_web_url(url)
    return None if parts is None else origin_of(parts)


def origin_of(parts: SplitResult) -> str:
    """``scheme://host[:port]`` of parts ``split_web_url`` gave."""
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme.lower()}://{web_host(parts)}{port}"
