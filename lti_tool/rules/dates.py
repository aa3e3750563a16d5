"""Calendar arithmetic and the plain-English date format used in next steps and notes."""

from __future__ import annotations

import calendar
from datetime import date

from lti_tool.rules.model import MonthDay

# Spelled out rather than taken from calendar.month_name, which follows the process locale.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the month's last day (31 Aug + 6 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_start_after(starts: tuple[MonthDay, ...], after: date) -> date:
    """The first of the yearly start dates that falls strictly after ``after``."""
    candidates = (start.in_year(after.year + offset) for start in starts for offset in (0, 1))
    return min(candidate for candidate in candidates if candidate > after)


# Lengths of a rule as people say them ("the six-month deadline"); longer ones in digits.
_COUNTS = (
    *("one", "two", "three", "four", "five", "six"),
    *("seven", "eight", "nine", "ten", "eleven", "twelve"),
)


def in_words(count: int) -> str:
    """A count as the pages write it: words from one to nine (``seven``), digits from 10."""
    return _COUNTS[count - 1] if 1 <= count <= 9 else str(count)


def month_rule(months: int) -> str:
    """A deadline's length as an adjective: ``six-month``, ``four-month``, ``18-month``."""
    count = _COUNTS[months - 1] if 1 <= months <= len(_COUNTS) else str(months)
    return f"{count}-month"


def spoken(day: date) -> str:
    """A date as people write it: ``30 November 2027``."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
