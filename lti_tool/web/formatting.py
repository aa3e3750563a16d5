"""Dates in the launch's locale (Babel), times in the institution's time zone (setting
``timezone``), for the templates: never a raw UTC ISO string on a page. Also outcomes, numbers
and yes/no as people write them: never "pass", "55.0" or "False" on a page."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from flask import Flask, current_app, g

from lti_tool.rules.records import OUTCOME_NAMES

DEFAULT_LOCALE = "en_GB"


@lru_cache(maxsize=64)
def _parse_locale(raw: str) -> Locale:
    try:
        return Locale.parse(raw.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def _locale() -> Locale:
    return _parse_locale(str(getattr(g, "locale", None) or DEFAULT_LOCALE))


def long_date(value: str | dt.date | None) -> str:
    """``2027-05-30`` → ``30 May 2027`` (en-GB) or ``May 30, 2027`` (en-US); '' for None."""
    if value is None or value == "":
        return ""
    date = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return str(format_date(date, format="long", locale=_locale()))


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.extensions["lti_tool"].settings.timezone)


def local_time(value: str | dt.datetime | None, zone: ZoneInfo | None = None) -> dt.datetime | None:
    """``value`` (a datetime or an ISO string; naive means UTC) in ``zone``, by default the
    institution's time zone; None for None or ""."""
    if value is None or value == "":
        return None
    stamp = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(zone or _zone())


def clock(value: str | dt.datetime | None, zone: ZoneInfo | None = None) -> str:
    """``17:45 GMT`` (``18:45 BST`` in summer) in the institution's time zone; '' for None."""
    local = local_time(value, zone)
    return "" if local is None else f"{local:%H:%M} {local.tzname()}"


def when(value: str | dt.datetime | None, zone: ZoneInfo | None = None) -> str:
    """``4 December 2026, 17:45 GMT`` in the institution's time zone; '' for None."""
    local = local_time(value, zone)
    if local is None:
        return ""
    return f"{long_date(local.date())}, {local:%H:%M} {local.tzname()}"


def day(value: str | dt.datetime | None, zone: ZoneInfo | None = None) -> str:
    """The date alone, ``4 December 2026``, of a moment in the institution's time zone."""
    local = local_time(value, zone)
    return "" if local is None else long_date(local.date())


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 result``, ``2 results``, ``0 results``; ``many`` for irregular words
    (``plural(n, "person", "people")``)."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def outcome(value: str | None) -> str:
    """``pass`` → ``Pass``: an outcome as the marking menus name it."""
    return OUTCOME_NAMES.get(value or "", value or "")


def number(value: float | int | str | None) -> str:
    """``55.0`` → ``55``, ``67.5`` → ``67.5``: a score as a gradebook shows it; '' for None."""
    if value is None or isinstance(value, str):
        return value or ""
    return f"{value:g}"


# Where completion comes from, as people call it (``CompletionRecord.source``).
SOURCE_NAMES = {
    "moodle": "Moodle",
    "canvas": "Canvas",
    "ags": "the LMS gradebook",
    "manual": "the course team's records",
}


def source(value: str | None) -> str:
    """``moodle`` → ``Moodle``: a completion source by its name, not its code."""
    return SOURCE_NAMES.get(value or "", value or "")


def yes_no(value: object) -> str:
    return "Yes" if value else "No"


# The principal and sub-role words of LTI's role vocabularies, as course staff say them.
ROLE_WORDS = {
    "Learner": "Student",
    "Instructor": "Teacher",
    "TeachingAssistant": "Teaching assistant",
    "Grader": "Marker",
    "ContentDeveloper": "Course designer",
    "Mentor": "Observer",
    "Administrator": "Administrator",
    "SysAdmin": "System administrator",
    "Manager": "Manager",
    "Member": "Member",
    "Officer": "Officer",
    "Faculty": "Teaching staff",
    "Student": "Student",
}


def role(value: str) -> str:
    """``…/membership#Learner`` → ``Student``; a sub-role by its own word; an unknown role
    as it was sent."""
    word = value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return ROLE_WORDS.get(word, value)


def init_app(app: Flask) -> None:
    from lti_tool.admin.audit_words import action_label, plain_values
    from lti_tool.admin.platform_form import KINDS
    from lti_tool.errors import field_label
    from lti_tool.grading.class_columns import SYNC_LABELS
    from lti_tool.rules.dates import month_rule

    app.jinja_env.globals["outcome_names"] = OUTCOME_NAMES  # the marking menus
    app.jinja_env.filters.update(
        long_date=long_date,
        plural=plural,
        when=when,
        clock=clock,
        day=day,
        outcome=outcome,
        number=number,
        yes_no=yes_no,
        source=source,
        role=role,
        action_label=action_label,
        plain_values=plain_values,
        field_label=field_label,
        sync_label=lambda status: SYNC_LABELS.get(status, status),
        platform_kind=lambda kind: KINDS.get(kind, kind),
        month_rule=month_rule,
    )
