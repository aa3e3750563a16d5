"""Whether a Moodle web service belongs to the platform's own Moodle site.

Moodle numbers its users 2, 3, 4 … on every site, and the tool reads a student by the LTI
``sub``, which is their Moodle user id: a web service of another Moodle would read each student
as whoever has the same id there. Moodle's LTI issuer is its ``wwwroot``, and
``core_webservice_get_site_info`` answers the same ``wwwroot`` as ``siteurl``; the web-service
endpoint itself may be another address (an internal name for calls between servers), so the
site Moodle says it is, not the endpoint, is compared with the registration's issuer.
"""

from __future__ import annotations

from lti_tool.lms.moodle.parsing import SiteInfo
from lti_tool.lms.source import SourceConfigError
from lti_tool.urls import split_web_url, web_host

_DEFAULT_PORTS = {"http": 80, "https": 443}


class ForeignMoodleSite(SourceConfigError):
    """The web service answers for another Moodle site than the platform's; the message says
    so in words for an LMS admin, naming both sites."""

    def __init__(self, message: str, *, site: str, platform: str) -> None:
        super().__init__(message)
        self.site = site
        self.platform = platform


def site_key(url: str) -> tuple[str, str, int, str] | None:
    """``url`` as a site is compared: scheme and host in lower case, the port (the scheme's
    default when none is given), the path without a trailing slash (Moodle may live under a
    path, such as https://example.ac.uk/moodle); ``None`` when ``url`` is no site address."""
    parts = split_web_url(url)
    if parts is None or parts.query or parts.fragment:
        return None
    scheme = parts.scheme.lower()
    host = web_host(parts)
    if host is None:
        return None
    port = parts.port if parts.port is not None else _DEFAULT_PORTS[scheme]
    return scheme, host, port, parts.path.rstrip("/")


def same_site(one: str, other: str) -> bool:
    """Whether two addresses name the same site (see ``site_key``)."""
    key = site_key(one)
    return key is not None and key == site_key(other)


def foreign_site(info: SiteInfo, issuer: str) -> ForeignMoodleSite | None:
    """Why the web service whose site info is ``info`` is not the platform's own Moodle
    (``issuer``), or ``None`` when it is."""
    if same_site(info.site_url, issuer):
        return None
    site = info.site_url.strip()
    if site_key(site) is None:
        message = (
            "This Moodle web service does not give a usable address for its site, so the tool "
            f"cannot tell that it is this platform's ({issuer}). Use the web service of the "
            "platform's own Moodle site."
        )
        site = ""
    else:
        message = (
            f"This Moodle web service belongs to {site}, but this platform is {issuer}. "
            "Use the web service of the platform's own Moodle site."
        )
    return ForeignMoodleSite(message, site=site, platform=issuer)
