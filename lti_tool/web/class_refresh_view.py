"""What the class view shows of the class completion refresh: its progress, and per student
"not read yet" or "as of <time>" (a student never read is not a student with zero hours)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from lti_tool.completion.class_progress import progress_of
from lti_tool.container import Services
from lti_tool.lti.launch_context import Launch
from lti_tool.persistence.models import CompletionSourceConfig
from lti_tool.rules.dates import in_words


def refresh_view(services: Services, launch: Launch) -> dict[str, Any]:
    """The template's ``refresh`` (progress or None), ``reads_lms`` and ``as_of``."""
    tz = ZoneInfo(services.settings.timezone)
    reads_lms = services.registry_cache.has_completion_source(launch.registration.pk)
    progress = progress_of(services, launch.context_pk or 0) if reads_lms else None
    lms_name = _lms_name(services, launch.registration.pk) if reads_lms else ""

    def as_of(value: str | float | None) -> str:
        """``14:02`` today, ``3 Dec 14:02`` another day, in the tool's time zone."""
        if value is None or value == "":
            return ""
        if isinstance(value, int | float):
            stamp = dt.datetime.fromtimestamp(value, dt.UTC)
        else:
            stamp = dt.datetime.fromisoformat(value)
            stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
        local = stamp.astimezone(tz)
        if local.date() == dt.datetime.now(tz).date():
            return local.strftime("%H:%M")
        return f"{local.day} {local.strftime('%b %H:%M')}"

    return {
        "refresh": progress,
        "reads_lms": reads_lms,
        "lms_name": lms_name,
        "as_of": as_of,
        **refresh_view_words(),
    }


LMS_NAMES = {"moodle": "Moodle", "canvas": "Canvas", "ags": "the LMS gradebook"}


def _lms_name(services: Services, registration_pk: int) -> str:
    with services.db.read_only() as session:
        source = session.get(CompletionSourceConfig, registration_pk)
    return LMS_NAMES.get(source.kind if source else "", "the LMS")


def untrackable_line(lms_name: str, cannot: Sequence[Mapping[str, str]], listed: bool) -> str:
    """The sentence on the courses the LMS answered it cannot track (``cannot``: code and
    cause), each course named once. ``listed``: the page's "Courses that can't be tracked"
    section says the causes, and the template adds a link to it after the codes; otherwise
    the causes follow a count (each cause names its course, or is said after its code)."""
    who = lms_name[:1].upper() + lms_name[1:]
    codes = [c["code"] for c in cannot]
    if listed:
        return f"{who} answered, but can't track {_listed(codes)}"
    courses = in_words(len(codes)) + (" course" if len(codes) == 1 else " courses")
    causes = " ".join(_naming(c["code"], c["cause"]) for c in cannot)
    return f"{who} answered, but can't track {courses}. {causes}"


def _listed(codes: Sequence[str]) -> str:
    """``GB085``, ``GB085 and GB086``, ``GB085, GB086 and GB087``."""
    return codes[0] if len(codes) < 2 else f"{', '.join(codes[:-1])} and {codes[-1]}"


def _naming(code: str, cause: str) -> str:
    """A cause as a sentence that names its course once."""
    cause = cause.strip()
    if not cause.endswith((".", "!", "?")):
        cause += "."
    return cause if code in cause else f"{code}: {cause}"


def refresh_view_words() -> dict[str, Any]:
    """What the class refresh's template says in words built here."""
    return {"untrackable_line": untrackable_line}
