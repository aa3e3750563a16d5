"""What the staff views and API ask of grading, one function each, from a launch session."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lti_tool.container import Services
from lti_tool.grading.class_columns import ClassColumns, class_columns
from lti_tool.grading.class_view import ClassPage, class_rows
from lti_tool.grading.class_view import class_page as page_of_class
from lti_tool.grading.completion_grid import GridColumn, GridRow, grid_columns, grid_rows
from lti_tool.grading.completion_grid_page import GridPage, GridQuery, grid_page
from lti_tool.lti.launch_context import Launch
from lti_tool.pathway.service import context_pk_of, qualification_of


def class_overview(
    services: Services,
    launch: Launch,
    offset: int = 0,
    limit: int | None = None,
    group_pk: int | None = None,
) -> list[dict[str, Any]]:
    """Every student of the course with hours, eligibility, risks, results and tutor
    groups; only one group's students with ``group_pk``."""
    from lti_tool.pathway.groups import groups_by_user, members_of

    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        rows = class_rows(session, qualification, context_pk, services.settings.today())
        groups = groups_by_user(session, context_pk)
        members = members_of(session, context_pk, group_pk) if group_pk is not None else None
    if members is not None:
        rows = [r for r in rows if r["user_pk"] in members]
    end = None if limit is None else offset + limit
    return _shown(rows, groups)[offset:end]


def class_page(
    services: Services,
    launch: Launch,
    *,
    filter_name: str,
    sort_name: str,
    page: int,
    size: int,
    group_pk: int | None = None,
) -> ClassPage:
    """One page of the class view (``grading.class_view.class_page``) with each student's
    tutor groups; only one group's students with ``group_pk``."""
    from lti_tool.pathway.groups import groups_by_user, members_of

    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        groups = groups_by_user(session, context_pk)
        found = page_of_class(
            session,
            qualification,
            context_pk,
            services.settings.today(),
            filter_name=filter_name,
            sort_name=sort_name,
            page=page,
            size=size,
            members=members_of(session, context_pk, group_pk) if group_pk is not None else None,
        )
    return ClassPage(_shown(found.rows, groups), found.total, found.page, found.pages)


def _shown(rows: list[dict[str, Any]], groups: dict[int, list[str]]) -> list[dict[str, Any]]:
    """Rows as pages and the API show them: tutor groups added, times in UTC, and without
    the tool's own key."""
    for row in rows:
        row["groups"] = groups.get(row["user_pk"], [])
        read_at = row["read_at"]
        row["read_at"] = None if read_at is None else _utc(read_at).isoformat()
        del row["user_pk"]  # the tool's own key: not for pages or the API
    return rows


def _utc(stamp: dt.datetime) -> dt.datetime:
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def class_layout(services: Services, launch: Launch) -> ClassColumns:
    """The class view's columns, filters, sort orders and CSV layout for the course's
    qualification."""
    with services.db.read_only() as session:
        return class_columns(qualification_of(services, session, launch))


def untrackable_courses(services: Services, launch: Launch) -> list[Any]:
    """The CPD courses the LMS cannot track for this course's students, each with what a
    teacher must set up there (``completion.untrackable``)."""
    from lti_tool.completion.untrackable import untrackable_in_context

    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        return untrackable_in_context(session, context_pk_of(launch), qualification)


def class_groups(services: Services, launch: Launch) -> list[Any]:
    """The course's tutor groups (LTI Course Groups service), for the class view's filter."""
    from lti_tool.pathway.groups import group_choices

    with services.db.read_only() as session:
        return list(group_choices(session, context_pk_of(launch)))


def completion_grid(
    services: Services, launch: Launch, group_pk: int | None = None
) -> tuple[tuple[GridColumn, ...], list[GridRow], dict[int, list[str]]]:
    """The completion grid of the course: its qualification's CPD courses, every student's
    status in each (only one tutor group's students with ``group_pk``), and each student's
    tutor groups."""
    from lti_tool.pathway.groups import groups_by_user, members_of

    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        rows = grid_rows(session, qualification, context_pk, services.settings.today())
        groups = groups_by_user(session, context_pk)
        if group_pk is not None:
            members = members_of(session, context_pk, group_pk)
            rows = [row for row in rows if row.user_pk in members]
    return grid_columns(qualification), rows, groups


def completion_grid_page(
    services: Services,
    launch: Launch,
    query: GridQuery,
    page: int,
    size: int | None,
    group_pk: int | None = None,
) -> tuple[tuple[GridColumn, ...], GridPage, dict[int, list[str]]]:
    """One page of the completion grid (``grading.completion_grid_page.grid_page``): the
    qualification's CPD courses, the page, and each student's tutor groups; only one tutor
    group's students with ``group_pk``."""
    from lti_tool.pathway.groups import groups_by_user, members_of

    context_pk = context_pk_of(launch)
    with services.db.read_only() as session:
        qualification = qualification_of(services, session, launch)
        groups = groups_by_user(session, context_pk)
        members = members_of(session, context_pk, group_pk) if group_pk is not None else None
        today = services.settings.today()
        found = grid_page(session, qualification, context_pk, today, query, page, size, members)
    return grid_columns(qualification), found, groups


def completion_columns(services: Services, launch: Launch) -> tuple[GridColumn, ...]:
    """The completion grid's columns: the CPD courses of the course's qualification."""
    with services.db.read_only() as session:
        return grid_columns(qualification_of(services, session, launch))
