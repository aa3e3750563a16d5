"""Assessment results from a CSV file: checked whole, written all or nothing.

Columns: ``student`` (LTI user id), ``module``, ``score``, ``outcome`` (pass, fail, referred),
and optionally ``max`` (default 100), ``comment``, ``released`` (default yes),
``override_reason``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.errors import ToolError

REQUIRED = ("student", "module", "score", "outcome")
MAX_ROWS = 5000


class ResultsCsvRejected(ToolError):
    status = 422
    title = "The file was not imported"

    def __init__(self, errors: list[str]) -> None:
        super().__init__("csv_invalid", "Nothing was imported. " + " ".join(errors[:20]))
        self.errors = errors


def import_results(
    session: Session, text: str, save_row: Callable[[str, str, dict[str, Any]], object]
) -> int:
    """Save every row with ``save_row(module, student, body)`` inside the caller's transaction;
    any bad row makes the whole file fail (the caller's transaction is then rolled back)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise ResultsCsvRejected([f"Line 1: missing column(s) {', '.join(missing)}."])
    reader.fieldnames = header
    errors: list[str] = []
    saved = 0
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            errors.append(f"More than {MAX_ROWS} rows; split the file.")
            break
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        body: dict[str, Any] = {
            "score": values["score"],
            "outcome": values["outcome"],
            "max": values.get("max") or 100,
            "comment": values.get("comment") or None,
            "released": values.get("released") or "true",
            "override_reason": values.get("override_reason") or None,
        }
        try:
            # Every check of a row happens before it writes anything, so a refused row leaves
            # nothing behind and the next rows can still be checked.
            save_row(values["module"], values["student"], body)
            saved += 1
        except ToolError as exc:
            errors.append(f"Line {number}: {exc.message}")
    if errors:
        raise ResultsCsvRejected(errors)
    if not saved:
        raise ResultsCsvRejected(["The file has no data rows."])
    return saved
