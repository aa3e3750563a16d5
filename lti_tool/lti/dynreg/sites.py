"""LTI Dynamic Registration, where a platform's configuration may point.

Anyone can open ``/lti/register`` with a configuration of their own making, and what it names
is trusted afterwards: launches are verified with the keys at its ``jwks_uri``, the tool signs
client assertions for the client_id the answer gives and sends them to its
``token_endpoint``, and a launch's service URLs may name these endpoints' hosts
(``lti/service_hosts.py``). A configuration naming another platform's token endpoint, with that
platform's client_id in its answer, made the tool act as the other platform's client. So:

- the issuer is a prefix of the configuration URL (Dynamic Registration 1.0 section 3.5.1:
  same scheme, host and port, and the configuration's path starts with the issuer's);
- the authorization, token and JWKS endpoints are on the configuration's site (scheme, host
  and port), as the registration endpoint already had to be (``configuration.py``).

Canvas cloud is the one exception, as Instructure runs it: one issuer for every institution
(``https://canvas.instructure.com``, its test and beta twins), sign-in, tokens and keys on
``sso.canvaslms.com`` (or on the issuer's host, as older Canvas said), the configuration on the
institution's ``*.instructure.com`` host or on its own domain (``canvas.example.ac.uk``).
A configuration from any https site may name Canvas cloud's issuer when every endpoint it
names is one of Canvas cloud's fixed hosts: its launches are then verified with Instructure's
keys only, so whoever wrote it cannot sign one, and its token requests go to Instructure for a
client that Instructure's launches name. Mixing is allowed only when the configuration URL
itself is on ``*.instructure.com`` or ``*.canvaslms.com``, names only Instructure serves; in
development also on a loopback address, where the sandbox's Canvas-like fake
(``sandbox/dynreg_canvas.py``) stands in for an institution's Canvas.
"""

from __future__ import annotations

from lti_tool.lti.platform_spec import is_loopback_host
from lti_tool.urls import split_web_url, web_host

# Canvas cloud's sites, as the admin page's Canvas preset names them (admin/platform_form.py).
CANVAS_CLOUD_ISSUERS = frozenset(
    {
        "https://canvas.instructure.com",
        "https://canvas.test.instructure.com",
        "https://canvas.beta.instructure.com",
    }
)
CANVAS_CLOUD_HOSTS = frozenset(
    {"sso.canvaslms.com", "sso.test.canvaslms.com", "sso.beta.canvaslms.com"}
    | {issuer.removeprefix("https://") for issuer in CANVAS_CLOUD_ISSUERS}
)
CANVAS_CLOUD_SUFFIXES = (".instructure.com", ".canvaslms.com")
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")

Site = tuple[str, str, int | None]


def site_of(url: str) -> Site | None:
    """Scheme, host and port (the scheme's default when none is written) of ``url``."""
    parts = split_web_url(url)
    if parts is None:
        return None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), web_host(parts) or "", parts.port or default


def _path(url: str) -> str:
    parts = split_web_url(url)
    return parts.path if parts is not None else ""


def issuer_prefixes(issuer: str, configuration_url: str) -> bool:
    """Whether ``configuration_url`` starts with ``issuer`` (section 3.5.1): the same site, and
    the issuer's path a whole-segment prefix of the configuration's path."""
    site = site_of(configuration_url)
    if site is None or site_of(issuer) != site:
        return False
    issuer_path = _path(issuer).rstrip("/")
    path = _path(configuration_url)
    return not issuer_path or path == issuer_path or path.startswith(issuer_path + "/")


def canvas_cloud_configuration(configuration_url: str, *, development: bool) -> bool:
    """Whether the configuration is served where Canvas cloud's fixed hosts may be named:
    an https ``*.instructure.com`` / ``*.canvaslms.com`` host (development: also loopback)."""
    site = site_of(configuration_url)
    if site is None:
        return False
    scheme, host, _ = site
    if scheme == "https" and host.endswith(CANVAS_CLOUD_SUFFIXES):
        return True
    return development and is_loopback_host(host.strip("[]"))


