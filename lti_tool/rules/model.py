"""The qualification as loaded from its TOML file: modules, CPD courses and time rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Course:
    """A CPD short course."""

    code: str
    title: str
    hours: int


@dataclass(frozen=True)
class OptionalGroup:
    """Choose ``choose`` of ``courses`` (course codes, in file order)."""

    choose: int
    courses: tuple[str, ...]


@dataclass(frozen=True)
class Module:
    """An assessment module and the CPD courses it integrates."""

    code: str
    title: str
    credits: int
    cpd_hours: int
    courses: tuple[Course, ...]
    compulsory: tuple[str, ...]
    optional_groups: tuple[OptionalGroup, ...] = ()
    # The assessment's pass mark as a percentage of the maximum score, when the qualification
    # publishes one (None: it sets none, and the tool judges no outcome against a score).
    pass_mark: float | None = None

    def course(self, code: str) -> Course:
        """Return the course with this code (``KeyError`` when the module has none)."""
        for course in self.courses:
            if course.code == code:
                return course
        raise KeyError(code)

    def group_hours(self, group: OptionalGroup) -> int:
        """Hours a group contributes: those of its ``choose`` smallest courses."""
        hours = sorted(self.course(code).hours for code in group.courses)
        return sum(hours[: group.choose])


@dataclass(frozen=True)
class MonthDay:
    """A date that recurs every year (an assessment-module start)."""

    month: int
    day: int

    def in_year(self, year: int) -> date:
        """This month and day in ``year``."""
        return date(year, self.month, self.day)


@dataclass(frozen=True)
class TimeRules:
    """Course lengths, the six-month rule and the yearly module start dates."""

    course_weeks_min: int
    course_weeks_max: int
    course_weeks_nominal: int
    deadline_months: int
    at_risk_weeks: int
    max_parallel_courses: int
    module_start_dates: tuple[MonthDay, ...]
    # A course in progress is never planned to end sooner than this many weeks from today.
    min_remaining_weeks: int = 2


@dataclass(frozen=True)
class Qualification:
    """A qualification: its modules and time rules, and the file it came from."""

    code: str
    title: str
    credits_required: int
    modules: tuple[Module, ...]
    time_rules: TimeRules
    source: str = ""

    def module(self, code: str) -> Module:
        """Return the module with this code (``KeyError`` when there is none)."""
        for module in self.modules:
            if module.code == code:
                return module
        raise KeyError(code)

    def course_codes(self) -> frozenset[str]:
        """Every CPD course code of every module."""
        return frozenset(course.code for module in self.modules for course in module.courses)
