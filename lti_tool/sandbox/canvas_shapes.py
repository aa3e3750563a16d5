"""What the sandbox's Canvas REST fake sends back: course, module item and paging shapes as
Canvas writes them (``canvas_rest`` serves them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Response, jsonify, request

from lti_tool.sandbox.demo_data import COMPLETE, COMPLETE_PASS, Activity, Course

T = TypeVar("T")
_REQUIREMENT = {"manual": "must_mark_done", "passgrade": "min_score", "view": "must_view"}
_ITEM_TYPE = {"assign": "Assignment", "quiz": "Quiz", "url": "ExternalUrl", "lti": "ExternalTool"}


def module_item(
    course: Course, activity: Activity, state: tuple[int, int] | None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": activity.cmid,
        "module_id": activity.module_id,
        "title": activity.name,
        "type": _ITEM_TYPE.get(activity.modname, "Page"),
        "indent": 0,
        "html_url": f"{site()}/courses/{course.id}/modules/items/{activity.cmid}",
    }
    if activity.tracking:
        requirement: dict[str, Any] = {"type": _REQUIREMENT[activity.rule]}
        if activity.rule == "passgrade":
            requirement["min_score"] = 40.0
        if state is not None:
            requirement["completed"] = state[0] in (COMPLETE, COMPLETE_PASS)
        item["completion_requirement"] = requirement
    return item


def course_json(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "name": course.fullname,
        "course_code": course.shortname,
        "workflow_state": "available",
        "account_id": 1,
    }


def paged(items: Sequence[T], render: Callable[[T], Any]) -> Response:
    """One page of ``items`` with Canvas's ``Link`` header. Canvas ignores what it cannot
    read: 10 per page (at most 100), from page 1."""
    per_page = min(max(number(request.args.get("per_page"), 10), 1), 100)
    page = max(number(request.args.get("page"), 1), 1)
    response = json_response(
        [render(item) for item in items[(page - 1) * per_page : page * per_page]]
    )
    last = max(1, -(-len(items) // per_page))
    links = [("current", page), ("first", 1), ("last", last)]
    if page < last:
        links.insert(1, ("next", page + 1))
    if page > 1:
        links.insert(1, ("prev", page - 1))
    response.headers["Link"] = ",".join(
        f'<{page_url(n, per_page)}>; rel="{rel}"' for rel, n in links
    )
    return response


def page_url(page: int, per_page: int) -> str:
    query = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "per_page")]
    return f"{request.base_url}?{urlencode([*query, ('page', page), ('per_page', per_page)])}"


def site() -> str:
    """The fake Canvas's own address: the host and the blueprint's URL prefix."""
    return request.host_url.rstrip("/") + request.path.split("/api/v1/")[0]


def number(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


def iso(timestamp: int | None) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_response(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
