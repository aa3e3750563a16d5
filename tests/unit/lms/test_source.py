"""Merging per-course results: order, error attribution, source-wide errors, retries' backoff."""

from __future__ import annotations

import threading

import pytest

from lti_tool.lms.source import (
    CourseMapping,
    FetchResult,
    FetchUnit,
    MappingMode,
    SourceConfigError,
    SourceError,
    SourceUnavailable,
    check_mode,
    gather,
)
from lti_tool.rules.records import Completion, CompletionStatus


def done(code: str) -> FetchUnit:
    return FetchUnit((code,), lambda: FetchResult([Completion(code, CompletionStatus.COMPLETED)]))


def failing(codes: tuple[str, ...], error: SourceError) -> FetchUnit:
    def run() -> FetchResult:
        raise error

    return FetchUnit(codes, run)


def test_results_come_back_in_mapping_order() -> None:
    units = [done("GB082"), done("GB080"), done("GB081")]

    result = gather(units, 3, ["GB080", "GB081", "GB082"])

    assert [c.course_code for c in result.completions] == ["GB080", "GB081", "GB082"]
    assert result.errors == []


def test_a_failed_unit_is_an_error_for_each_of_its_codes() -> None:
    units = [done("GB080"), failing(("GB081", "GB082"), SourceUnavailable("Moodle is down"))]

    result = gather(units, 2, ["GB080", "GB081", "GB082"])

    assert [c.course_code for c in result.completions] == ["GB080"]
    assert [(type(e), e.course_code, e.message) for e in result.errors] == [
        (SourceUnavailable, "GB081", "Moodle is down"),
        (SourceUnavailable, "GB082", "Moodle is down"),
    ]


def test_a_source_wide_config_error_is_raised() -> None:
    units = [done("GB080"), failing(("GB081",), SourceConfigError("bad token"))]

    with pytest.raises(SourceConfigError, match="bad token"):
        gather(units, 2, ["GB080", "GB081"])


def test_nothing_found_and_everything_transient_raises_unavailable() -> None:
    units = [
        failing(("GB080",), SourceUnavailable("timeout")),
        failing(("GB081",), SourceUnavailable("timeout")),
    ]

    with pytest.raises(SourceUnavailable, match="timeout"):
        gather(units, 2, ["GB080", "GB081"])


def test_a_config_error_for_one_course_is_kept_with_the_unavailable_ones() -> None:
    initial = [SourceConfigError("no activity id", course_code="GB081")]
    units = [failing(("GB080",), SourceUnavailable("timeout"))]

    result = gather(units, 2, ["GB080", "GB081"], initial_errors=initial)

    assert [(type(e), e.course_code) for e in result.errors] == [
        (SourceUnavailable, "GB080"),
        (SourceConfigError, "GB081"),
    ]


def test_units_run_at_most_max_workers_at_a_time() -> None:
    lock = threading.Lock()
    running, peak = 0, 0
    release = threading.Event()

    def unit(code: str) -> FetchUnit:
        def run() -> FetchResult:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            release.wait(0.05)
            with lock:
                running -= 1
            return FetchResult([Completion(code, CompletionStatus.NOT_STARTED)])

        return FetchUnit((code,), run)

    result = gather([unit(f"C{i}") for i in range(10)], 3, [f"C{i}" for i in range(10)])

    assert len(result.completions) == 10
    assert peak == 3


@pytest.mark.parametrize(
    ("mode", "mapping", "refused"),
    [
        (MappingMode.ACTIVITY, CourseMapping("GB080", "2"), ["GB080"]),
        (MappingMode.ACTIVITY, CourseMapping("GB080", "2", "1"), []),
        (MappingMode.COURSE, CourseMapping("GB080", "3", "14"), ["GB080"]),
        (MappingMode.COURSE, CourseMapping("GB080", "3"), []),
    ],
)
def test_mappings_must_fit_the_mode(
    mode: MappingMode, mapping: CourseMapping, refused: list[str]
) -> None:
    errors = check_mode(mode, [mapping])

    assert [e.course_code for e in errors] == refused
    assert all(isinstance(e, SourceConfigError) for e in errors)


def test_mapping_ids_are_strings() -> None:
    mapping = CourseMapping("GB080", 3, 14)  # type: ignore[arg-type]

    assert (mapping.course_id, mapping.activity_id) == ("3", "14")
