"""The qualifications the tool knows (one rules file each) and which one a course follows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lti_tool.rules.errors import RulesError
from lti_tool.rules.loader import load_all
from lti_tool.rules.model import Qualification


@dataclass(frozen=True)
class Catalog:
    qualifications: Mapping[str, Qualification]
    default_code: str

    @classmethod
    def load(cls, folder: Path, default_code: str) -> Catalog:
        """Load every rules file; the default must be one of them (fail at start-up, not later).
        Any of these failures is a ``RulesError`` naming the file or folder and the key."""
        qualifications = load_all(folder)
        if default_code not in qualifications:
            raise RulesError(
                str(folder),
                "default_qualification",
                f"{default_code!r} is not the code of any qualification file here"
                f" ({', '.join(sorted(qualifications))})",
            )
        return cls(qualifications, default_code)

    def find(self, code: str) -> Qualification | None:
        return self.qualifications.get(code)

    def named_by_link(self, custom: Mapping[str, Any] | None) -> Qualification | None:
        """The qualification the link's ``qualification`` custom parameter names, when it
        names one of these (the LMS sets it on a link or for the whole tool)."""
        requested = (custom or {}).get("qualification")
        if isinstance(requested, str) and requested.strip() in self.qualifications:
            return self.qualifications[requested.strip()]
        return None

    def unknown_to_link(self, custom: Mapping[str, Any] | None) -> str | None:
        """The code the link's ``qualification`` custom parameter gives when it names none of
        these (a typo in the LMS): the course then follows the staff's choice or default."""
        requested = (custom or {}).get("qualification")
        if isinstance(requested, str) and requested.strip() and self.named_by_link(custom) is None:
            return requested.strip()
        return None

    def pick(self, custom: Mapping[str, Any] | None, chosen: str | None) -> Qualification:
        """The link's ``qualification`` custom parameter, else the staff's choice for the
        course (``chosen``), else the configured default."""
        linked = self.named_by_link(custom)
        if linked is not None:
            return linked
        if chosen and chosen in self.qualifications:
            return self.qualifications[chosen]
        return self.qualifications[self.default_code]
