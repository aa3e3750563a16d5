"""What the sandbox LMS knows about courses and completion, and the demo data set.

One model serves both fakes: ``moodle_ws`` shows it as Moodle web services, ``canvas_rest`` as
Canvas's REST API. A course's activities are Moodle course modules (cmid) and, on Canvas, the
items of module ``module_id``; ``states`` holds Moodle's completion states per user and
activity (0 incomplete, 1 complete, 2 complete-pass, 3 complete-fail) with a Unix timestamp.

The demo set mirrors the recorded Moodle 4.5.6 site (``fixtures/moodle-4.5.6``): the programme
course PGCERT-CL (id 2) with one activity per CPD course (cmids 1-13) and no completion criteria,
and GB080-GB092 as courses 3-15 (shortname = idnumber = code), each with a reflective log
(manual) and a quiz (passing grade), both required. User ids are the sandbox LTI subs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from lti_tool.sandbox.demo_people import DEMO_CONTEXT

INCOMPLETE, COMPLETE, COMPLETE_PASS, COMPLETE_FAIL = 0, 1, 2, 3


@dataclass
class Activity:
    """A course module. ``tracking``: 0 none, 1 manual, 2 automatic; ``rule``: manual,
    passgrade or view (Canvas: must_mark_done, min_score, must_view)."""

    cmid: int
    name: str
    modname: str
    instance: int
    tracking: int = 1
    rule: str = "manual"
    section: int = 1
    module_id: int = 0


@dataclass
class Course:
    """A course; completing it needs every activity whose cmid is in ``criteria``."""

    id: int
    shortname: str
    fullname: str
    idnumber: str = ""
    activities: list[Activity] = field(default_factory=list)
    criteria: list[int] = field(default_factory=list)
    students: set[int] = field(default_factory=set)
    # Enrolled in another role (teacher, observer): Canvas finds them in the course but keeps
    # no progress for them.
    other_roles: set[int] = field(default_factory=set)
    modules: dict[int, str] = field(default_factory=dict)  # Canvas module id -> name
    completion_enabled: bool = True
    category: int = 2
    # The course's id in LTI launches (Canvas's lti_context_id), for the courses launched from.
    lti_context_id: str = ""


@dataclass
class User:
    """A person known to the LMS; their id is the key in ``LmsData.users``."""

    username: str
    firstname: str
    lastname: str


@dataclass
class LmsData:
    """Users, courses and ``states[(user id, cmid)] = (state, unix time)``."""

    site_name: str
    users: dict[int, User]
    courses: dict[int, Course]
    states: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)

    def state(self, user_id: int, cmid: int) -> tuple[int, int]:
        """The user's completion state of an activity and its time (0, 0 when none)."""
        return self.states.get((user_id, cmid), (INCOMPLETE, 0))


CPD_COURSES = {
    "GB080": "What is clinical leadership?",
    "GB081": "Developing yourself for clinical leadership",
    "GB082": "Clinical teams and how they develop",
    "GB083": "Your service: governance and accountability",
    "GB084": "Your service: assessing quality",
    "GB085": "Evaluating the flow of activities",
    "GB086": "Developing options for service improvement",
    "GB087": "Understanding service innovation",
    "GB088": "Developing cases for innovation",
    "GB089": "Planning and leading service innovation",
    "GB090": "Innovating across boundaries",
    "GB091": "User-centred service innovations",
    "GB092": "Innovating in primary care",
}
PROGRAMME_COURSE_ID = 2
STUDENT1, STUDENT2, STUDENT3, OUTSIDER, TEACHER, ADMIN = 1001, 1002, 1003, 1004, 2001, 3001
STUDENT4 = 1005
# B832's compulsory CPD courses (config/qualifications), all of which student4 has completed.
B832_COMPULSORY = ("GB080", "GB081", "GB082", "GB083", "GB084", "GB085", "GB086")
_LONDON = ZoneInfo("Europe/London")


def course_id(code: str) -> int:
    """The demo course id of CPD course ``code`` (GB080 is 3 … GB092 is 15)."""
    return 3 + list(CPD_COURSES).index(code)


def log_cmid(code: str) -> int:
    """The cmid of the course's reflective log (manual completion)."""
    return 14 + 2 * list(CPD_COURSES).index(code)


def quiz_cmid(code: str) -> int:
    """The cmid of the course's quiz (completion by passing grade)."""
    return log_cmid(code) + 1


def programme_cmid(code: str) -> int:
    """The cmid of ``code``'s activity in the programme course PGCERT-CL."""
    return 1 + list(CPD_COURSES).index(code)


def programme_module_id(code: str) -> int:
    """The Canvas module id of ``code`` in the programme course."""
    return 200 + programme_cmid(code)


