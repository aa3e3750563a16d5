"""Reading staff CSV uploads: the header checked, every row checked, errors by line number,
and nothing returned (so nothing written) unless every row is good."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
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


def check_rows(
    text: str, required: Sequence[str], handle: Callable[[dict[str, str]], T]
) -> list[T]:
    """``handle`` each non-blank row (values stripped, headers lower-cased); a ``ToolError``
    from it becomes "Line N: …". Raises ``CsvRejected`` listing every bad line, or when the
    file has no data rows."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [h for h in required if h not in header]
    if missing:
        raise CsvRejected([f"Line 1: missing column(s) {', '.join(missing)}."])
    reader.fieldnames = header
    results: list[T] = []
    errors: list[str] = []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            errors.append(f"More than {MAX_ROWS} rows; split the file.")
            break
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        try:
            results.append(handle(values))
        except ToolError as exc:
            errors.append(f"Line {number}: {exc.message}")
    if errors:
        raise CsvRejected(errors)
    if not results:
        raise CsvRejected(["The file has no data rows."])
    return results
