"""The TOML loader: the real qualification, a made-up one, and every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.rules import MonthDay, RulesError, load_all, load_qualification
from tests.unit.rules.support import MADE_UP_FILE, REAL_FILE, made_up, pgcert


def test_real_file_describes_the_certificate() -> None:
    qualification = pgcert()

    assert qualification.code == "PGCERT-CL"
    assert qualification.credits_required == 60
    assert [module.code for module in qualification.modules] == ["B832", "B833"]
    assert [module.credits for module in qualification.modules] == [30, 30]
    assert len(qualification.course_codes()) == 13
    assert qualification.source == str(REAL_FILE)


@pytest.mark.parametrize(
    ("module_code", "compulsory", "optional", "choose"),
    [
        ("B832", ("GB080", "GB081", "GB082", "GB083", "GB084", "GB085", "GB086"), (), None),
        ("B833", ("GB087", "GB088", "GB089"), ("GB090", "GB091", "GB092"), 2),
    ],
)
def test_real_modules_add_up_to_250_hours(
    module_code: str, compulsory: tuple[str, ...], optional: tuple[str, ...], choose: int | None
) -> None:
    module = pgcert().module(module_code)

    assert module.cpd_hours == 250
    assert module.compulsory == compulsory
    assert tuple(code for group in module.optional_groups for code in group.courses) == optional
    assert [group.choose for group in module.optional_groups] == ([choose] if choose else [])
    chosen = sum(module.group_hours(group) for group in module.optional_groups)
    assert sum(module.course(code).hours for code in compulsory) + chosen == 250


def test_real_time_rules() -> None:
    rules = pgcert().time_rules

    assert (rules.course_weeks_min, rules.course_weeks_nominal, rules.course_weeks_max) == (
        8,
        10,
        12,
    )
    assert rules.deadline_months == 6
    assert rules.at_risk_weeks == 8
    assert rules.max_parallel_courses == 3
    assert rules.module_start_dates == (MonthDay(5, 30), MonthDay(10, 31))
    assert rules.min_remaining_weeks == 2


def test_min_remaining_weeks_is_optional() -> None:
    # The made-up diploma leaves it out: the default, two weeks.
    assert made_up().time_rules.min_remaining_weeks == 2


def test_load_all_reads_the_config_folder() -> None:
    qualifications = load_all(REAL_FILE.parent)

    assert set(qualifications) == {"PGCERT-CL"}
    assert qualifications["PGCERT-CL"] == pgcert()


def test_a_new_qualification_is_a_new_file(tmp_path: Path) -> None:
    for source in (REAL_FILE, MADE_UP_FILE):
        (tmp_path / source.name).write_bytes(source.read_bytes())

    qualifications = load_all(tmp_path)

    assert set(qualifications) == {"PGCERT-CL", "TEST-DIP"}
    diploma = qualifications["TEST-DIP"]
    assert diploma.credits_required == 45
    assert diploma.module("X100").compulsory == ("T1", "T2")
    # Unequal optional hours: the group contributes its smallest course (T3, 20 h).
    assert diploma.module("X100").group_hours(diploma.module("X100").optional_groups[0]) == 20
    assert diploma.module("X200").compulsory == ()
    # Start dates are kept in calendar order whatever order the file lists them in.
    assert diploma.time_rules.module_start_dates == (MonthDay(1, 15), MonthDay(9, 1))
    assert diploma.modules == made_up().modules


def test_a_larger_optional_course_is_allowed(tmp_path: Path) -> None:
    # GB092 at 60 h: the two smallest options still give 100 h, so B833 still adds up.
    path = _broken(tmp_path, [(GB092_HOURS, GB092_HOURS.replace("50", "60"))])

    module = load_qualification(path).module("B833")

    assert module.course("GB092").hours == 60
    assert module.group_hours(module.optional_groups[0]) == 100


def test_a_module_may_give_a_pass_mark(tmp_path: Path) -> None:
    path = _broken(tmp_path, [(B832_COMPULSORY, B832_COMPULSORY + "\npass_mark = 40")])

    qualification = load_qualification(path)

    assert qualification.module("B832").pass_mark == 40.0
    assert qualification.module("B833").pass_mark is None
    assert pgcert().module("B832").pass_mark is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [("0", "must be a percentage above 0"), ("101", "at most 100"), ('"40"', "must be a number")],
)
def test_a_pass_mark_is_a_percentage(tmp_path: Path, value: str, reason: str) -> None:
    path = _broken(tmp_path, [(B832_COMPULSORY, B832_COMPULSORY + f"\npass_mark = {value}")])

    with pytest.raises(RulesError) as caught:
        load_qualification(path)

    assert caught.value.key == "modules[0].pass_mark"
    assert reason in caught.value.reason


def test_time_rules_that_leave_no_way_to_finish_on_time_are_refused(tmp_path: Path) -> None:
    """Two courses at a time, 8 weeks each: B832's seven need 32 weeks, a start leaves 26
    (outside review: every student starting B832 on time was told to defer)."""
    path = _broken(tmp_path, [("max_parallel_courses = 3", "max_parallel_courses = 2")])

    with pytest.raises(RulesError) as caught:
        load_qualification(path)

    assert caught.value.key == "time_rules.max_parallel_courses"
    assert "B832 (7 courses, 2 at a time at 8 weeks, need 32 weeks" in caught.value.reason
    assert "B833" not in caught.value.reason  # five courses fit two at a time


def _broken(tmp_path: Path, edits: list[tuple[str, str]], base: Path = REAL_FILE) -> Path:
    text = base.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, f"test edit does not apply: {old!r}"
        text = text.replace(old, new, 1)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


B833_GROUP = 'courses = ["GB090", "GB091", "GB092"]'
GB092_HOURS = 'title = "Innovating in primary care"\nhours = 50'
B832_COMPULSORY = 'compulsory = ["GB080", "GB081", "GB082", "GB083", "GB084", "GB085", "GB086"]'


@pytest.mark.parametrize(
    ("edits", "key", "reason"),
    [
        pytest.param(
            [(B833_GROUP, 'courses = ["GB090", "GB091", "GB099"]')],
            "modules[1].optional_groups[0].courses",
            "'GB099', which is not among the module's courses",
            id="group-names-unknown-course",
        ),
        pytest.param(
            [(B832_COMPULSORY, B832_COMPULSORY.replace("GB086", "GB186"))],
            "modules[0].compulsory",
            "'GB186', which is not among",
            id="compulsory-names-unknown-course",
        ),
        pytest.param(
            [("hours = 25\n", "hours = 30\n")],
            "modules[0].cpd_hours",
            "is 250 but compulsory courses (255 h) plus the chosen optional courses (0 h)",
            id="hours-do-not-add-up",
        ),
        pytest.param(
            [(GB092_HOURS, GB092_HOURS.replace("50", "40"))],
            "modules[1].cpd_hours",
            "is 250 but compulsory courses (150 h) plus the chosen optional courses (90 h)",
            id="optional-hours-counted-from-the-smallest",
        ),
        pytest.param(
            [("choose = 2", "choose = 4")],
            "modules[1].optional_groups[0].choose",
            "is 4 but the group has 3",
            id="choose-larger-than-group",
        ),
        pytest.param(
            [('code = "GB081"', 'code = "GB080"')],
            "modules[0].courses",
            "duplicate course code 'GB080'",
            id="duplicate-course-in-module",
        ),
        pytest.param(
            [('code = "GB087"', 'code = "GB080"'), ('"GB087", "GB088"', '"GB080", "GB088"')],
            "modules[].courses",
            "duplicate course code 'GB080'",
            id="duplicate-course-across-modules",
        ),
        pytest.param(
            [('code = "B833"', 'code = "B832"')],
            "modules",
            "duplicate module code 'B832'",
            id="duplicate-module",
        ),
        pytest.param(
            [(B832_COMPULSORY, B832_COMPULSORY.replace('"GB081"', '"GB080"'))],
            "modules[0].compulsory",
            "lists 'GB080' 2 times",
            id="code-listed-twice",
        ),
        pytest.param(
            [(B832_COMPULSORY, B832_COMPULSORY.replace(', "GB086"', ""))],
            "modules[0].courses",
            "'GB086' is neither compulsory nor in an optional group",
            id="course-not-required-anywhere",
        ),
        pytest.param(
            [(B833_GROUP, 'courses = ["GB089", "GB090", "GB091", "GB092"]')],
            "modules[1].courses",
            "'GB089' is required in more than one place",
            id="course-compulsory-and-optional",
        ),
        pytest.param(
            [("credits_required = 60\n", "")],
            "credits_required",
            "is missing",
            id="missing-top-key",
        ),
        pytest.param(
            [('title = "What is clinical leadership?"\n', "")],
            "modules[0].courses[0].title",
            "is missing",
            id="missing-course-key",
        ),
        pytest.param(
            [("at_risk_weeks = 8\n", "")],
            "time_rules.at_risk_weeks",
            "is missing",
            id="missing-time-rule",
        ),
        pytest.param(
            [("hours = 25\n", 'hours = "25"\n')],
            "modules[0].courses[0].hours",
            "must be a whole number, not str",
            id="hours-as-string",
        ),
        pytest.param(
            [("credits = 30", "credits = true")],
            "modules[0].credits",
            "must be a whole number, not bool",
            id="credits-as-bool",
        ),
        pytest.param(
            [(B832_COMPULSORY, 'compulsory = "GB080"')],
            "modules[0].compulsory",
            "must be a list, not str",
            id="compulsory-not-a-list",
        ),
        pytest.param(
            [(B833_GROUP, "courses = [90, 91, 92]")],
            "modules[1].optional_groups[0].courses[0]",
            "must be a string",
            id="group-codes-not-strings",
        ),
        pytest.param(
            [('title = "Postgraduate Certificate in Clinical Leadership"', 'title = " "')],
            "title",
            "must not be empty",
            id="blank-title",
        ),
        pytest.param(
            [("hours = 25\n", "hours = 0\n")],
            "modules[0].courses[0].hours",
            "must be at least 1, not 0",
            id="zero-hours",
        ),
        pytest.param(
            [("cpd_hours = 250", "cpd_hour = 250")],
            "modules[0].cpd_hour",
            "is not a known key",
            id="misspelt-key",
        ),
        pytest.param(
            [("credits_required = 60", "credits_required = 90")],
            "credits_required",
            "is 90 but modules give 60",
            id="credits-do-not-add-up",
        ),
        pytest.param(
            [('"05-30", "10-31"', '"05-30", "02-30"')],
            "time_rules.module_start_dates[1]",
            "'02-30' is not a month-day",
            id="impossible-start-date",
        ),
        pytest.param(
            [('"05-30", "10-31"', '"05-30", "02-29"')],
            "time_rules.module_start_dates[1]",
            "'02-29' is not a month-day",
            id="leap-day-start",
        ),
        pytest.param(
            [('"05-30", "10-31"', '"05-30", "5-30"')],
            "time_rules.module_start_dates",
            "duplicate start date '05-30'",
            id="duplicate-start-date",
        ),
        pytest.param(
            [("course_weeks_nominal = 10", "course_weeks_nominal = 13")],
            "time_rules.course_weeks_nominal",
            "must not be above course_weeks_max",
            id="nominal-above-max",
        ),
        pytest.param(
            [("course_weeks_nominal = 10", "course_weeks_nominal = 7")],
            "time_rules.course_weeks_nominal",
            "must not be below course_weeks_min",
            id="nominal-below-min",
        ),
        pytest.param(
            [("min_remaining_weeks = 2", "min_remaining_weeks = 13")],
            "time_rules.min_remaining_weeks",
            "must not be above course_weeks_max (12)",
            id="min-remaining-above-max",
        ),
        pytest.param(
            [("min_remaining_weeks = 2", "min_remaining_weeks = 0")],
            "time_rules.min_remaining_weeks",
            "must be at least 1, not 0",
            id="min-remaining-zero",
        ),
        pytest.param(
            [("[time_rules]", "[time_rules")],
            "(file)",
            "is not valid TOML",
            id="not-toml",
        ),
    ],
)
def test_loader_refuses_a_broken_file(
    tmp_path: Path, edits: list[tuple[str, str]], key: str, reason: str
) -> None:
    path = _broken(tmp_path, edits)

    with pytest.raises(RulesError) as caught:
        load_qualification(path)

    assert caught.value.path == str(path)
    assert caught.value.key == key
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}: {key}: ")


def test_unequal_optional_hours_count_the_smallest(tmp_path: Path) -> None:
    # T4 is 35 h, T3 20 h: declaring 75 h (counting the larger) is refused.
    path = _broken(tmp_path, [("cpd_hours = 60", "cpd_hours = 75")], base=MADE_UP_FILE)

    with pytest.raises(RulesError) as caught:
        load_qualification(path)

    assert caught.value.key == "modules[0].cpd_hours"
    assert "(20 h) add up to 60" in caught.value.reason


def test_missing_file_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as caught:
        load_qualification(tmp_path / "absent.toml")

    assert caught.value.key == "(file)"
    assert "cannot be read" in caught.value.reason


def test_a_file_not_saved_as_utf8_is_named_in_one_sentence(tmp_path: Path) -> None:
    # A title typed in a Windows editor saved as Latin-1: "é" is the one byte 0xe9.
    path = tmp_path / "latin1.toml"
    text = REAL_FILE.read_text(encoding="utf-8")
    assert 'title = "' in text
    path.write_bytes(text.replace('title = "', 'title = "Caf\u00e9 ', 1).encode("latin-1"))

    with pytest.raises(RulesError) as caught:
        load_qualification(path)

    assert caught.value.path == str(path)
    assert caught.value.key == "(file)"
    line = text[: text.index('title = "')].count("\n") + 1
    assert caught.value.reason == (
        f"is not UTF-8 text: line {line} holds the byte 0xe9, which UTF-8 does not allow;"
        " save the file as UTF-8"
    )


@pytest.mark.parametrize("make_folder", [True, False], ids=["empty-folder", "no-folder"])
def test_load_all_refuses_a_folder_without_qualifications(
    tmp_path: Path, make_folder: bool
) -> None:
    folder = tmp_path / "qualifications"
    if make_folder:
        folder.mkdir()
        (folder / "notes.txt").write_text("not a qualification", encoding="utf-8")

    with pytest.raises(RulesError) as caught:
        load_all(folder)

    assert caught.value.path == str(folder)


def test_load_all_refuses_two_files_with_one_code(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_bytes(REAL_FILE.read_bytes())
    (tmp_path / "b.toml").write_bytes(REAL_FILE.read_bytes())

    with pytest.raises(RulesError) as caught:
        load_all(tmp_path)

    assert caught.value.path == str(tmp_path / "b.toml")
    assert caught.value.key == "code"
    assert str(tmp_path / "a.toml") in caught.value.reason
