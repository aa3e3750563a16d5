"""A class of made-up students with a released B832 result each, waiting in the outbox: the
set-up of the grade-sync tests that kill a worker or take a dependency away mid-sync."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.support.grade_sync import complete_courses
from tests.support.lti import Launcher, launch_token

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
# The sandbox's own demo students leave the roster: the class is s000, s001, …
DEMO_STUDENTS = {"1001", "1002", "1003", "1005"}


def class_with_released_results(
    launcher: Launcher, students: int
) -> tuple[FlaskClient, dict[str, str]]:
    """``students`` eligible students with a released B832 result each (in the outbox)."""
    app, platform = launcher.app, launcher.platform
    platform.roster = [m for m in platform.roster if m["user_id"] not in DEMO_STUDENTS]
    platform.roster += [
        {"status": "Active", "user_id": f"s{n:03d}", "name": f"Student {n:03d}", "roles": [LEARNER]}
        for n in range(students)
    ]
    staff = app.test_client()
    token = launch_token(launcher.launch(staff, "teacher1").get_data(as_text=True))
    headers = {"Authorization": f"Bearer {token}"}
    complete_courses(app, [f"s{n:03d}" for n in range(students)])
    for n in range(students):
        response = staff.put(
            f"/api/context/results/B832/s{n:03d}",
            json={"score": 50 + n % 50, "outcome": "pass"},
            headers=headers,
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    return staff, headers
