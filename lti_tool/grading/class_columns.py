"""The class view's columns, filters, sort orders and CSV layout, built from the course's
qualification: one column per assessment module, labels from the qualification's own titles.

A row is one entry of ``grading.class_view.class_rows`` (with ``groups`` added): its
``modules`` follow the qualification's modules in file order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lti_tool.rules import AssessmentOutcome, Module, Qualification

ALL = "all"
BY_NAME = "name"

# How a result's grade sync reads in the class table.
SYNC_LABELS = {
    "delivered": "in gradebook",
    "failed": "sync failed",
    "refused": "refused by the gradebook",
    "pending": "not sent yet",
    "held": "held",
}

# The result filters, one per assessment outcome.
OUTCOME_LABELS = {
    "pass": "Passed an assessment",
    "fail": "Failed an assessment",
    "referred": "Referred in an assessment",
}

# The results export: the results import's columns first, in its order, so an export edited
# in a spreadsheet imports back (lines without a score or outcome import nothing); then
# columns the import ignores, for reading.
CSV_HEADER = (
    "student",
    "module",
    "score",
    "max",
    "outcome",
    "comment",
    "released",
    "override_reason",
    "name",
    "email",
    "groups",
)

Row = dict[str, Any]
# The filters that read only a row's person (not its modules).
_PERSON_FILTERS = frozenset({ALL, "not_launched"})
Keep = Callable[[Row], bool]


@dataclass(frozen=True)
class Column:
    """One assessment module of the qualification, as a column of the class table."""

    code: str
    title: str
    hours_required: int

    @property
    def label(self) -> str:
        """The module as people name it: code and title."""
        return f"{self.code} {self.title}"


@dataclass(frozen=True)
class ClassColumns:
    """Everything of the class view that depends on the qualification."""

    qualification_code: str
    qualification_title: str
    columns: tuple[Column, ...]
    filters: dict[str, str]
    sorts: dict[str, str]
    _keeps: dict[str, Keep]
    _hours_sorts: dict[str, str]

    def filter_name(self, asked: str | None) -> str:
        """The filter to apply: ``asked`` when this qualification offers it, else everyone
        (an old link naming another qualification's module, or a made-up value)."""
        return asked if asked in self.filters else ALL

    def sort_name(self, asked: str | None) -> str:
        """The sort order to apply: ``asked`` when offered, else by name."""
        return asked if asked in self.sorts else BY_NAME

    def keep(self, row: Row, filter_name: str) -> bool:
        """Whether ``row`` is shown under the filter ``filter_name`` (unknown: everyone)."""
        test = self._keeps.get(filter_name)
        return True if test is None else test(row)

    def needs_modules(self, filter_name: str, sort_name: str) -> bool:
        """Whether the filter or the order reads the rows' ``modules`` (the rules engine's
        verdicts); else they read only who the students are, and a page of the class can be
        chosen before the rules run for the students it shows."""
        return filter_name not in _PERSON_FILTERS or sort_name != BY_NAME

    def sort_key(self, sort_name: str) -> Callable[[Row], Any]:
        """A key for ``sorted``: most hours of a module first, or family name then name."""
        code = self._hours_sorts.get(sort_name)
        if code is not None:
            return lambda r: (-int(_module(r, code).get("hours_completed", 0)), r["name"] or "")
        return lambda r: ((r["name"] or "").split()[-1:] or [""], r["name"] or "", r["sub"])

    def csv_header(self) -> list[str]:
        """The export's header: one line per student and module."""
        return list(CSV_HEADER)

    def csv_rows(self, rows: list[Row]) -> Iterator[list[Any]]:
        """The export's lines, one per student and module in the qualification's order; a
        module without a result has blank result cells."""
        for row in rows:
            for column in self.columns:
                m = _module(row, column.code)
                if not m:
                    continue
                result = m.get("result") or {}
                yield [
                    row["sub"],
                    m["code"],
                    _number(result.get("score")),
                    _number(result.get("max")),
                    result.get("outcome", ""),
                    result.get("comment") or "",
                    yes_no(result.get("released")),
                    result.get("override_reason") or "",
                    row["name"] or "",
                    row["email"] or "",
                    "; ".join(row.get("groups", [])),
                ]


def class_columns(qualification: Qualification) -> ClassColumns:
    """The class view of ``qualification``: its modules' columns, filters and sort orders."""
    columns = tuple(_column(module) for module in qualification.modules)
    keeps: dict[str, Keep] = {ALL: lambda row: True}
    filters = {ALL: "Everyone"}
    keeps["at_risk"] = _any_module(lambda m: bool(m["at_risk"] or m["overdue"]))
    filters["at_risk"] = "At risk or overdue"
    for column in columns:
        ready = f"eligible_no_result_{column.code}"
        keeps[ready] = _in_module(column.code, _ready_without_result)
        filters[ready] = f"Ready for {column.label}, no result yet"
        missing = f"missing_{column.code}"
        keeps[missing] = _in_module(column.code, lambda m: not m.get("cpd_complete"))
        filters[missing] = f"Missing a {column.label} CPD requirement"
    for outcome in AssessmentOutcome:
        key = f"result_{outcome.value}"
        keeps[key] = _any_module(_has_outcome(outcome.value))
        filters[key] = OUTCOME_LABELS.get(outcome.value, f"A result of {outcome.value}")
    keeps["results_held"] = _any_module(lambda m: _sync(m) == "held")
    filters["results_held"] = "Result held, not released"
    keeps["sync_failed"] = _any_module(lambda m: _sync(m) in {"failed", "refused"})
    filters["sync_failed"] = "Grade sync failed"
    keeps["not_launched"] = lambda row: not row["launched"]
    filters["not_launched"] = "Has not opened the tool"
    hours_sorts = {f"{column.code.lower()}_hours": column.code for column in columns}
    sorts = {BY_NAME: "Name"}  # then most hours first, module by module
    for column in columns:
        sorts[f"{column.code.lower()}_hours"] = f"Hours completed for {column.label}"
    return ClassColumns(
        qualification_code=qualification.code,
        qualification_title=qualification.title,
        columns=columns,
        filters=filters,
        sorts=sorts,
        _keeps=keeps,
        _hours_sorts=hours_sorts,
    )


def yes_no(value: bool | None) -> str:
    """A yes/no cell for a person reading the file (blank when there is no value)."""
    return "" if value is None else ("yes" if value else "no")


def _number(value: float | None) -> str:
    """A score as written by hand: 72, not 72.0."""
    return "" if value is None else f"{value:g}"


def _column(module: Module) -> Column:
    return Column(code=module.code, title=module.title, hours_required=module.cpd_hours)


def _module(row: Row, code: str) -> dict[str, Any]:
    return next((m for m in row["modules"] if m["code"] == code), {})


def _result(module: dict[str, Any]) -> dict[str, Any]:
    return module.get("result") or {}


def _sync(module: dict[str, Any]) -> str | None:
    status = (_result(module).get("sync") or {}).get("status")
    return None if status is None else str(status)


def _ready_without_result(module: dict[str, Any]) -> bool:
    return bool(module.get("cpd_complete")) and module.get("result") is None


def _has_outcome(outcome: str) -> Callable[[dict[str, Any]], bool]:
    return lambda module: _result(module).get("outcome") == outcome


def _any_module(test: Callable[[dict[str, Any]], bool]) -> Keep:
    return lambda row: any(test(m) for m in row["modules"])


def _in_module(code: str, test: Callable[[dict[str, Any]], bool]) -> Keep:
    def keep(row: Row) -> bool:
        module = _module(row, code)
        return bool(module) and test(module)

    return keep
