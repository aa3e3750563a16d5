"""The class roster from LTI Names and Role Provisioning (NRPS).

Members who have not launched yet are kept (so staff see the whole class), and members the
platform no longer lists, or lists as Inactive/Deleted, are marked "left" rather than deleted:
their records and results stay. A member whose launch was recorded after the platform was
asked is not marked "left" by that roster, whether it leaves them out or lists them Inactive
(enrolled or reinstated while it was read): the course's ``roster_asked_at`` is written before
the platform is asked, and a launch after it stamps the membership even within the hour.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from lti_tool.container import Services
from lti_tool.errors import ToolError
from lti_tool.lti.platform_services import service_connector
from lti_tool.outages import unavailable_dependency
from lti_tool.pathway.reads import ROSTER_STATE
from lti_tool.persistence.models import Context, Deployment, Membership, User, utcnow
from lti_tool.persistence.upsert import upsert

log = logging.getLogger("lti_tool.roster")


@dataclass(frozen=True)
class RosterOutcome:
    members: int
    left: int
    fetched_at: dt.datetime


def refresh_roster(services: Services, context_pk: int) -> RosterOutcome:
    """Fetch every page of the course's membership and store it."""
    with services.db.read_only() as session:
        row = session.execute(
            select(Context.nrps_url, Deployment.registration_id)
            .join(Deployment, Deployment.id == Context.deployment_pk)
            .where(Context.id == context_pk)
        ).first()
    if row is None or not row.nrps_url:
        raise ToolError(
            "no_nrps",
            "The platform did not offer Names and Role Provisioning for this course: ask its "
            "administrator to enable it for the tool.",
        )
    connector = service_connector(services, int(row.registration_id))
    nrps = NamesRolesProvisioningService(connector, {"context_memberships_url": row.nrps_url})
    asked = utcnow()
    with services.db.unit_of_work() as session:
        # Said before asking: a launch from now on stamps its membership (whatever its last
        # stamp's age, ``lti/launch_records.py``), so "launched after the platform was asked"
        # below is read from the database, not lost to the hourly stamp.
        session.execute(
            update(Context)
            .where(
                Context.id == context_pk,
                or_(Context.roster_asked_at.is_(None), Context.roster_asked_at < asked),
            )
            .values(roster_asked_at=asked)
        )
    members = nrps.get_members()
    now = utcnow()
    with services.db.unit_of_work() as session:
        # Rows in a launch's order (``lti/launch_records.py``: user, course, membership), so
        # a launch writing the course's row and a membership never waits on this refresh
        # while it waits on the launch (a deadlock, one of the two refused).
        users = [
            (user_pk, member)
            for member in members
            if (user_pk := _store_user(session, int(row.registration_id), member)) is not None
        ]
        context = session.get(Context, context_pk, with_for_update=True)
        assert context is not None
        seen = [
            user_pk
            for user_pk, member in users
            if _store_membership(session, context_pk, user_pk, member, now)
        ]
        # A launch recorded since the platform was asked is newer news than its roster (a
        # student enrolled or reinstated meanwhile): that member has not left. Members it
        # lists as Inactive are marked here too, by the same rule.
        left = session.execute(
            update(Membership)
            .where(
                Membership.context_pk == context_pk,
                Membership.user_pk.not_in(seen or [-1]),
                or_(Membership.last_launch_at.is_(None), Membership.last_launch_at < asked),
            )
            .values(status="left")
        )
        context.roster_fetched_at = now
    return RosterOutcome(len(seen), int(getattr(left, "rowcount", 0) or 0), now)


def _store_user(session: Session, registration_pk: int, member: Any) -> int | None:
    """The member's user row, written; its key, or None for an entry that names no one."""
    if not isinstance(member, dict):
        return None  # NRPS members are objects: anything else names no one
    user_id = member.get("user_id")
    if not isinstance(user_id, str) or not user_id or "\x00" in user_id:
        return None  # no id, or one no database can store (NUL): not a member we can keep
    # NRPS may leave out names or emails (privacy settings): never overwrite with nothing.
    # NUL characters are dropped: PostgreSQL cannot store them and no name needs one.
    values = {
        key: member[key].replace("\x00", "")[:limit]
        for key, limit in _COLUMN_LIMITS.items()
        if isinstance(member.get(key), str) and member[key].replace("\x00", "").strip()
    }
    if isinstance(member.get("lis_person_sourcedid"), str):
        values["person_sourcedid"] = member["lis_person_sourcedid"].replace("\x00", "")[:255]
    key = {"registration_id": registration_pk, "sub": user_id[:255]}
    upsert(session, User, [{**key, **values}], list(key), values)  # nothing to update: kept
    user_pk = session.scalar(
        select(User.id).where(User.registration_id == registration_pk, User.sub == user_id[:255])
    )
    assert user_pk is not None
    return int(user_pk)


def _store_membership(
    session: Session, context_pk: int, user_pk: int, member: Any, now: dt.datetime
) -> bool:
    """The member's membership of the course, written; whether they are an active member.
    An inactive member's existing membership keeps its status: ``refresh_roster`` marks them
    "left" unless they launched after the platform was asked."""
    active: bool = member.get("status", "Active") == "Active"
    listed = member.get("roles")
    roles = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
    status = "active" if active else "left"
    membership = {"roles": roles, "status": status, "in_roster": True, "roster_seen_at": now}
    member_key = {"context_pk": context_pk, "user_pk": user_pk}
    updated = [column for column in membership if active or column != "status"]
    upsert(session, Membership, [{**member_key, **membership}], list(member_key), updated)
    return active


# What the users table holds (models.User); NRPS sets no limit on a member's names.
_COLUMN_LIMITS = {"name": 255, "given_name": 255, "family_name": 255, "email": 320}


def ensure_roster(services: Services, context_pk: int) -> None:
    """The first staff launch of a course fetches the roster before answering; a failure is
    logged and the page shows who has launched so far."""
    with services.db.read_only() as session:
        state = session.execute(ROSTER_STATE, {"context_pk": context_pk}).first()
        needed = state is not None and state.nrps_url and state.roster_fetched_at is None
    if not needed:
        return
    try:
        refresh_roster(services, context_pk)
    except ToolError as exc:
        log.warning("roster fetch failed", extra={"fields": {"reason": exc.message}})
        return
    except Exception as exc:
        if unavailable_dependency(exc):
            raise  # the database or Redis is down: the outage page says so, quietly
        # Whatever the platform's roster holds, the staff launch goes on without it.
        log.exception("roster fetch failed", extra={"fields": {"course": context_pk}})
        return
    # Tutor groups take a call per student: they follow in the background.
    from lti_tool.pathway.groups import refresh_groups_quietly

    services.jobs.submit(refresh_groups_quietly, services, context_pk)
