"""The pure input checks: NUL characters in launch claims, CSV decoding and headers, dates,
booleans and text fields of a result."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lti_tool.csv_files import CsvRejected, check_rows, decode_upload
from lti_tool.errors import InvalidInput
from lti_tool.grading.result_input import parse_result
from lti_tool.lti.claims import claim_with_nul
from lti_tool.pathway.module_starts import parse_date


@pytest.mark.parametrize(
    ("claims", "found"),
    [
        ({"sub": "1", "name": "Ann"}, None),
        ({"name": "Ann\x00"}, "name"),
        ({"ctx": {"id": "c\x00"}}, "ctx"),
        ({"ctx": {"a\x00": "x"}}, "ctx"),
        ({"roles": ["Learner", "Instructor\x00"]}, "roles"),
        ({"deep": [[[[{"x": ["\x00"]}]]]]}, "deep"),
        ({"n": 1, "b": True, "z": None}, None),
    ],
)
def test_claim_with_nul(claims: dict[str, Any], found: str | None) -> None:
    assert claim_with_nul(claims) == found


def test_claim_with_nul_does_not_recurse() -> None:
    deep: Any = "\x00"
    for _ in range(50_000):
        deep = [deep]
    assert claim_with_nul({"x": deep}) == "x"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"a,b\n1,2\n", "a,b\n1,2\n"),
        ("a,b\nZoë,2\n".encode("utf-8-sig"), "a,b\nZoë,2\n"),
    ],
)
def test_decode_upload_accepts_utf8_with_or_without_bom(raw: bytes, text: str) -> None:
    assert decode_upload(raw) == text


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ("a,b\nZoë,2\n".encode("cp1252"), "Line 2:"),
        ("a,b\n1,2\n".encode("utf-16"), ""),
        (b"a,b\n1,\x002\n", "Line 2:"),
    ],
    ids=["cp1252", "utf-16", "nul"],
)
def test_decode_upload_refuses_anything_else(raw: bytes, line: str) -> None:
    with pytest.raises(CsvRejected) as refused:
        decode_upload(raw)
    assert "UTF-8" in refused.value.message and line in refused.value.message


def test_check_rows_refuses_repeated_columns_and_oversized_cells() -> None:
    with pytest.raises(CsvRejected, match=r"Line 1: the column\(s\) a appear more than once"):
        check_rows("a,b,A\n1,2,3\n", ("a",), dict)
    with pytest.raises(CsvRejected, match="Line 3: a cell is longer than 128 KB"):
        check_rows(f"a,b\n1,2\n1,{'x' * 200_000}\n", ("a",), dict)
    assert check_rows("A ,b\n1,2\n", ("a",), dict) == [{"a": "1", "b": "2"}]


def _needs_a(values: dict[str, str]) -> dict[str, str]:
    if values["a"] != "ok":
        raise InvalidInput("bad", f"“{values['a']}” is not ok.")
    return values


def test_check_rows_numbers_lines_as_the_file_does() -> None:
    # Blank lines count; a row whose quoted cell spans lines is named by its first line.
    text = 'a,b\nok,1\n\n\nbad,2\nok,"two\nlines"\nworse,3\n'
    with pytest.raises(CsvRejected) as refused:
        check_rows(text, ("a",), _needs_a)
    assert refused.value.errors == ["Line 5: “bad” is not ok.", "Line 8: “worse” is not ok."]
    with pytest.raises(CsvRejected, match="Line 4: “bad”"):
        check_rows('a,b\r\nok,"x\r\ny"\r\nbad,1\r\n', ("a",), _needs_a)


def test_check_rows_refuses_a_second_row_about_the_same_thing() -> None:
    def about(values: dict[str, str]) -> tuple[str, str]:
        return values["b"].lower(), f"row {values['b']}"

    text = "a,b\nok,x\nok,y\nok,X\nok,y\n"
    with pytest.raises(CsvRejected) as refused:
        check_rows(text, ("a",), _needs_a, repeat_of=about)
    assert refused.value.errors == [
        "Line 4: row X is already on line 2; keep one of them.",
        "Line 5: row y is already on line 3; keep one of them.",
    ]
    assert len(check_rows("a,b\nok,x\nok,y\n", ("a",), _needs_a, repeat_of=about)) == 2


def test_check_rows_reads_a_decimal_comma_only_in_a_semicolon_file() -> None:
    rows = check_rows("a;n;note\nok;72,5;3,5\nok;-1,25;x\n", ("a",), dict, decimal_columns=("n",))
    assert [(r["n"], r["note"]) for r in rows] == [("72.5", "3,5"), ("-1.25", "x")]
    # In a comma file "72,5" is two cells; a cell "1,5" there stays as written.
    assert check_rows('a,n\nok,"1,5"\n', ("a",), dict, decimal_columns=("n",)) == [
        {"a": "ok", "n": "1,5"}
    ]
    assert check_rows("a;n\nok;1,2,3\n", ("a",), dict, decimal_columns=("n",))[0]["n"] == "1,2,3"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-05-30", dt.date(2027, 5, 30)),
        (" 2000-01-01 ", dt.date(2000, 1, 1)),
        ("2099-12-31", dt.date(2099, 12, 31)),
        ("30/05/2027", dt.date(2027, 5, 30)),
        (" 1/2/2027", dt.date(2027, 2, 1)),
    ],
)
def test_parse_date_in_range(value: str, expected: dt.date) -> None:
    assert parse_date(value, "start_date") == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1999-12-31", "date_out_of_range"),
        ("2100-01-01", "date_out_of_range"),
        ("9999-12-31", "date_out_of_range"),
        ("0001-01-01", "date_out_of_range"),
        ("31/02/2027", "bad_date"),
        ("05/30/2027", "bad_date"),
        ("30.05.2027", "bad_date"),
        ("31/12/1999", "date_out_of_range"),
        (20270530, "bad_date"),
        (None, "bad_date"),
    ],
)
def test_parse_date_refused(value: Any, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_date(value, "start_date")
    # The field as the form labels it, never its name in the code.
    assert refused.value.code == code and refused.value.message.startswith("Start date: ")


@pytest.mark.parametrize(
    ("released", "expected"),
    [(True, True), (False, False), ("yes", True), (" No ", False), ("1", True), ("off", False)],
)
def test_released_is_a_boolean(released: Any, expected: bool) -> None:
    assert parse_result({"score": 1, "outcome": "pass", "released": released}).released is expected


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("released", "", "bad_boolean"),
        ("released", "later", "bad_boolean"),
        ("released", 1, "bad_boolean"),
        ("released", None, "bad_boolean"),
        ("comment", ["a"], "bad_text"),
        ("comment", 5, "bad_text"),
        ("override_reason", {"a": 1}, "bad_text"),
    ],
)
def test_result_fields_of_the_wrong_type(field: str, value: Any, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_result({"score": 1, "outcome": "pass", field: value})
    label = {"released": "Released", "comment": "Comment", "override_reason": "Override reason"}
    assert refused.value.code == code and refused.value.message.startswith(label[field])
