"""Which CPD courses a source never reads (completion/unmapped.py), what a student's checklist
makes of them, and what staff are told, per LMS and mode."""

from __future__ import annotations

import datetime as dt

import pytest

from lti_tool.completion.unmapped import (
    SourceMapping,
    mapping_from,
    not_linked,
    unknown_where_unmapped,
)
from lti_tool.rules import Completion, CompletionStatus

CODES = ("GB080", "GB081", "GB082")
SOME = frozenset({"GB080"})


@pytest.mark.parametrize(
    ("mapping", "unmapped"),
    [
        (SourceMapping("moodle", "course", SOME), {"GB081", "GB082"}),
        (SourceMapping("canvas", "activity", SOME), {"GB081", "GB082"}),
        (SourceMapping("moodle", "course", frozenset(CODES)), set()),
        # Nothing mapped: the source is not set up yet, and reads nothing at all.
        (SourceMapping("moodle", "course", frozenset()), set()),
        # AGS reads the mapped codes alone once some are mapped, every code with none.
        (SourceMapping("ags", "course", SOME), {"GB081", "GB082"}),
        (SourceMapping("ags", "course", frozenset()), set()),
        # Manual reads no LMS; no source at all.
        (SourceMapping("manual", "course", SOME), set()),
        (SourceMapping(), set()),
    ],
)
def test_only_an_lms_source_with_some_courses_mapped_leaves_any_unread(
    mapping: SourceMapping, unmapped: set[str]
) -> None:
    assert mapping.unmapped(CODES) == unmapped


def _completion(code: str, status: str, source: str = "moodle") -> Completion:
    done = dt.date(2026, 5, 1) if status == "completed" else None
    return Completion(code, CompletionStatus(status), completed_at=done, source=source)


def test_an_unmapped_course_is_unknown_unless_a_record_says_more() -> None:
    completions = [
        _completion("GB080", "in_progress"),  # mapped: as read
        _completion("GB081", "in_progress"),  # read before its mapping went: no longer read
        _completion("GB082", "completed"),  # once read as completed: stays completed
        _completion("GB083", "not_started", source="manual"),  # a tutor's record wins
    ]
    unmapped = {"GB081", "GB082", "GB083", "GB084"}

    result = unknown_where_unmapped(completions, unmapped, "moodle")

    assert {(c.course_code, c.status.value, c.source) for c in result} == {
        ("GB080", "in_progress", "moodle"),
        ("GB081", "untrackable", "moodle"),
        ("GB082", "completed", "moodle"),
        ("GB083", "not_started", "manual"),
        ("GB084", "untrackable", "moodle"),
    }


def test_with_nothing_unmapped_the_completions_are_as_they_were() -> None:
    completions = [_completion("GB080", "not_started")]
    assert unknown_where_unmapped(completions, frozenset(), "moodle") == completions


@pytest.mark.parametrize(
    ("kind", "mode", "words"),
    [
        ("moodle", "course", "not linked to a Moodle course yet"),
        ("moodle", "activity", "not linked to a Moodle activity yet"),
        ("canvas", "course", "not linked to a Canvas course yet"),
        ("canvas", "activity", "not linked to a Canvas module yet"),
    ],
)
def test_staff_are_told_in_their_lms_words_who_links_it_and_where(
    kind: str, mode: str, words: str
) -> None:
    cause = not_linked("GB081", kind, mode)
    assert cause.startswith(f"GB081 is {words}, so the tool cannot read it")
    assert "must link it on the tool's CPD course mapping page" in cause


@pytest.mark.parametrize(
    ("kind", "mode", "unread"),
    [
        # Activity mode reads a course only from its activity: one without is never read.
        ("moodle", "activity", {"GB081", "GB082"}),
        ("canvas", "activity", {"GB081", "GB082"}),
        # Course mode reads a whole course: one mapped with an activity is never read.
        ("canvas", "course", {"GB080", "GB082"}),
        ("ags", "activity", {"GB082"}),
    ],
)
def test_a_mapping_without_the_activity_its_mode_reads_leaves_the_course_unread(
    kind: str, mode: str, unread: set[str]
) -> None:
    mapping = mapping_from(kind, mode, [("GB080", "7"), ("GB081", " ")])
    assert mapping.unmapped(CODES) == unread
    assert mapping_from(kind, mode, [(None, None)]).unmapped(CODES) == set()


@pytest.mark.parametrize("kind", ["moodle", "canvas", "ags"])
def test_a_qualification_with_none_of_its_courses_mapped_is_not_set_up_yet(kind: str) -> None:
    """Only another qualification's courses mapped: this one's read as with nothing mapped."""
    mapping = mapping_from(kind, "course", [("W01", None), ("W02", None)])
    assert mapping.unmapped(CODES) == set()
    assert mapping.unmapped((*CODES, "W01")) == set(CODES)
