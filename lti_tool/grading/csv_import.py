"""Assessment results from a CSV file: checked whole, written all or nothing.

Columns: ``student`` (LMS user id, email or username), ``module``, ``score``, ``outcome``
(pass, fail, referred), and optionally ``max`` (default 100), ``comment``, ``released``
(default yes), ``override_reason``, ``email`` (when given, the student's own: a file of a
course on another platform names other people by the same ids). A line with neither score
nor outcome records nothing (the class export lists every student and module, marked or not,
so it can be filled in and imported). A student and module on two lines is refused: one mark
would silently replace the other. In a semicolon file (Excel with a decimal comma) a score
of ``72,5`` is 72.5.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.csv_files import check_rows

REQUIRED = ("student", "module", "score", "outcome")


# What a saved row was about: a key (the student and module) and the same in words.
Saved = tuple[Hashable, str]


def import_results(
    session: Session,
    text: str,
    save_row: Callable[[str, str, dict[str, Any], str | None], Saved],
) -> int:
    """Save every row with ``save_row(module, student, body, email)`` (``email``: the line's
    email cell, which the class export writes) inside the caller's transaction;
    any bad row makes the whole file fail (the caller's transaction is then rolled back).
    Every check of a row happens before it writes anything, so a refused row leaves nothing
    behind and the next rows can still be checked."""

    def row(values: dict[str, str]) -> Saved | None:
        if not values["score"] and not values["outcome"]:
            return None
        body: dict[str, Any] = {
            "score": values["score"],
            "outcome": values["outcome"],
            "max": values.get("max") or 100,
            "comment": values.get("comment") or None,
            "released": values.get("released") or "true",
            "override_reason": values.get("override_reason") or None,
            # A prepared file states each outcome on purpose: the score check that a form
            # asks staff to confirm does not refuse a whole import.
            "outcome_confirmed": True,
        }
        return save_row(values["module"], values["student"], body, values.get("email"))

    rows = check_rows(
        text,
        REQUIRED,
        row,
        repeat_of=lambda saved: saved,
        decimal_columns=("score", "max"),
    )
    return sum(1 for saved in rows if saved is not None)
