"""Builders shared by the rules tests: the real and the made-up qualification, completions."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from lti_tool.rules import Completion, CompletionStatus, Qualification, load_qualification

ROOT = Path(__file__).resolve().parents[3]
REAL_FILE = ROOT / "config" / "qualifications" / "pgcert-clinical-leadership.toml"
MADE_UP_FILE = Path(__file__).parent / "data" / "made-up-diploma.toml"

B832_CODES = ("GB080", "GB081", "GB082", "GB083", "GB084", "GB085", "GB086")
B833_COMPULSORY = ("GB087", "GB088", "GB089")
B833_OPTIONAL = ("GB090", "GB091", "GB092")

# A B832 start on the published date, and the six-month deadline that follows from it.
START = date(2027, 5, 30)
DEADLINE = date(2027, 11, 30)


@cache
def pgcert() -> Qualification:
    return load_qualification(REAL_FILE)


@cache
def made_up() -> Qualification:
    return load_qualification(MADE_UP_FILE)


def done(code: str, on: date = date(2027, 1, 10), began: date | None = None) -> Completion:
    return Completion(code, CompletionStatus.COMPLETED, began, on, source="test")


# B833 done: its three compulsory courses and two of the optional ones (B832 alone is left).
B833_DONE = [done(code) for code in B833_COMPULSORY + B833_OPTIONAL[:2]]


def going(code: str, since: date | None = None) -> Completion:
    return Completion(code, CompletionStatus.IN_PROGRESS, since, None, source="test")


def all_done(on: date = date(2027, 1, 10)) -> list[Completion]:
    return [done(code, on) for code in B832_CODES + B833_COMPULSORY + B833_OPTIONAL[:2]]
