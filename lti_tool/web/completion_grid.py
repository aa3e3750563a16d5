"""Staff completion grid: every student against every CPD course of the course's
qualification, filtered, searched, sorted and paged on the server (a GET form), and its
"completion" CSV export with a column per CPD course."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, render_template, request

from lti_tool.grading import service as grading
from lti_tool.grading.completion_grid import STATUS_LABELS, STATUS_MARKS
from lti_tool.grading.completion_grid_page import (
    DEFAULT_PAGE_SIZE,
    PAGE_SIZES,
    SORTS,
    STATUS_FILTERS,
    GridQuery,
)
from lti_tool.lti.launch_context import Launch
from lti_tool.web.auth import requires_launch, services
from lti_tool.web.class_view import SpreadsheetSafeWriter
from lti_tool.web.request_input import query_number

bp = Blueprint("completion_grid", __name__)


def _chosen_group(launch: Launch) -> tuple[list[Any], int | None]:
    groups = grading.class_groups(services(), launch)
    group = request.args.get("group", type=query_number)
    return groups, group if any(g.pk == group for g in groups) else None


@bp.get("/")
@requires_launch(staff=True)
def grid(launch: Launch) -> str:
    groups, group = _chosen_group(launch)
    args = request.args
    query = GridQuery.of(
        grading.completion_columns(services(), launch),
        args.get("status"),
        args.get("course"),
        args.get("q"),
        args.get("sort"),
    )
    asked_size = args.get("size", "")
    size_name = asked_size if asked_size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    asked_page = args.get("page", default=1, type=query_number) or 1
    columns, found, groups_of = grading.completion_grid_page(
        services(), launch, query, asked_page, PAGE_SIZES[size_name], group
    )
    links = {
        "group": group,
        "status": query.status,
        "course": query.course,
        "q": query.search or None,
        "sort": query.sort,
        "size": size_name,
    }
    return render_template(
        "staff/completion_grid.html",
        columns=columns,
        rows=found.rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        groups=groups,
        group=group,
        groups_of=groups_of,
        query=query,
        size=size_name,
        sizes=PAGE_SIZES,
        sorts=SORTS,
        status_filters=STATUS_FILTERS,
        labels=STATUS_LABELS,
        marks=STATUS_MARKS,
        links=links,
        untrackable=grading.untrackable_courses(services(), launch),
        session=launch,
    )


@bp.get("/completion.csv")
@requires_launch(staff=True)
def export(launch: Launch) -> Response:
    """One line per student, a column per CPD course with its status in words."""
    _, group = _chosen_group(launch)
    columns, rows, groups_of = grading.completion_grid(services(), launch, group)
    out = io.StringIO()
    writer = SpreadsheetSafeWriter(out)
    writer.writerow(["student", "name", "email", *(c.code for c in columns), "groups"])
    for row in GridQuery().apply(rows):
        writer.writerow(
            [
                row.sub,
                row.name,
                row.email,
                *(STATUS_LABELS[row.statuses.get(c.code, "missing")] for c in columns),
                "; ".join(groups_of.get(row.user_pk, [])),
            ]
        )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="completion.csv"'
    return response
