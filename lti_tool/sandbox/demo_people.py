"""The sandbox LMS's demo people and courses: who launches the tool and from where.

The demo users (their LTI subs, names and roles), the two courses they launch from (the spring
course with NRPS, AGS and groups; the autumn intake without), and what the course's services
show of them: the NRPS roster and the tutor groups. ``sandbox/platform.py`` signs launches for
them; the fakes serve the roster and the groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"


@dataclass(frozen=True)
class DemoUser:
    key: str
    sub: str
    given_name: str
    family_name: str
    email: str
    roles: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


DEMO_USERS: dict[str, DemoUser] = {
    u.key: u
    for u in (
        DemoUser(
            "student1",
            "1001",
            "Sam",
            "Student",
            "sam.student@example.org",
            (MEMBERSHIP + "Learner",),
        ),
        DemoUser(
            "student2",
            "1002",
            "Priya",
            "Patel",
            "priya.patel@example.org",
            (MEMBERSHIP + "Learner",),
        ),
        DemoUser(
            "student3",
            "1003",
            "Owen",
            "Hughes",
            "owen.hughes@example.org",
            (MEMBERSHIP + "Learner",),
        ),
        DemoUser(
            "teacher1",
            "2001",
            "Tess",
            "Teacher",
            "tess.teacher@example.org",
            (MEMBERSHIP + "Instructor",),
        ),
        DemoUser(
            "admin",
            "3001",
            "Ada",
            "Admin",
            "ada.admin@example.org",
            (INSTITUTION + "Administrator", MEMBERSHIP + "Instructor"),
        ),
    )
}

DEMO_CONTEXT = {
    "id": "pgcert-cl-2027",
    "label": "PGCERT-CL",
    "title": "Postgraduate Certificate in Clinical Leadership",
    "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
}


# A second course of the demo platform (``?course=autumn``): the same people in another
# intake, without NRPS, AGS or groups, to show that each course's pages act on that course only.
AUTUMN_CONTEXT = {
    "id": "pgcert-cl-2027-autumn",
    "label": "PGCERT-CL-AUT",
    "title": "Postgraduate Certificate in Clinical Leadership (autumn intake)",
    "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
}
COURSES = {"spring": DEMO_CONTEXT, "autumn": AUTUMN_CONTEXT}


def demo_groups() -> list[dict[str, Any]]:
    """Tutor groups of the demo course: the Course Groups service's entries plus who is in
    each (``members``: subs; not part of what the service shows)."""
    return [
        {"id": "tg-a", "name": "Tutor group A", "set_id": "tutor", "members": ["1001", "1002"]},
        {"id": "tg-b", "name": "Tutor group B", "set_id": "tutor", "members": ["1003"]},
    ]


def demo_roster() -> list[dict[str, Any]]:
    """NRPS members as the spec shapes them, one per demo user."""
    return [
        {
            "status": "Active",
            "user_id": u.sub,
            "name": u.name,
            "given_name": u.given_name,
            "family_name": u.family_name,
            "email": u.email,
            "lis_person_sourcedid": u.key.upper(),
            "roles": list(u.roles),
        }
        for u in DEMO_USERS.values()
    ]
