"""What a line item and a score sent to the sandbox AGS platform must meet, read into what
``ags_store.py`` keeps; and the request parameters as Moodle reads them.

Moodle rules kept (``gradebookservices`` ``scores.php``/``lineitem.php``): the stored grade
time is the score timestamp truncated to whole seconds (``strtotime``); a score that is not
``FullyGraded`` clears the grade. AGS 2.0's own rules: ``scoreGiven`` at least 0 and then a
``scoreMaximum`` above 0; a score above its maximum is extra credit, which AGS allows and Moodle
keeps. Stricter than Moodle: progress values must be known ones.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from lti_tool.sandbox.ags_store import AgsRefused, Grade

ACTIVITY_PROGRESS = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
GRADING_PROGRESS = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})
INCORRECT_SCORE = "Incorrect score received"
LEARNER = "Learner"


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


def incorrect_score(body: Any) -> AgsRefused:
    """Moodle's refusal of a score (``gradebookservices`` ``scores.php``): the words and the
    score it received in the HTTP reason phrase, the body ``[]``."""
    received = json.dumps(body, separators=(",", ":")) if body is not None else ""
    return AgsRefused(400, INCORRECT_SCORE + received, in_status_line=True)


def parse_score(body: Any, roster: list[dict[str, Any]]) -> Grade:
    """Validate a score POST against the spec and the course roster (gradable = learner)."""
    if not isinstance(body, dict):
        raise incorrect_score(body)
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
        or (comment is not None and not isinstance(comment, str))
    ):
        raise incorrect_score(body)
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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_learner(member: dict[str, Any]) -> bool:
    """A roster member the gradebook grades (full or short ``Learner`` role)."""
    return any(str(r).rsplit("#", 1)[-1] == LEARNER for r in member.get("roles") or [])


def param_int(value: str | None) -> int:
    """PHP's PARAM_INT: the leading integer, else 0."""
    match = re.match(r"\s*([-+]?\d+)", value or "")
    return int(match.group(1)) if match else 0
