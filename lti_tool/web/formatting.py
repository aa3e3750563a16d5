"""Dates in the launch's locale (Babel), times in the institution's time zone (setting
``timezone``), for the templates: never a raw UTC ISO string on a page."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from flask import Flask, current_app, g

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


def init_app(app: Flask) -> None:
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["day"] = day
