"""Typed, checked access to a parsed TOML file: each failure is a ``RulesError`` naming the
file and the dotted key it concerns (the qualification loader's building blocks)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, TypeVar

from lti_tool.rules.errors import RulesError

T = TypeVar("T")

# A module's title names its gradebook column: Moodle's grade item name and Canvas's
# assignment name hold 255 characters. Every title is held to it; a module's with its code
# before it (a link placed by Deep Linking names its column "<code> <title>").
LONGEST_TITLE = 255

TYPE_NAMES: dict[type[Any], str] = {
    str: "string",
    int: "whole number",
    list: "list",
    dict: "table",
}


class FieldReader:
    """Typed access to the parsed TOML; every failure names the dotted key it concerns."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, reason: str) -> RulesError:
        return RulesError(self.source, key, reason)

    def table(
        self, data: Any, key: str, allowed: set[str], optional: Iterable[str] = ()
    ) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key or "(file)", "must be a table")
        prefix = f"{key}." if key else ""
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(f"{prefix}{unknown[0]}", "is not a known key")
        missing = sorted(allowed - set(data) - set(optional))
        if missing:
            raise self.fail(f"{prefix}{missing[0]}", "is missing")
        return data

    def typed(self, data: dict[str, Any], name: str, key: str, kind: type[T]) -> T:
        value = data[name]
        # bool is an int subclass in Python, but `hours = true` is never meant as a number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"must be a {TYPE_NAMES[kind]}, not {type(value).__name__}")
        return value

    def text(self, data: dict[str, Any], name: str, key: str) -> str:
        value = self.typed(data, name, key, str)
        if not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def title(self, data: dict[str, Any], name: str, key: str, code: str | None = None) -> str:
        """A title that fits a gradebook column's name; a module's (``code`` given) with its
        code before it, as Deep Linking names the column and the activity it places."""
        value = self.text(data, name, key)
        longest = LONGEST_TITLE if code is None else LONGEST_TITLE - len(code) - 1
        if len(value) > longest:
            named = (
                "a module's names its gradebook column"
                if code is None
                else f'a link placed for this module names its gradebook column "{code} <title>"'
            )
            raise self.fail(
                key,
                f"has {len(value)} characters; a title has at most {longest} here ({named}, "
                f"which Moodle and Canvas hold to {LONGEST_TITLE} characters)",
            )
        return value

    def code(self, data: dict[str, Any], name: str, key: str, longest: int) -> str:
        value = self.text(data, name, key)
        if "/" in value:
            # Codes travel as one segment of the tool's addresses (…/results/<module>/<sub>).
            raise self.fail(
                key, f"{value!r} holds '/': the tool's web addresses carry codes, so none may"
            )
        if len(value) > longest:
            raise self.fail(
                key, f"{value!r} has {len(value)} characters; a code has at most {longest}"
            )
        return value

    def count(
        self,
        data: dict[str, Any],
        name: str,
        key: str,
        most: int | None = None,
        least: int = 1,
    ) -> int:
        """A whole number from ``least``, to ``most`` when given."""
        value = self.typed(data, name, key, int)
        if value < least:
            raise self.fail(key, f"must be at least {least}, not {value}")
        if most is not None and value > most:
            raise self.fail(key, f"must be at most {most}, not {value}")
        return value

    def items(self, data: dict[str, Any], name: str, key: str, kind: type[T]) -> list[T]:
        values = self.typed(data, name, key, list)
        if not values:
            raise self.fail(key, "must not be empty")
        for index, value in enumerate(values):
            if not isinstance(value, kind):
                raise self.fail(f"{key}[{index}]", f"must be a {TYPE_NAMES[kind]}")
        return values

    def codes(self, data: dict[str, Any], name: str, key: str) -> tuple[str, ...]:
        codes = tuple(self.items(data, name, key, str))
        for code, seen in Counter(codes).items():
            if seen > 1:
                raise self.fail(key, f"lists {code!r} {seen} times")
        return codes
