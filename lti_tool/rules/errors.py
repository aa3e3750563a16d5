"""The one exception the rules core raises for a bad qualification file."""

from __future__ import annotations


class RulesError(Exception):
    """A qualification file is unreadable or breaks a rule; names the file, the key and why."""

    def __init__(self, path: str, key: str, reason: str) -> None:
        super().__init__(f"{path}: {key}: {reason}")
        self.path = path
        self.key = key
        self.reason = reason
