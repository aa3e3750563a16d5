"""Whether a qualification file's time rules leave room for its own modules: a student who
begins a module's CPD courses on its start day can finish them by its deadline, studying
``max_parallel_courses`` at a time at the shortest length. A file where they cannot would
tell every student starting on time that the deadline cannot be met (it did, with two
courses at a time for B832's seven)."""

from __future__ import annotations

from collections.abc import Iterable

from lti_tool.rules.dates import add_months
from lti_tool.rules.model import Module, TimeRules


def courses_to_study(module: Module) -> int:
    """The courses a student studies for ``module``: its compulsory ones and, of each
    optional group, as many as it asks to choose."""
    return len(module.compulsory) + sum(group.choose for group in module.optional_groups)


def shortest_window_days(rules: TimeRules) -> int:
    """The fewest days from a module start to its deadline, over the yearly start dates, in a
    leap year and in a common one (month lengths differ)."""
    return min(
        (add_months(start, rules.deadline_months) - start).days
        for month_day in rules.module_start_dates
        for start in (month_day.in_year(2027), month_day.in_year(2028))
    )


def modules_that_do_not_fit(modules: Iterable[Module], rules: TimeRules) -> str:
    """Why the modules' courses cannot be finished in time from their start ("leaves no way
    ...: B832 (7 courses, 2 at a time ...)"); '' when every module fits."""
    window = shortest_window_days(rules)
    problems = []
    for module in modules:
        count = courses_to_study(module)
        rounds = -(-count // rules.max_parallel_courses)
        needed = rounds * rules.course_weeks_min * 7
        if needed > window:
            problems.append(
                f"{module.code} ({count} course{'' if count == 1 else 's'},"
                f" {rules.max_parallel_courses} at a time at "
                f"{rules.course_weeks_min} weeks, need {needed // 7} weeks; a start leaves "
                f"{window // 7} weeks and {window % 7} days)"
            )
    if not problems:
        return ""
    return "leaves no way to finish on time from a module start: " + "; ".join(problems)
