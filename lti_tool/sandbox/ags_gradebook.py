"""The sandbox's gradebook page (``GET /gradebook``): what a tutor sees in Moodle's grader
report, line items by learners, from the AGS fake's store."""

from __future__ import annotations

from typing import Any

from flask import render_template

from lti_tool.sandbox.ags_store import AgsStore, LineItem, number
from lti_tool.sandbox.ags_validation import is_learner
from lti_tool.sandbox.demo_people import DEMO_CONTEXT


def gradebook_page(store: AgsStore, roster: list[Any]) -> str:
    """Line items by learners, score/max and time."""
    items = store.find(None, None, None)
    rows = gradebook_rows(items, store.snapshot(), roster)
    return render_template(
        "sandbox/gradebook.html", context=DEMO_CONTEXT, items=items, rows=rows, number=number
    )


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
