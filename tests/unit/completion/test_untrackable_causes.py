"""What staff are told a teacher must set up, per LMS, for a course stored as untrackable
(completion/untrackable.py): the same words the refresh logged."""

from __future__ import annotations

import pytest

from lti_tool.completion.untrackable import _cause
from lti_tool.persistence.models import CompletionSourceConfig, CourseMappingRow


def _source(kind: str, mode: str) -> CompletionSourceConfig:
    return CompletionSourceConfig(registration_pk=1, kind=kind, mode=mode)


def _mapping(course_id: str, activity_id: str | None = None) -> CourseMappingRow:
    return CourseMappingRow(
        registration_pk=1, course_code="GB080", course_id=course_id, activity_id=activity_id
    )


@pytest.mark.parametrize(
    ("kind", "mode", "mapping", "words"),
    [
        ("moodle", "course", _mapping("12"), ["no completion criteria", "course id 12"]),
        ("moodle", "activity", _mapping("5", "77"), ["tracking off", "activity cmid 77"]),
        ("canvas", "course", _mapping("16"), ["no module completion requirements", "course 16"]),
        ("canvas", "activity", _mapping("3", "200"), ["Canvas module", "module 200"]),
    ],
)
def test_each_lms_gets_its_own_words(
    kind: str, mode: str, mapping: CourseMappingRow, words: list[str]
) -> None:
    cause = _cause("GB080", _source(kind, mode), mapping)
    assert cause.startswith("GB080's ")
    for word in words:
        assert word in cause


def test_without_a_mapping_the_words_are_general() -> None:
    cause = _cause("GB080", None, None)
    assert "a teacher must turn on completion tracking" in cause