def _on_canvas_cloud(url: str) -> bool:
    site = site_of(url)
    return site is not None and site[0] == "https" and site[1] in CANVAS_CLOUD_HOSTS


def _shown(url: str) -> str:
    """``url`` without query or fragment (Canvas's registration token rides in the query)."""
    parts = split_web_url(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts is not None else url[:120]


def site_refusal(
    configuration_url: str,
    issuer: str,
    endpoints: dict[str, str],
    registration_endpoint: str,
    *,
    development: bool,
) -> tuple[str, str] | None:
    """Why the configuration may not be trusted, as (code, words), or None when its issuer
    and endpoints are the configuration site's own (Canvas cloud's fixed hosts aside)."""
    site = site_of(configuration_url)
    shown = _shown(configuration_url)
    if site is None or site_of(registration_endpoint) != site:
        # The registration token is sent there: an endpoint elsewhere would hand the token
        # (and the tool's registration) to whoever wrote the configuration.
        return (
            "foreign_registration_endpoint",
            f"The registration endpoint {_shown(registration_endpoint)!r} is not on the "
            f"configuration's site {shown!r}; the registration token is only sent back where "
            "it came from.",
        )
    if (
        site[0] == "https"
        and issuer.rstrip("/") in CANVAS_CLOUD_ISSUERS
        and all(_on_canvas_cloud(endpoints.get(field, "")) for field in ENDPOINTS)
    ):
        return None  # Canvas cloud on an institution's own domain: Instructure's hosts only
    canvas = canvas_cloud_configuration(configuration_url, development=development)
    if not issuer_prefixes(issuer, configuration_url) and not (
        canvas and issuer.rstrip("/") in CANVAS_CLOUD_ISSUERS
    ):
        return (
            "foreign_issuer",
            f"The platform's configuration at {shown!r} says it is {issuer!r}, but the "
            "configuration's address does not start with that platform's address. Dynamic "
            "Registration only registers a platform from its own site.",
        )
    for field in ENDPOINTS:
        url = endpoints[field]
        if site_of(url) != site and not (canvas and _on_canvas_cloud(url)):
            return (
                "foreign_endpoint",
                f"The platform's configuration at {shown!r} sends the tool to {_shown(url)!r}, "
                "which is not on the platform's own site. Dynamic Registration only trusts "
                "addresses on the site the configuration comes from; ask the administrator "
                "of this tool to add the platform instead.",
            )
    return None


def audience_refusal(
    value: object, configuration_url: str, issuer: str, token_endpoint: str
) -> tuple[str, str] | None:
    """Why the configuration's ``authorization_server`` (the ``aud`` of the tool's client
    assertions, Dynamic Registration 1.0 section 3.5.1) may not be used, or None. It must be
    the platform's own: the issuer itself, its token endpoint, or an address under the issuer
    (its site and path, as the configuration URL must be). Another platform's, even one on the
    same host under another path (two Moodle sites, ``/moodle`` and ``/moodle2``), would have
    the tool sign assertions meant for it and send them to this one, which could replay them."""
    shown = _shown(configuration_url)
    if not isinstance(value, str) or len(value) > 1024 or not value.isprintable():
        return (
            "bad_configuration",
            f"The platform's configuration at {shown!r} names an authorization server that is "
            "not a short line of text.",
        )
    if value.rstrip("/") in {issuer.rstrip("/"), token_endpoint.rstrip("/")} or (
        site_of(configuration_url) == site_of(value) and issuer_prefixes(issuer, value)
    ):
        return None
    return (
        "foreign_authorization_server",
        f"The platform's configuration at {shown!r} names the authorization server "
        f"{value[:120]!r}, which is not on the platform's own site. Dynamic Registration only "
        "trusts addresses on the site the configuration comes from; ask the administrator of "
        "this tool to add the platform instead.",
    )
