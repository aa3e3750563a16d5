"""Dates in the launch's locale (Babel), for the templates."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from flask import Flask, g

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


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 result``, ``2 results``, ``0 results``; ``many`` for irregular words
    (``plural(n, "person", "people")``)."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["plural"] = plural
