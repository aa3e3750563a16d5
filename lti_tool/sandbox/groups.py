"""The sandbox's LTI Course Groups service: the course's groups and group sets as
``contextgroupcontainer`` documents, filtered by ``user_id``, paged with ``limit``/``from``
and a ``Link: rel="next"`` header. It checks the Accept header and the token's scope."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request

from lti_tool.lti import claims as c
from lti_tool.sandbox.demo_people import DEMO_CONTEXT
from lti_tool.sandbox.platform import SandboxPlatform
from lti_tool.sandbox.service_auth import ServiceRefused, require_scope

GROUPS_MEDIA_TYPE = "application/vnd.ims.lti-gs.v1.contextgroupcontainer+json"


def register_groups(app: Flask, platform: SandboxPlatform) -> None:
    def container(key: str, items: list[dict[str, Any]]) -> Response:
        if request.headers.get("Accept") != GROUPS_MEDIA_TYPE:
            raise ServiceRefused(400, "Bad Request: Accept must be " + GROUPS_MEDIA_TYPE)
        require_scope(platform, c.GROUPS_SCOPE)
        start = int(request.args.get("from", 0))
        limit = int(request.args.get("limit", 0)) or len(items) or 1
        response = jsonify({"id": request.base_url, key: items[start : start + limit]})
        response.headers["Content-Type"] = GROUPS_MEDIA_TYPE
        if start + limit < len(items):
            query = urlencode({**request.args, "limit": limit, "from": start + limit})
            response.headers["Link"] = f'<{request.base_url}?{query}>; rel="next"'
        platform.counters["groups"] = platform.counters.get("groups", 0) + 1
        return response

    def known(context_id: str) -> None:
        if context_id != DEMO_CONTEXT["id"]:
            raise ServiceRefused(404, "Not Found")

    @app.get("/api/groups/<context_id>/groups")
    def course_groups(context_id: str) -> Response:
        known(context_id)
        user_id = request.args.get("user_id")
        groups = [
            {k: v for k, v in g.items() if k != "members"}
            for g in platform.groups
            if user_id is None or user_id in g.get("members", [])
        ]
        return container("groups", groups)

    @app.get("/api/groups/<context_id>/sets")
    def course_group_sets(context_id: str) -> Response:
        known(context_id)
        return container("sets", list(platform.group_sets))
