"""The students of a course as the class pages list them: one query of columns (a class of
500 would otherwise build a thousand ORM objects per page)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.claims import normalise_roles
from lti_tool.persistence.models import Membership, User


class Student(NamedTuple):
    """One student of the course: who they are and their membership's state."""

    pk: int
    sub: str
    name: str | None
    email: str | None
    status: str
    last_launch_at: dt.datetime | None


def students_of(session: Session, context_pk: int) -> list[Student]:
    """The course's students (``NormalisedRoles.is_learner``), by family name, then name,
    then LTI id."""
    rows = session.execute(
        select(
            User.id,
            User.sub,
            User.name,
            User.email,
            Membership.status,
            Membership.last_launch_at,
            Membership.roles,
        )
        .join(Membership, Membership.user_pk == User.id)
        .where(Membership.context_pk == context_pk)
        .order_by(User.family_name, User.name, User.sub)
    ).all()
    return [
        Student(pk, sub, name, email, status, launched)
        for pk, sub, name, email, status, launched, roles in rows
        if normalise_roles(roles or []).is_learner
    ]
