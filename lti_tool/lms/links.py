"""Where a student does a CPD course: the address of its mapped LMS course or activity.

The address is built from the registration's completion source (Moodle: the site before
``/webservice/…``; Canvas: the API base) and the mapping's ids. It is shown as a link that
opens in the LMS's own window, so it is only ever an http(s) address on one of the
registration's own hosts (or the source's, which an administrator entered), with ids that are
plain numbers: a mapping or source that does not fit gives no link rather than a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from lti_tool.lti.service_hosts import CANVAS_CLOUD_SUFFIXES, host_allowed
from lti_tool.urls import origin_of, split_web_url

MOODLE_WS_PATH = "/webservice/rest/server.php"
# Moodle's module names are plugin directory names ("assign", "quiz", "url"…).
_MODNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
LMS_NAMES = {"moodle": "Moodle", "canvas": "Canvas"}


@dataclass(frozen=True)
class CourseLink:
    """A link to a CPD course in the LMS: its address and the LMS's name for the label."""

    url: str
    lms: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"url": self.url, "lms": self.lms}


def allowed_link_hosts(
    registration_urls: list[str | None], source_kind: str, endpoint_url: str | None
) -> frozenset[str]:
    """The hosts a course link may name: those of the registration's own URLs (issuer, login,
    token, key set, audience) and of the completion source's endpoint; Canvas cloud
    registrations also allow the institutions' ``*.instructure.com`` hosts."""
    hosts = {_host(u) for u in [*registration_urls, endpoint_url] if u}
    if source_kind == "canvas" and any(h.endswith(CANVAS_CLOUD_SUFFIXES) for h in hosts):
        hosts |= {"*" + suffix for suffix in CANVAS_CLOUD_SUFFIXES}
    hosts.discard("")
    return frozenset(hosts)


def course_link(
    source_kind: str,
    endpoint_url: str | None,
    course_id: str,
    activity_id: str | None,
    allowed_hosts: frozenset[str],
    modname: str | None = None,
) -> CourseLink | None:
    """The address of a mapped CPD course in Moodle or Canvas, or None when the tool cannot
    build a safe one (AGS and manual sources, a missing or odd endpoint, non-numeric ids, a
    host that is not the registration's).

    Moodle: ``{site}/course/view.php?id={course}``; an activity (``activity_id`` is its cmid)
    ``{site}/mod/{modname}/view.php?id={cmid}`` when ``modname`` is known, else the course
    page at the activity (``#module-{cmid}``, the id Moodle's course page gives it).
    Canvas: ``{base}/courses/{course}``; a module ``…/modules#context_module_{module}``.
    """
    if source_kind not in LMS_NAMES or not endpoint_url:
        return None
    base = _site(source_kind, endpoint_url)
    course = lms_id(course_id)
    activity = lms_id(activity_id) if activity_id else None
    if base is None or course is None or (activity_id and activity is None):
        return None
    if source_kind == "moodle":
        if activity is None:
            url = f"{base}/course/view.php?id={course}"
        elif modname and set(modname) <= _MODNAME_CHARS:
            url = f"{base}/mod/{quote(modname)}/view.php?id={activity}"
        else:
            url = f"{base}/course/view.php?id={course}#module-{activity}"
    elif activity is None:
        url = f"{base}/courses/{course}"
    else:
        url = f"{base}/courses/{course}/modules#context_module_{activity}"
    if not host_allowed(_host(url), allowed_hosts):
        return None
    return CourseLink(url, LMS_NAMES[source_kind])


def _site(source_kind: str, endpoint_url: str) -> str | None:
    """The site's base address: Moodle's before ``/webservice``, Canvas's API base as it is
    (stripped of ``/api/v1`` if an administrator wrote it in)."""
    parts = split_web_url(endpoint_url)
    if parts is None or parts.query or parts.fragment:
        return None
    path = parts.path.rstrip("/")
    if source_kind == "moodle":
        if not path.endswith(MOODLE_WS_PATH):
            return None
        path = path.removesuffix(MOODLE_WS_PATH)
    else:
        path = path.removesuffix("/api/v1")
    return f"{origin_of(parts)}{quote(path)}"


def lms_id(value: str | None) -> str | None:
    """An LMS course, activity or module id: ASCII digits only (``"²".isdigit()`` is true,
    but no id), else None."""
    text = (value or "").strip()
    return text if text.isascii() and text.isdigit() else None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