def stamp(day: str, time: str = "14:30") -> int:
    """Unix time of a London wall-clock moment, e.g. ``stamp("2026-02-03")``."""
    return int(datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=_LONDON).timestamp())


def demo_lms() -> LmsData:
    """A fresh copy of the demo site (tests may change it freely)."""
    learners = {STUDENT1, STUDENT2, STUDENT3, STUDENT4}
    users = {
        STUDENT1: User("student1", "Sam", "Student"),
        STUDENT2: User("student2", "Priya", "Patel"),
        STUDENT3: User("student3", "Owen", "Hughes"),
        STUDENT4: User("student4", "Grace", "Okafor"),
        OUTSIDER: User("outsider", "Olive", "Outsider"),
        TEACHER: User("teacher1", "Tess", "Teacher"),
        ADMIN: User("admin", "Ada", "Admin"),
    }
    programme = Course(
        PROGRAMME_COURSE_ID,
        "PGCERT-CL",
        "Postgraduate Certificate in Clinical Leadership",
        "PGCERT-CL",
        activities=[Activity(40, "Clinical leadership pathway", "lti", 1, 0, section=0)],
        students=set(learners),
        modules={200: "Welcome"},
        lti_context_id=str(DEMO_CONTEXT["id"]),
    )
    programme.activities[0].module_id = 200
    courses = {1: Course(1, "SANDBOX", "Sandbox LMS", completion_enabled=False, category=0)}
    courses[PROGRAMME_COURSE_ID] = programme
    for index, (code, title) in enumerate(CPD_COURSES.items()):
        cmid, module = programme_cmid(code), programme_module_id(code)
        # The last three are ticked by hand, the others complete on viewing (as recorded).
        manual = index >= 10
        programme.activities.append(
            Activity(
                cmid,
                f"{code} {title}",
                "url",
                cmid,
                1 if manual else 2,
                "manual" if manual else "view",
                module_id=module,
            )
        )
        programme.modules[module] = f"{code} {title}"
        course = Course(course_id(code), code, title, code, students=set(learners))
        course.activities = [
            Activity(log_cmid(code), f"{code} reflective log", "assign", index + 1, 1, "manual"),
            Activity(quiz_cmid(code), f"{code} quiz", "quiz", index + 1, 2, "passgrade"),
        ]
        for activity in course.activities:
            activity.module_id = 100 + course.id
        course.criteria = [log_cmid(code), quiz_cmid(code)]
        course.modules = {100 + course.id: f"{code} study materials"}
        courses[course.id] = course
    data = LmsData("Sandbox LMS", users, courses)
    _record_demo_progress(data)
    return data


def _record_demo_progress(data: LmsData) -> None:
    """student1: GB080-GB084 done, half of GB085; student2: GB080 done, half of GB081, GB082's
    quiz failed; student3: nothing yet; student4: every compulsory course of B832 done."""
    finished = {
        STUDENT1: {
            "GB080": ("2026-01-16", "2026-01-23"),
            "GB081": ("2026-02-20", "2026-02-27"),
            "GB082": ("2026-03-27", "2026-04-03"),
            "GB083": ("2026-05-01", "2026-05-08"),
            "GB084": ("2026-06-05", "2026-06-12"),
        },
        STUDENT2: {"GB080": ("2026-03-06", "2026-03-13")},
        STUDENT4: {
            "GB080": ("2025-03-14", "2025-03-21"),
            "GB081": ("2025-03-28", "2025-04-04"),
            "GB082": ("2025-06-06", "2025-06-13"),
            "GB083": ("2025-06-20", "2025-06-27"),
            "GB084": ("2025-09-05", "2025-09-12"),
            "GB085": ("2025-11-14", "2025-11-21"),
            "GB086": ("2026-01-23", "2026-01-30"),
        },
    }
    for user, courses in finished.items():
        for code, (log_day, quiz_day) in courses.items():
            data.states[(user, log_cmid(code))] = (COMPLETE, stamp(log_day))
            data.states[(user, quiz_cmid(code))] = (COMPLETE_PASS, stamp(quiz_day))
            data.states[(user, programme_cmid(code))] = (COMPLETE, stamp(quiz_day, "16:00"))
    data.states[(STUDENT1, log_cmid("GB085"))] = (COMPLETE, stamp("2026-07-03"))
    data.states[(STUDENT2, log_cmid("GB081"))] = (COMPLETE, stamp("2026-04-17"))
    data.states[(STUDENT2, log_cmid("GB082"))] = (COMPLETE, stamp("2026-05-15"))
    data.states[(STUDENT2, quiz_cmid("GB082"))] = (COMPLETE_FAIL, stamp("2026-05-22"))
