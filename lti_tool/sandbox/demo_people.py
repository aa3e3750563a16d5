"""The sandbox LMS's demo people and courses: who launches the tool and from where.

The demo users (their LTI subs, names and roles), the two courses they launch from (the spring
course with NRPS, AGS and groups; the autumn intake without), and what the course's services
show of them: the NRPS roster and the tutor groups. ``sandbox/platform.py`` signs launches for
them; the fakes serve the roster and the groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lti_tool.lti.claims import role_name

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

    @property
    def roles_in_words(self) -> str:
        """The person's roles as the sandbox's home page shows them: "Student"."""
        return ", ".join(dict.fromkeys(role_in_words(role) for role in self.roles))


# An LTI role in the words an LMS shows it in, by (vocabulary, principal role) of role_name.
_ROLE_WORDS = {
    ("membership", "Learner"): "Student",
    ("membership", "Instructor"): "Teacher/Instructor",
    ("membership", "ContentDeveloper"): "Course designer",
    ("membership", "Administrator"): "Course administrator",
    ("membership", "Mentor"): "Mentor (e.g. a parent or an advisor)",
    ("membership", "Manager"): "Course manager",
    ("membership", "Member"): "Course member",
    ("membership", "Officer"): "Course officer",
    ("institution", "Administrator"): "Site administrator",
    ("institution", "Instructor"): "Teacher at the institution",
    ("institution", "Faculty"): "Teacher at the institution",
    ("institution", "Learner"): "Student at the institution",
    ("institution", "Student"): "Student at the institution",
    ("institution", "Staff"): "Staff at the institution",
    ("system", "SysAdmin"): "System administrator",
    ("system", "Administrator"): "System administrator",
}


def role_in_words(role: str) -> str:
    """An LTI role (a URI or a simple name) in plain words: membership#Learner is "Student",
    membership#Instructor "Teacher/Instructor"; a teaching assistant is named as one; a role
    with no words here is its last part, never the URI."""
    if role.strip().endswith("#TeachingAssistant"):
        return "Teaching assistant"
    words = _ROLE_WORDS.get(role_name(role))
    if words:
        return words
    last = role.strip().rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return last or "Unknown role"


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
        # B832's seven compulsory CPD courses all complete: a B832 result needs no override.
        DemoUser(
            "student4",
            "1005",
            "Grace",
            "Okafor",
            "grace.okafor@example.org",
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
