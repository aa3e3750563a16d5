"""Where the tool calls a Moodle site's web services, from what an administrator gives: the
site address (``https://moodle.example.ac.uk``, or with a sub-path such as
``https://example.ac.uk/moodle/``) or the full ``…/webservice/rest/server.php`` endpoint.
Any other page of the site (``…/login/index.php``, ``…/my/``) is refused with words saying
what to give instead."""

from __future__ import annotations

from urllib.parse import urlunsplit

from lti_tool.urls import split_web_url

REST_PATH = "/webservice/rest/server.php"
# Moodle's own top-level folders: a path through one of them is a page, not the site root.
_MOODLE_FOLDERS = frozenset(
    {
        "admin",
        "auth",
        "blocks",
        "calendar",
        "course",
        "enrol",
        "grade",
        "lib",
        "local",
        "login",
        "message",
        "mod",
        "my",
        "theme",
        "user",
        "webservice",
    }
)


class NotAMoodleAddress(ValueError):
    """The URL is neither a Moodle site address nor its REST endpoint; ``str()`` says why."""


def moodle_site_root(url: str) -> str:
    """The site address (Moodle's ``wwwroot``: no trailing slash) of the site at ``url``, its
    address or its REST endpoint; ``NotAMoodleAddress`` for another page of the site. The
    site address is also the site's LTI issuer."""
    text = url.strip()
    parts = split_web_url(text)
    if parts is None:
        raise NotAMoodleAddress(
            f"{text} is not a web address: give the Moodle site's address (for example "
            "https://moodle.example.ac.uk)"
        )
    if parts.query or parts.fragment:
        raise NotAMoodleAddress(
            "give the Moodle site's address without anything after a question mark or a # sign "
            "(for example https://moodle.example.ac.uk)"
        )
    path = parts.path.rstrip("/")
    if path.endswith(REST_PATH):
        return urlunsplit((parts.scheme, parts.netloc, path[: -len(REST_PATH)], "", ""))
    segments = [s for s in path.split("/") if s]
    if any("." in s or s.lower() in _MOODLE_FOLDERS for s in segments):
        raise NotAMoodleAddress(
            f"{text} is a page of the site, not its address: give the site's address (the "
            "start of its pages, for example https://moodle.example.ac.uk or "
            "https://example.ac.uk/moodle) or its …/webservice/rest/server.php endpoint"
        )
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def moodle_rest_endpoint(url: str) -> str:
    """The ``…/webservice/rest/server.php`` endpoint of the site at ``url`` (its address or
    the endpoint itself); ``NotAMoodleAddress`` for another page of the site."""
    return moodle_site_root(url) + REST_PATH
