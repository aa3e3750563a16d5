"""Tutor groups from the LTI Course Groups service, for filtering the class view.

pylti1p3's ``CourseGroupsService`` reads the group containers (paged by ``Link``, through our
connector: one token, retries, timeouts). The service has no "members of a group" call: a
student's groups are the context's groups filtered by ``user_id``, asked once per active
student, a few at a time. Groups are replaced as a whole on each refresh, in one
transaction, so the class view never sees half a refresh.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pylti1p3.course_groups import CourseGroupsService
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lti_tool.container import Services
from lti_tool.errors import ToolError
from lti_tool.jobs.leases import Renewing
from lti_tool.lti import claims as c
from lti_tool.lti.claims import normalise_roles
from lti_tool.lti.platform_services import service_connector
from lti_tool.persistence.models import (
    Context,
    CourseGroup,
    CourseGroupMember,
    Deployment,
    Membership,
    User,
    utcnow,
)

log = logging.getLogger("lti_tool.roster")
CONCURRENCY = 8
LOCK_SECONDS = 300


@dataclass(frozen=True)
class GroupsOutcome:
    groups: int
    memberships: int


@dataclass(frozen=True)
class GroupChoice:
    pk: int
    name: str
    set_name: str | None

    @property
    def label(self) -> str:
        return f"{self.set_name}: {self.name}" if self.set_name else self.name


def refresh_groups(services: Services, context_pk: int) -> GroupsOutcome | None:
    """Fetch the course's groups and each active student's membership; None when the
    platform offers no groups service for this course."""
    with services.db.read_only() as session:
        row = session.execute(
            select(Context.groups_url, Context.group_sets_url, Deployment.registration_id)
            .join(Deployment, Deployment.id == Context.deployment_pk)
            .where(Context.id == context_pk)
        ).first()
        if row is None or not row.groups_url:
            return None
        students = [
            (user_pk, sub)
            for user_pk, sub, roles in session.execute(
                select(User.id, User.sub, Membership.roles)
                .join(Membership, Membership.user_pk == User.id)
                .where(Membership.context_pk == context_pk, Membership.status == "active")
            )
            if normalise_roles(roles or []).is_learner
        ]
    # One refresh of a course's groups at a time, across workers (each replaces them all).
    if not services.store.add("groups_refresh", str(context_pk), {}, LOCK_SECONDS):
        raise ToolError("groups_busy", "The course's groups are being read already.", status=409)
    # Renewed while it runs (a call per student: a large class on a slow platform takes
    # longer than the lock lives), then released.
    lock = Renewing(
        lambda: services.store.put("groups_refresh", str(context_pk), {}, LOCK_SECONDS),
        LOCK_SECONDS / 4,
        {"course": context_pk},
    )
    try:
        with lock:
            return _fetch_and_store(services, context_pk, row, students)
    finally:
        services.store.delete("groups_refresh", str(context_pk))


def _fetch_and_store(
    services: Services, context_pk: int, row: Any, students: list[tuple[int, str]]
) -> GroupsOutcome:
    connector = service_connector(services, int(row.registration_id))
    data: dict[str, Any] = {"scope": [c.GROUPS_SCOPE], "context_groups_url": row.groups_url}
    if row.group_sets_url:
        data["context_group_sets_url"] = row.group_sets_url
    service = CourseGroupsService(connector, data)  # type: ignore[arg-type]
    groups = _valid(service.get_groups())  # type: ignore[no-untyped-call]
    sets = {str(s["id"]): str(s.get("name") or s["id"]) for s in _valid(_sets(service))}

    def groups_of(student: tuple[int, str]) -> tuple[int, list[str]]:
        mine = service.get_groups(user_id=student[1])  # type: ignore[no-untyped-call]
        return student[0], [str(g["id"]) for g in _valid(mine)]

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        memberships = list(pool.map(groups_of, students))
    return _store(services, context_pk, groups, sets, memberships)


def _sets(service: CourseGroupsService) -> list[Any]:
    if not service.has_sets():  # type: ignore[no-untyped-call]
        return []
    return list(service.get_sets())  # type: ignore[no-untyped-call]


def _valid(items: Any) -> list[dict[str, Any]]:
    """Entries with an id, as the spec requires; anything else is skipped."""
    if not isinstance(items, list):
        raise ToolError("bad_groups", "The platform's groups service answered an unusable list.")
    return [i for i in items if isinstance(i, dict) and str(i.get("id", "")).strip()]


def _store(
    services: Services,
    context_pk: int,
    groups: list[dict[str, Any]],
    sets: dict[str, str],
    memberships: list[tuple[int, list[str]]],
) -> GroupsOutcome:
    now = utcnow()
    count = 0
    with services.db.unit_of_work() as session:
        session.execute(delete(CourseGroup).where(CourseGroup.context_pk == context_pk))
        by_id: dict[str, CourseGroup] = {}
        for group in groups:
            set_id = group.get("set_id")
            row = CourseGroup(
                context_pk=context_pk,
                group_id=str(group["id"])[:255],
                name=str(group.get("name") or group["id"])[:255],
                set_name=sets.get(str(set_id)) if set_id is not None else None,
                fetched_at=now,
            )
            by_id.setdefault(row.group_id, row)
        session.add_all(by_id.values())
        session.flush()
        for user_pk, ids in memberships:
            for group_id in dict.fromkeys(ids):
                group_row = by_id.get(group_id[:255])
                if group_row is not None:
                    session.add(CourseGroupMember(group_pk=group_row.id, user_pk=user_pk))
                    count += 1
        context = session.get(Context, context_pk)
        assert context is not None
        context.groups_fetched_at = now
    return GroupsOutcome(len(by_id), count)


def refresh_groups_quietly(services: Services, context_pk: int) -> None:
    """The background step after a roster refresh: a failure is logged, not raised."""
    try:
        refresh_groups(services, context_pk)
    except ToolError as exc:
        log.warning("groups fetch failed", extra={"fields": {"reason": exc.message}})
    except SQLAlchemyError as exc:  # e.g. a student erased meanwhile: the next refresh
        log.warning("groups not stored", extra={"fields": {"error": type(exc).__name__}})


def group_choices(session: Session, context_pk: int) -> list[GroupChoice]:
    """The course's groups, by set then name, for the class view's filter."""
    rows = session.scalars(
        select(CourseGroup)
        .where(CourseGroup.context_pk == context_pk)
        .order_by(CourseGroup.set_name, CourseGroup.name)
    )
    return [GroupChoice(r.id, r.name, r.set_name) for r in rows]


def groups_by_user(session: Session, context_pk: int) -> dict[int, list[str]]:
    """Each student's group names in this course."""
    result: dict[int, list[str]] = {}
    for user_pk, name in session.execute(
        select(CourseGroupMember.user_pk, CourseGroup.name)
        .join(CourseGroup, CourseGroup.id == CourseGroupMember.group_pk)
        .where(CourseGroup.context_pk == context_pk)
        .order_by(CourseGroup.name)
    ):
        result.setdefault(int(user_pk), []).append(str(name))
    return result


def members_of(session: Session, context_pk: int, group_pk: int) -> set[int]:
    """The user ids in one group of this course (empty for another course's group)."""
    return set(
        session.scalars(
            select(CourseGroupMember.user_pk)
            .join(CourseGroup, CourseGroup.id == CourseGroupMember.group_pk)
            .where(CourseGroup.id == group_pk, CourseGroup.context_pk == context_pk)
        )
    )
