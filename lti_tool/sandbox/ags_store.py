"""The sandbox AGS platform's data: line items, the gradebook and the score POSTs
(``ags.py`` serves them over HTTP, ``ags_validation.py`` checks what arrives and
``ags_protocol.py`` writes Moodle's JSON and paging shapes).

Thread-safe (the sandbox server is threaded and the tool posts concurrently): every read and
write holds one lock. Nothing here stops two line items with the same ``resourceId``: avoiding
duplicates is the tool's job, as on a real LMS.

Moodle rules kept (``gradebookservices`` ``scores.php``/``lineitem.php``): a score whose time is
not later than the stored one is refused with 409 (equal included; stored times are whole
seconds, so two scores within one second clash); ``resultScore`` is rescaled to the line item's
maximum.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields, replace
from typing import Any


class AgsRefused(Exception):
    """A request the platform refuses: HTTP ``status`` with Moodle's ``reason``. With
    ``in_status_line`` the reason is the HTTP reason phrase and the body is ``[]``, as Moodle
    answers a score it refuses (``400 Incorrect score received{…}``)."""

    def __init__(self, status: int, reason: str, *, in_status_line: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.in_status_line = in_status_line


@dataclass(frozen=True)
class LineItem:
    """One gradebook column. ``tool_owned`` is False for an activity's own grade item."""

    id: int
    label: str
    score_maximum: float
    resource_id: str = ""
    tag: str = ""
    resource_link_id: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    tool_owned: bool = True

    def to_json(self, url: str) -> dict[str, Any]:
        """The spec's line item, in Moodle's field order (it sends ``ltiLinkId`` too)."""
        body: dict[str, Any] = {
            "id": url,
            "label": self.label,
            "scoreMaximum": number(self.score_maximum),
            "resourceId": self.resource_id,
            "tag": self.tag,
        }
        if self.resource_link_id is not None:
            body["resourceLinkId"] = body["ltiLinkId"] = self.resource_link_id
        if self.start_date_time is not None:
            body["startDateTime"] = self.start_date_time
        if self.end_date_time is not None:
            body["endDateTime"] = self.end_date_time
        return body


@dataclass(frozen=True)
class Grade:
    """The last accepted score of one user on one line item."""

    user_id: str
    score_given: float | None
    score_maximum: float
    comment: str | None
    timestamp: str
    seconds: int
    activity_progress: str
    grading_progress: str

    def result_score(self, item_maximum: float) -> float | None:
        """``scoreGiven`` rescaled to the line item's maximum, as Moodle stores it."""
        if self.score_given is None:
            return None
        return self.score_given * item_maximum / self.score_maximum

    def as_dict(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "scoreGiven": self.score_given,
            "scoreMaximum": self.score_maximum,
            "comment": self.comment,
            "timestamp": self.timestamp,
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
        }


@dataclass(frozen=True)
class ScorePost:
    """One score POST that reached the scores resource, with the status it got."""

    lineitem_id: int
    body: Any
    status: int

    @property
    def user_id(self) -> str | None:
        return str(self.body.get("userId")) if isinstance(self.body, dict) else None


def number(value: float) -> float | int:
    """JSON numbers as Moodle writes them: ``100``, not ``100.0``."""
    return int(value) if float(value).is_integer() else value


class AgsStore:
    """Line items by id and the gradebook ``{line item id: {user id: Grade}}``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.items: dict[int, LineItem] = {}
        self.grades: dict[int, dict[str, Grade]] = {}
        self._next_id = 1

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.grades.clear()
            self._next_id = 1

    def create(self, **values: Any) -> LineItem:
        with self.lock:
            item = LineItem(id=self._next_id, **values)
            self._next_id += 1
            self.items[item.id] = item
            return item

    def get(self, item_id: int) -> LineItem | None:
        with self.lock:
            return self.items.get(item_id)

    def find(
        self, resource_id: str | None, resource_link_id: str | None, tag: str | None
    ) -> list[LineItem]:
        """The line items matching every filter given, in creation order."""
        with self.lock:
            return [
                item
                for item in sorted(self.items.values(), key=lambda i: i.id)
                if (resource_id is None or item.resource_id == resource_id)
                and (resource_link_id is None or item.resource_link_id == resource_link_id)
                and (tag is None or item.tag == tag)
            ]

    def update(self, item_id: int, values: dict[str, Any]) -> LineItem | None:
        """Replace a line item's fields (PUT); an absent resourceLinkId keeps the old one."""
        known = {f.name for f in fields(LineItem)}
        with self.lock:
            item = self.items.get(item_id)
            if item is None:
                return None
            item = replace(item, **{k: v for k, v in values.items() if k in known})
            self.items[item_id] = item
            return item

    def delete(self, item_id: int) -> None:
        with self.lock:
            self.items.pop(item_id, None)
            self.grades.pop(item_id, None)

    def record(self, item_id: int, grade: Grade) -> None:
        """Store a score unless the stored one is as new or newer (409, as Moodle)."""
        with self.lock:
            if item_id not in self.items:
                raise AgsRefused(404, f"Not Found: Grade item {item_id} doesn't exist.")
            column = self.grades.setdefault(item_id, {})
            stored = column.get(grade.user_id)
            if stored is not None and stored.seconds >= grade.seconds:
                raise AgsRefused(
                    409,
                    f"Refusing score with an earlier timestamp for item {item_id} "
                    f"and user {grade.user_id}",
                )
            column[grade.user_id] = grade

    def results(self, item_id: int, user_id: str | None = None) -> list[Grade]:
        with self.lock:
            column = self.grades.get(item_id, {})
            return [g for uid, g in sorted(column.items()) if user_id in (None, uid)]

    def snapshot(self) -> dict[int, dict[str, dict[str, Any]]]:
        """A copy of the gradebook as plain dicts (safe to read while the tool posts)."""
        with self.lock:
            return {
                item_id: {uid: grade.as_dict() for uid, grade in column.items()}
                for item_id, column in self.grades.items()
            }
