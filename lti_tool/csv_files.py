"""Reading staff CSV uploads: the header checked, every row checked, errors by line number,
and nothing returned (so nothing written) unless every row is good."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from lti_tool.errors import ToolError

T = TypeVar("T")
MAX_ROWS = 5000


class CsvRejected(ToolError):
    status = 422
    title = "The file was not imported"

    def __init__(self, errors: list[str]) -> None:
        super().__init__("csv_invalid", "Nothing was imported. " + " ".join(errors[:20]))
        self.errors = errors


# A cell starting with one of these would be a formula in a spreadsheet (``=HYPERLINK(…)``).
_FORMULA_STARTS = frozenset({"=", "+", "-", "@", "\t", "\r"})


def spreadsheet_safe(cell: T) -> T | str:
    """A text cell that cannot start a formula: ``'`` before it, as a spreadsheet writes
    text that looks like one (the ``'`` is not shown there)."""
    if isinstance(cell, str) and cell[:1] in _FORMULA_STARTS:
        return "'" + cell
    return cell


def from_spreadsheet_safe(value: str) -> str:
    """The cell as it was before ``spreadsheet_safe``: an export imports back unchanged (a
    comment "- needs structure" stays that, not "'- needs structure")."""
    if value[:1] == "'" and value[1:2] in _FORMULA_STARTS:
        return value[1:]
    return value


NOT_UTF8 = (
    "The file is not saved as UTF-8, so names with accents or symbols would be garbled. In "
    'Excel choose File, Save As, "CSV UTF-8 (Comma delimited)"; in Numbers or '
    "LibreOffice choose the UTF-8 character set; then upload it again."
)


def decode_upload(raw: bytes) -> str:
    """The text of an uploaded CSV file: UTF-8, with or without a byte-order mark. Anything
    else (Windows-1252 from older Excel, UTF-16 "Unicode text", a binary file) is refused
    rather than guessed, since a wrong guess silently changes names."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvRejected([NOT_UTF8])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvRejected([f"Line {line}: {NOT_UTF8}"]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CsvRejected(
            [
                f"Line {line}: the file contains NUL characters, so it is not a plain CSV file.",
                NOT_UTF8,
            ]
        )
    return text


# What a row names, for telling a repeated row: a key, and the key in words ("B832 for Sam").
RepeatOf = Callable[[T], "tuple[Hashable, str] | None"]


def check_rows(
    text: str,
    required: Sequence[str],
    handle: Callable[[dict[str, str]], T],
    *,
    repeat_of: RepeatOf[T] | None = None,
    decimal_columns: Sequence[str] = (),
) -> list[T]:
    """``handle`` each non-blank row (values stripped, headers lower-cased); a ``ToolError``
    from it becomes "Line N: …", N counting every line of the file, blank ones too. Raises
    ``CsvRejected`` listing every bad line, or when the file has no data rows, repeats a
    column, or cannot be read as CSV. ``repeat_of`` names what a handled row is about: a
    second row about the same thing is refused, since one of the two would silently undo
    the other. In a semicolon file (Excel where the decimal separator is a comma) a
    ``decimal_columns`` cell such as ``72,5`` reads as ``72.5``."""
    text = text.lstrip("\ufeff")
    delimiter = _delimiter(text)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    decimals = decimal_columns if delimiter == ";" else ()
    try:
        return _check_rows(reader, required, handle, repeat_of, decimals)
    except csv.Error as exc:  # a cell over the size limit, a broken quote
        raise CsvRejected([f"Line {reader.reader.line_num}: {_csv_problem(exc)}"]) from None


def _delimiter(text: str) -> str:
    """``;`` for a file whose header is separated by semicolons and has no comma (Excel saves
    CSV so where the decimal separator is a comma); ``,`` otherwise."""
    header = text.split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


# Column headings as a tutor may write them, for the names the imports use.
HEADER_ALIASES = {
    "completed_on": "completed_at",
    "date_completed": "completed_at",
    "completion_date": "completed_at",
    "started_on": "started_at",
    "course": "course_code",
    "out_of": "max",
    "start": "start_date",
    # Moodle's exports head the email column "Email address"; Excel and others "E-mail".
    "email_address": "email",
    "e_mail": "email",
    "e_mail_address": "email",
}


def _heading(raw: str) -> str:
    """``Completed on`` → ``completed_at``, ``Override reason`` → ``override_reason``."""
    name = "_".join(raw.strip().lower().replace("-", " ").split())
    return HEADER_ALIASES.get(name, name)


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell is longer than {csv.field_size_limit() // 1024} KB; is this the right file?"
    return f"the file could not be read as CSV ({exc}); check it is a plain CSV file."


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def _check_rows(
    reader: csv.DictReader[str],
    required: Sequence[str],
    handle: Callable[[dict[str, str]], T],
    repeat_of: RepeatOf[T] | None,
    decimal_columns: Sequence[str],
) -> list[T]:
    header = [_heading(h) for h in (reader.fieldnames or [])]
    missing = [h for h in required if h not in header]
    if missing:
        words = ", ".join(h.replace("_", " ") for h in missing)
        raise CsvRejected([f"Line 1: missing column(s): {words}."])
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        # DictReader keeps only the last of two same-named columns: which one was meant?
        raise CsvRejected(
            [f"Line 1: the column(s) {', '.join(repeated)} appear more than once; keep one."]
        )
    reader.fieldnames = header
    results: list[T] = []
    errors: list[str] = []
    seen: dict[Hashable, int] = {}
    for count, raw in enumerate(reader, start=1):
        if count > MAX_ROWS:
            errors.append(f"More than {MAX_ROWS} rows; split the file.")
            break
        # The reader skips blank lines without a word; its line count does not. A quoted cell
        # may span lines: the row is named by the line it starts on.
        cells = [v for v in raw.values() if isinstance(v, str)]
        number = reader.line_num - sum(cell.count("\n") for cell in cells)
        values = {k: from_spreadsheet_safe((v or "").strip()) for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        for column in decimal_columns:
            if _DECIMAL_COMMA.fullmatch(values.get(column, "")):
                values[column] = values[column].replace(",", ".")
        try:
            result = handle(values)
        except ToolError as exc:
            errors.append(f"Line {number}: {exc.message}")
            continue
        about = repeat_of(result) if repeat_of is not None else None
        if about is not None:
            key, words = about
            if key in seen:
                errors.append(
                    f"Line {number}: {words} is already on line {seen[key]}; keep one of them."
                )
                continue
            seen[key] = number
        results.append(result)
    if errors:
        raise CsvRejected(errors)
    if not results:
        raise CsvRejected(["The file has no data rows."])
    return results
