"""Where a platform's LTI service URLs may point: the registration's own hosts.

NRPS, AGS and Course Groups URLs arrive in launch claims; the tool then sends them the
platform's access token and shows staff what they answered. A URL elsewhere is refused with
``foreign_service_url``: the hosts of the registration's issuer, login, token and key set URLs
(and audience) are the platform's; Canvas cloud (one issuer for every institution) serves its
APIs on the institution's ``*.instructure.com`` host, which is allowed for Canvas registrations;
an operator may add hosts with ``outbound_allowed_hosts`` (e.g. a Canvas custom domain).

The host checked must be the host requests connects to: URLs are read with ``urls.py``, so
``https://attacker.example\\.instructure.com/`` (urlsplit: a Canvas host; requests:
attacker.example) names no host and is refused, as are ``@``, white space and control
characters in the address.
"""

from __future__ import annotations

from pylti1p3.registration import Registration as PyltiRegistration

from lti_tool.urls import split_web_url, web_host

CANVAS_CLOUD_SUFFIXES = (".instructure.com", ".canvaslms.com")


def registration_hosts(
    registration: PyltiRegistration, *, kind: str, extra: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Host names the registration's own URLs name (lower case), plus ``extra``; Canvas
    registrations also match Canvas cloud hosts (see ``host_allowed``)."""
    urls = [
        registration.get_issuer(),
        registration.get_auth_login_url(),
        registration.get_auth_token_url(),
        registration.get_key_set_url(),
        registration.get_auth_audience(),
    ]
    hosts = {_host(str(u)) for u in urls if u}
    hosts |= {h.lower().rstrip(".") for h in extra}
    if kind == "canvas" and any(h.endswith(CANVAS_CLOUD_SUFFIXES) for h in hosts):
        hosts |= {"*" + s for s in CANVAS_CLOUD_SUFFIXES}
    hosts.discard("")
    return frozenset(hosts)


def host_allowed(host: str, hosts: frozenset[str]) -> bool:
    """Whether ``host`` is one of ``hosts`` (``*.suffix`` entries match subdomains)."""
    host = host.lower().rstrip(".")
    if host in hosts:
        return True
    return any(h.startswith("*.") and host.endswith(h[1:]) for h in hosts)


def service_url_refusal(url: str, hosts: frozenset[str]) -> str | None:
    """Why ``url`` may not be called with the platform's token, or None when it is on one
    of ``hosts`` (the scheme and address are the outbound policy's call)."""
    host = _host(url)
    if host and host_allowed(host, hosts):
        return None
    shown = url.split("?", 1)[0][:120]
    return (
        f"The platform's service address {shown!r} is not on the platform's own host "
        f"({', '.join(sorted(hosts))}); the tool does not call it."
    )


def _host(url: str) -> str:
    """The host requests would connect to (an international name in its ASCII form), or ""
    when the two parsers could read ``url`` differently."""
    parts = split_web_url(url)
    host = web_host(parts) if parts is not None else None
    return (host or "").strip("[]").rstrip(".")
