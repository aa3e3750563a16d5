"""Read qualification TOML files into ``Qualification`` objects, refusing any broken rule."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any, TypeVar

from lti_tool.rules.errors import RulesError
from lti_tool.rules.fit import modules_that_do_not_fit
from lti_tool.rules.model import Course, Module, MonthDay, OptionalGroup, Qualification, TimeRules
from lti_tool.rules.toml_fields import FieldReader

T = TypeVar("T")

_TOP_KEYS = {"code", "title", "credits_required", "time_rules", "modules"}
_OPTIONAL_TIME_KEYS = {"min_remaining_weeks"}
_TIME_KEYS = {
    *("course_weeks_min", "course_weeks_max", "course_weeks_nominal", "deadline_months"),
    *("at_risk_weeks", "max_parallel_courses", "module_start_dates", *_OPTIONAL_TIME_KEYS),
}
_OPTIONAL_MODULE_KEYS = {"compulsory", "optional_groups", "pass_mark"}
_MODULE_KEYS = {"code", "title", "credits", "cpd_hours", "courses", *_OPTIONAL_MODULE_KEYS}
_COURSE_KEYS = {"code", "title", "hours"}
_GROUP_KEYS = {"choose", "courses"}
# The longest codes the database holds (its module_code, course_code and qualification_code
# columns): a longer one is refused here, not by PostgreSQL when a tutor first saves a date.
LONGEST_CODE = 32
LONGEST_QUALIFICATION_CODE = 64
# Ten years: a longer deadline, course or at-risk warning is a typo, and far longer ones leave
# the calendar (dates past the year 9999) while the rules are checked or a plan is made.
MOST_MONTHS = 120
MOST_WEEKS = 520


def load_qualification(path: str | Path) -> Qualification:
    """Load and validate one qualification file; raise ``RulesError`` naming file, key, reason."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise RulesError(source, "(file)", f"cannot be read: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # TOML files are UTF-8; an editor saving as Latin-1 or Windows-1252 is the usual cause.
        line = raw.count(b"\n", 0, exc.start) + 1
        raise RulesError(
            source,
            "(file)",
            f"is not UTF-8 text: line {line} holds the byte 0x{raw[exc.start]:02x}, which UTF-8"
            " does not allow; save the file as UTF-8",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(source, "(file)", f"is not valid TOML: {exc}") from exc
    return _Reader(source).qualification(data)


def load_all(folder: str | Path) -> dict[str, Qualification]:
    """Load every ``*.toml`` in ``folder`` (sorted by name), keyed by qualification code.

    An empty or missing folder is an error: a tool with no qualification cannot check anything.
    """
    directory = Path(folder)
    if not directory.is_dir():
        raise RulesError(str(directory), "(folder)", "is not a folder")
    qualifications: dict[str, Qualification] = {}
    for path in sorted(directory.glob("*.toml")):
        qualification = load_qualification(path)
        if qualification.code in qualifications:
            first = qualifications[qualification.code].source
            raise RulesError(str(path), "code", f"{qualification.code!r} is also used by {first}")
        qualifications[qualification.code] = qualification
    if not qualifications:
        raise RulesError(str(directory), "(folder)", "holds no .toml qualification file")
    return qualifications


class _Reader(FieldReader):
    """The qualification file, read and checked table by table."""

    def qualification(self, data: Any) -> Qualification:
        top = self.table(data, "", _TOP_KEYS)
        modules = tuple(
            self.module(entry, f"modules[{index}]")
            for index, entry in enumerate(self.items(top, "modules", "modules", dict))
        )
        self.unique([module.code for module in modules], "modules", "module code")
        every_course = [course.code for module in modules for course in module.courses]
        self.unique(every_course, "modules[].courses", "course code")
        credits_required = self.count(top, "credits_required", "credits_required")
        total = sum(module.credits for module in modules)
        if total != credits_required:
            raise self.fail("credits_required", f"is {credits_required} but modules give {total}")
        time_rules = self.time_rules(top["time_rules"])
        if late := modules_that_do_not_fit(modules, time_rules):
            raise self.fail("time_rules.max_parallel_courses", late)
        return Qualification(
            code=self.code(top, "code", "code", LONGEST_QUALIFICATION_CODE),
            title=self.title(top, "title", "title"),
            credits_required=credits_required,
            modules=modules,
            time_rules=time_rules,
            source=self.source,
        )

    def unique(self, codes: list[str], key: str, what: str) -> None:
        for code, seen in Counter(codes).items():
            if seen > 1:
                raise self.fail(key, f"duplicate {what} {code!r}")

    def time_rules(self, data: Any) -> TimeRules:
        key = "time_rules"
        table = self.table(data, key, _TIME_KEYS, _OPTIONAL_TIME_KEYS)
        weeks = {
            name: self.count(table, name, f"{key}.{name}", MOST_WEEKS)
            for name in ("course_weeks_min", "course_weeks_nominal", "course_weeks_max")
        }
        if not weeks["course_weeks_min"] <= weeks["course_weeks_nominal"]:
            raise self.fail(f"{key}.course_weeks_nominal", "must not be below course_weeks_min")
        if not weeks["course_weeks_nominal"] <= weeks["course_weeks_max"]:
            raise self.fail(f"{key}.course_weeks_nominal", "must not be above course_weeks_max")
        starts_key = f"{key}.module_start_dates"
        starts = [
            self.month_day(value, f"{starts_key}[{index}]")
            for index, value in enumerate(self.items(table, "module_start_dates", starts_key, str))
        ]
        self.unique([f"{s.month:02}-{s.day:02}" for s in starts], starts_key, "start date")
        return TimeRules(
            course_weeks_min=weeks["course_weeks_min"],
            course_weeks_max=weeks["course_weeks_max"],
            course_weeks_nominal=weeks["course_weeks_nominal"],
            deadline_months=self.count(
                table, "deadline_months", f"{key}.deadline_months", MOST_MONTHS
            ),
            at_risk_weeks=self.count(table, "at_risk_weeks", f"{key}.at_risk_weeks", MOST_WEEKS),
            max_parallel_courses=self.count(
                table, "max_parallel_courses", f"{key}.max_parallel_courses"
            ),
            module_start_dates=tuple(sorted(starts, key=lambda s: (s.month, s.day))),
            min_remaining_weeks=self.remaining(table, weeks["course_weeks_max"]),
        )

    def remaining(self, table: dict[str, Any], most: int) -> int:
        """Optional ``min_remaining_weeks``: 1 up to the longest course (default 2, or less)."""
        name = "min_remaining_weeks"
        if name not in table:
            return min(TimeRules.min_remaining_weeks, most)
        value = self.count(table, name, f"time_rules.{name}")
        if value > most:
            raise self.fail(f"time_rules.{name}", f"must not be above course_weeks_max ({most})")
        return value

    def month_day(self, value: str, key: str) -> MonthDay:
        month, _, day = value.partition("-")
        try:
            start = MonthDay(int(month), int(day))
            # 2001 is not a leap year: a start on 29 February would skip three years in four.
            start.in_year(2001)
        except ValueError:
            raise self.fail(key, f"{value!r} is not a month-day such as '05-30'") from None
        return start

    def module(self, data: Any, key: str) -> Module:
        table = self.table(data, key, _MODULE_KEYS, _OPTIONAL_MODULE_KEYS)
        courses = tuple(
            self.course(entry, f"{key}.courses[{index}]")
            for index, entry in enumerate(self.items(table, "courses", f"{key}.courses", dict))
        )
        self.unique([course.code for course in courses], f"{key}.courses", "course code")
        known = {course.code: course for course in courses}
        compulsory: tuple[str, ...] = ()
        if "compulsory" in table:
            compulsory = self.codes(table, "compulsory", f"{key}.compulsory")
        groups = tuple(
            self.group(entry, f"{key}.optional_groups[{index}]")
            for index, entry in enumerate(
                self.items(table, "optional_groups", f"{key}.optional_groups", dict)
                if "optional_groups" in table
                else []
            )
        )
        self.check_membership(key, known, compulsory, groups)
        code = self.code(table, "code", f"{key}.code", LONGEST_CODE)
        module = Module(
            code=code,
            title=self.title(table, "title", f"{key}.title", code),
            credits=self.count(table, "credits", f"{key}.credits"),
            cpd_hours=self.count(table, "cpd_hours", f"{key}.cpd_hours"),
            courses=courses,
            compulsory=compulsory,
            optional_groups=groups,
            pass_mark=self.pass_mark(table, f"{key}.pass_mark"),
        )
        self.check_hours(key, module)
        return module

    def pass_mark(self, table: dict[str, Any], key: str) -> float | None:
        """Optional: a percentage of the maximum score, above 0 and at most 100."""
        if "pass_mark" not in table:
            return None
        value = table["pass_mark"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, not {type(value).__name__}")
        if not 0 < value <= 100:
            raise self.fail(key, f"must be a percentage above 0 and at most 100, not {value}")
        return float(value)

    def check_membership(
        self,
        key: str,
        known: dict[str, Course],
        compulsory: tuple[str, ...],
        groups: tuple[OptionalGroup, ...],
    ) -> None:
        places = [(f"{key}.compulsory", code) for code in compulsory] + [
            (f"{key}.optional_groups[{index}].courses", code)
            for index, group in enumerate(groups)
            for code in group.courses
        ]
        for where, code in places:
            if code not in known:
                raise self.fail(where, f"names {code!r}, which is not among the module's courses")
        listed = Counter(code for _, code in places)
        for code in known:
            if listed[code] == 0:
                raise self.fail(
                    f"{key}.courses", f"{code!r} is neither compulsory nor in an optional group"
                )
            if listed[code] > 1:
                raise self.fail(f"{key}.courses", f"{code!r} is required in more than one place")

    def check_hours(self, key: str, module: Module) -> None:
        compulsory = sum(module.course(code).hours for code in module.compulsory)
        optional = sum(module.group_hours(group) for group in module.optional_groups)
        if compulsory + optional != module.cpd_hours:
            raise self.fail(
                f"{key}.cpd_hours",
                f"is {module.cpd_hours} but compulsory courses ({compulsory} h) plus the chosen"
                f" optional courses ({optional} h) add up to {compulsory + optional}",
            )

    def course(self, data: Any, key: str) -> Course:
        table = self.table(data, key, _COURSE_KEYS)
        return Course(
            code=self.code(table, "code", f"{key}.code", LONGEST_CODE),
            title=self.title(table, "title", f"{key}.title"),
            hours=self.count(table, "hours", f"{key}.hours"),
        )

    def group(self, data: Any, key: str) -> OptionalGroup:
        table = self.table(data, key, _GROUP_KEYS)
        courses = self.codes(table, "courses", f"{key}.courses")
        choose = self.count(table, "choose", f"{key}.choose")
        if choose > len(courses):
            raise self.fail(f"{key}.choose", f"is {choose} but the group has {len(courses)}")
        return OptionalGroup(choose=choose, courses=courses)
