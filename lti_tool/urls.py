"""Web addresses from someone else's word, read without surprises.

``urllib.parse.urlsplit`` raises ``ValueError`` on an unclosed IPv6 bracket, and reading
``.port`` raises on a port that is not a number from 0 to 65535; ``netloc`` keeps whatever
characters it was given (``;`` and spaces included). Every address that reaches a form, a
registration or a header is read here first: an address that is not a usable http(s) URL is
``None``, never an exception, and an origin is built from the parsed host and port only, so
nothing else can ride along into a ``Content-Security-Policy`` or a comparison.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

# A DNS name (letters, digits, hyphens, dots; underscores as some intranets have them) or an
# IP literal (hostname gives an IPv6 literal without its brackets).
_DNS_NAME = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?")
_IP_LITERAL = re.compile(r"[0-9a-f:.]+(%[a-z0-9_.-]+)?")


def split_web_url(url: str) -> SplitResult | None:
    """``url`` split, when it is an absolute http(s) URL with a usable host and port (1 to
    65535 when given); ``None`` otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
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
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if ":" in host:
        return f"[{host}]" if _IP_LITERAL.fullmatch(host) else None
    return host if _DNS_NAME.fullmatch(host) else None


def web_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, rebuilt from its parsed parts; ``None``
    when ``url`` is not one."""
    parts = split_web_url(url)
    if parts is None:
        return None
    host = web_host(parts)
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme.lower()}://{host}{port}"
