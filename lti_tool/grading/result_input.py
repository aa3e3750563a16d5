"""What staff send for one assessment result (JSON API, form or CSV row), checked and typed:
numbers that are numbers, text that is text, a real yes/no for ``released``."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from lti_tool.errors import InvalidInput, field_label, quoted
from lti_tool.rules import AssessmentOutcome


@dataclass(frozen=True)
class ResultInput:
    score: float
    max_score: float
    outcome: AssessmentOutcome
    comment: str | None
    released: bool
    override_reason: str | None
    # Staff confirmed an outcome that disagrees with the score (grading/outcome_check.py).
    outcome_confirmed: bool = False
    # With check_unchanged, the change time of the value the writer saw (None: no result).
    check_unchanged: bool = False
    expected_changed_at: dt.datetime | None = None


def parse_result(body: Any) -> ResultInput:
    """``{score, max?, outcome, comment?, released?, override_reason?, outcome_confirmed?,
    expected_changed_at?}``, checked. ``expected_changed_at`` (the ``changed_at`` the writer
    last saw, or null for no result yet) makes the write refuse with 409 when someone changed
    the result since."""
    if not isinstance(body, dict):
        raise InvalidInput("bad_body", "Enter a score and an outcome (a comment is optional).")
    max_score = _number(body.get("max", 100), "max")
    if max_score <= 0:
        raise InvalidInput("bad_max", "Out of must be more than 0.")
    score = _number(body.get("score"), "score")
    if not 0 <= score <= max_score:
        raise InvalidInput("bad_score", f"The score must be between 0 and {max_score:g}.")
    try:
        outcome = AssessmentOutcome(str(body.get("outcome", "")).strip().lower())
    except ValueError:
        raise InvalidInput("bad_outcome", "Choose an outcome: pass, fail or referred.") from None
    released = _boolean(body.get("released", True), "released")
    comment = _text(body.get("comment"), "comment", 2000)
    override = _text(body.get("override_reason"), "override_reason", 500)
    return ResultInput(
        score,
        max_score,
        outcome,
        comment,
        released,
        override,
        outcome_confirmed=_boolean(body.get("outcome_confirmed", False), "outcome_confirmed"),
        check_unchanged="expected_changed_at" in body,
        expected_changed_at=_expected_stamp(body.get("expected_changed_at")),
    )


def _expected_stamp(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            "bad_timestamp",
            f"{field_label('expected_changed_at')}: {quoted(value)} is not a date and time.",
        ) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


TRUE_WORDS = frozenset({"true", "yes", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "off"})


def _boolean(value: Any, field: str) -> bool:
    """true or false; from a form or CSV file also yes/no, 1/0, on/off. Anything else is
    refused rather than guessed (a typo must not release a held result)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise InvalidInput(
        "bad_boolean", f"{field_label(field)} must be yes or no, not {quoted(value)}."
    )


def _text(value: Any, field: str, limit: int) -> str | None:
    """Optional text, trimmed and cut to ``limit`` characters; a number, list or object is
    refused (it would be stored as its Python spelling)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("bad_text", f"{field_label(field)} must be text.")
    return value.strip()[:limit] or None


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput("bad_number", f"{field_label(field)} must be a number.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            "bad_number", f"{field_label(field)} must be a number, not {quoted(value)}."
        ) from None
    if not math.isfinite(number):
        raise InvalidInput("bad_number", f"{field_label(field)} must be an ordinary number.")
    return number
