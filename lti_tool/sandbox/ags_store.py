"""The sandbox AGS platform's data and rules: line items, the gradebook, what a score must
meet, and Moodle's JSON and paging shapes (``ags.py`` serves them over HTTP).

Thread-safe (the sandbox server is threaded and the tool posts concurrently): every read and
write holds one lock. Nothing here stops two line items with the same ``resourceId``: avoiding
duplicates is the tool's job, as on a real LMS.

Moodle rules kept (``gradebookservices`` ``scores.php``/``lineitem.php``): the stored grade
time is the score timestamp truncated to whole seconds (``strtotime``), and a score whose
time is not later is refused with 409 (equal included, so two scores within one second
clash); a score that is not ``FullyGraded`` clears the grade; ``resultScore`` is rescaled to
the line item's maximum and left out when it is empty (0 included). Stricter than Moodle, as
the spec asks: progress values must be known ones, ``scoreGiven`` must lie in 0..scoreMaximum.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

ACTIVITY_PROGRESS = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
GRADING_PROGRESS = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})
INCORRECT_SCORE = "Incorrect score received"
LEARNER = "Learner"


class AgsRefused(Exception):
    """A request the platform refuses: HTTP ``status`` with Moodle's ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


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


def parse_lineitem(body: Any) -> dict[str, Any]:
    """The fields of a POSTed or PUT line item; ``resource_link_id`` only when sent."""
    if not isinstance(body, dict) or "label" not in body or "scoreMaximum" not in body:
        raise AgsRefused(400, "No label or Score Maximum")
    label, maximum = body["label"], body["scoreMaximum"]
    if not isinstance(label, str) or not label.strip() or not _is_number(maximum) or maximum <= 0:
        raise AgsRefused(400, "Bad Request")
    parsed: dict[str, Any] = {"label": label, "score_maximum": float(maximum)}
    for key, attr in (("resourceId", "resource_id"), ("tag", "tag")):
        value = body.get(key) or ""
        if not isinstance(value, str):
            raise AgsRefused(400, "Bad Request")
        parsed[attr] = value
    link = body.get("resourceLinkId", body.get("ltiLinkId"))
    if link is not None:
        if not isinstance(link, str | int) or isinstance(link, bool) or str(link) == "":
            raise AgsRefused(400, "Bad Request")
        parsed["resource_link_id"] = str(link)
    for key, attr in (("startDateTime", "start_date_time"), ("endDateTime", "end_date_time")):
        value = body.get(key)
        if value is not None and parse_time(value) is None:
            raise AgsRefused(400, "Bad Request")
        parsed[attr] = value
    return parsed


def parse_score(body: Any, roster: list[dict[str, Any]]) -> Grade:
    """Validate a score POST against the spec and the course roster (gradable = learner)."""
    if not isinstance(body, dict):
        raise AgsRefused(400, INCORRECT_SCORE)
    user = body.get("userId")
    when = parse_time(body.get("timestamp"))
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    comment = body.get("comment")
    if (
        not isinstance(user, str | int)
        or isinstance(user, bool)
        or not any(str(m.get("user_id")) == str(user) and is_learner(m) for m in roster)
        or when is None
        or body.get("activityProgress") not in ACTIVITY_PROGRESS
        or body.get("gradingProgress") not in GRADING_PROGRESS
        or (given is not None and (not _is_number(given) or given < 0))
        or (given is not None and maximum is None)
        or (maximum is not None and (not _is_number(maximum) or maximum <= 0))
        or (given is not None and maximum is not None and given > maximum)
        or (comment is not None and not isinstance(comment, str))
    ):
        raise AgsRefused(400, INCORRECT_SCORE)
    graded = body["gradingProgress"] == "FullyGraded"
    return Grade(
        user_id=str(user),
        score_given=float(given) if given is not None and graded else None,
        score_maximum=float(maximum) if maximum is not None else 1.0,
        comment=comment or None,
        timestamp=str(body["timestamp"]),
        seconds=int(when.timestamp() // 1),
        activity_progress=str(body["activityProgress"]),
        grading_progress=str(body["gradingProgress"]),
    )


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 date-time with a time zone, or None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_learner(member: dict[str, Any]) -> bool:
    """A roster member the gradebook grades (full or short ``Learner`` role)."""
    return any(str(r).rsplit("#", 1)[-1] == LEARNER for r in member.get("roles") or [])


def param_int(value: str | None) -> int:
    """PHP's PARAM_INT: the leading integer, else 0."""
    match = re.match(r"\s*([-+]?\d+)", value or "")
    return int(match.group(1)) if match else 0


def result_json(item: LineItem, grade: Grade, endpoint: str, type_id: str) -> dict[str, Any]:
    """Moodle's ``result_for_json``; ``endpoint`` is the line item URL without its query."""
    result: dict[str, Any] = {
        "id": f"{endpoint}/results?type_id={type_id}&user_id={quote(grade.user_id)}",
        "userId": grade.user_id,
    }
    score = grade.result_score(item.score_maximum)
    if score:  # Moodle's !empty(): an empty or 0 grade has no score, scoreOf or timestamp
        result["resultScore"] = number(score)
        result["resultMaximum"] = number(item.score_maximum)
        if grade.comment:
            result["comment"] = grade.comment
        result["scoreOf"] = f"{endpoint}?type_id={type_id}"
        result["timestamp"] = datetime.fromtimestamp(grade.seconds, UTC).isoformat()
    return result


def paging_links(
    base: str, query: list[tuple[str, str]], total: int, start: int, limit: int
) -> str:
    """Moodle's line item paging links, its arithmetic and typography included."""

    def url(offset: int) -> str:
        pairs = [*query, ("from", str(offset))]
        return base + "?" + "&amp;".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs)

    in_range = 0 <= start < total
    links = [(url(0), "first")]
    if start > 0 and in_range:
        links.append((url(max(start - limit, 0)), "prev"))
    links.append((url(start), "canonical"))
    if start + limit <= total - 1 and in_range:
        links.append((url(start + limit), "next"))
    links.append((url(max(total - limit + 1, 0)), "last"))
    return ", ".join(f"<{link}>; rel=\u201c{rel}\u201d" for link, rel in links)


def gradebook_rows(
    items: list[LineItem], grades: dict[int, dict[str, dict[str, Any]]], roster: list[Any]
) -> list[tuple[str, list[dict[str, Any] | None]]]:
    """(name, grade per line item) for each learner, then anyone graded who has left."""
    people = {
        str(m["user_id"]): str(m.get("name") or m["user_id"]) for m in roster if is_learner(m)
    }
    for column in grades.values():
        for uid in column:
            people.setdefault(uid, f"User {uid} (not in the course)")
    return [
        (name, [grades.get(item.id, {}).get(uid) for item in items]) for uid, name in people.items()
    ]
