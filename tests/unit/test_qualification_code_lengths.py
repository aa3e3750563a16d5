"""Codes the database can hold: a module or course code of at most 32 characters, a
qualification code of at most 64 (the columns' lengths). A longer one in a qualification file
is refused when the file is loaded, not by PostgreSQL when a tutor first saves a start date."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.persistence.models import (
    AssessmentResultRow,
    CohortModuleStart,
    CompletionRecord,
    ContextSettings,
    CourseMappingRow,
    LineItemRow,
    OutboxRow,
    StudentModuleStart,
)
from lti_tool.rules import RulesError, load_qualification
from lti_tool.rules.loader import LONGEST_CODE, LONGEST_QUALIFICATION_CODE

WOUND_CARE = Path(__file__).parents[1] / "fixtures" / "qualifications" / "wound-care.toml"
LONG = "X" * 33


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('"WC1"', f'"{LONG}"', "modules[0].code"),
        ('"W01"', f'"{LONG}"', "modules[0].courses[0].code"),  # compulsory names it too
        ('"WOUND-CARE"', f'"{"Q" * 65}"', "code"),
    ],
    ids=["module", "course", "qualification"],
)
def test_a_code_longer_than_the_database_holds_is_refused(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    path = tmp_path / "long.toml"
    path.write_text(WOUND_CARE.read_text().replace(old, new))
    with pytest.raises(RulesError) as caught:
        load_qualification(path)
    assert caught.value.key == key
    assert "characters" in caught.value.reason and "at most" in caught.value.reason


def test_codes_of_the_longest_length_load(tmp_path: Path) -> None:
    path = tmp_path / "longest.toml"
    text = WOUND_CARE.read_text().replace('"WC1"', f'"{"M" * 32}"')
    path.write_text(text.replace('"WOUND-CARE"', f'"{"Q" * 64}"'))
    assert load_qualification(path).modules[0].code == "M" * 32


def test_the_limits_are_the_columns_lengths() -> None:
    codes = [
        CohortModuleStart.__table__.c.module_code,
        StudentModuleStart.__table__.c.module_code,
        AssessmentResultRow.__table__.c.module_code,
        OutboxRow.__table__.c.module_code,
        LineItemRow.__table__.c.module_code,
        CompletionRecord.__table__.c.course_code,
        CourseMappingRow.__table__.c.course_code,
    ]
    assert {column.type.length for column in codes} == {LONGEST_CODE}
    qualification = ContextSettings.__table__.c.qualification_code
    assert qualification.type.length == LONGEST_QUALIFICATION_CODE
