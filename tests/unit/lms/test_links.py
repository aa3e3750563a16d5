"""Where a student does a CPD course: the LMS address built from a mapping and its source."""

from __future__ import annotations

import pytest

from lti_tool.lms.links import CourseLink, allowed_link_hosts, course_link

MOODLE_WS = "https://moodle.example.ac.uk/webservice/rest/server.php"
MOODLE_HOSTS = allowed_link_hosts(["https://moodle.example.ac.uk"], "moodle", MOODLE_WS)
CANVAS = "https://school.instructure.com"
CANVAS_HOSTS = allowed_link_hosts(
    ["https://canvas.instructure.com", "https://sso.canvaslms.com/api/lti/authorize_redirect"],
    "canvas",
    CANVAS,
)


@pytest.mark.parametrize(
    ("course", "activity", "modname", "url"),
    [
        ("3", None, None, "https://moodle.example.ac.uk/course/view.php?id=3"),
        ("3", "14", "assign", "https://moodle.example.ac.uk/mod/assign/view.php?id=14"),
        ("3", "14", None, "https://moodle.example.ac.uk/course/view.php?id=3#module-14"),
        # A module name that is not a plugin directory name is not put in a path.
        ("3", "14", "../admin", "https://moodle.example.ac.uk/course/view.php?id=3#module-14"),
    ],
)
def test_moodle_course_and_activity(
    course: str, activity: str | None, modname: str | None, url: str
) -> None:
    link = course_link("moodle", MOODLE_WS, course, activity, MOODLE_HOSTS, modname)
    assert link == CourseLink(url, "Moodle")


def test_moodle_in_a_subfolder_keeps_its_path() -> None:
    ws = "http://127.0.0.1:5001/moodle/webservice/rest/server.php"
    hosts = allowed_link_hosts(["http://127.0.0.1:5001"], "moodle", ws)
    link = course_link("moodle", ws, "7", None, hosts)
    assert link is not None and link.url == "http://127.0.0.1:5001/moodle/course/view.php?id=7"


@pytest.mark.parametrize(
    ("base", "activity", "url"),
    [
        (CANVAS, None, "https://school.instructure.com/courses/101"),
        (
            CANVAS + "/",
            "55",
            "https://school.instructure.com/courses/101/modules#context_module_55",
        ),
        (CANVAS + "/api/v1", None, "https://school.instructure.com/courses/101"),
    ],
)
def test_canvas_course_and_module(base: str, activity: str | None, url: str) -> None:
    assert course_link("canvas", base, "101", activity, CANVAS_HOSTS) == CourseLink(url, "Canvas")


@pytest.mark.parametrize(
    ("kind", "endpoint", "course", "activity"),
    [
        ("ags", "https://moodle.example.ac.uk", "3", None),
        ("manual", None, "3", None),
        ("moodle", None, "3", None),
        # Not Moodle's web-service endpoint: the site cannot be told.
        ("moodle", "https://moodle.example.ac.uk/other.php", "3", None),
        ("moodle", "javascript:alert(1)//webservice/rest/server.php", "3", None),
        ("moodle", "ftp://moodle.example.ac.uk/webservice/rest/server.php", "3", None),
        ("moodle", "https://user:pw@moodle.example.ac.uk/webservice/rest/server.php", "3", None),
        ("moodle", MOODLE_WS + "?x=1", "3", None),
        # Ids are numbers, never text that could change the address.
        ("moodle", MOODLE_WS, "3&x=1", None),
        ("moodle", MOODLE_WS, "3", "14#top"),
        ("moodle", MOODLE_WS, "", None),
        ("canvas", CANVAS, "sis_course_id:X", None),
        ("canvas", CANVAS, "١٢", None),  # digits, but not ASCII ones
    ],
)
def test_no_link_rather_than_a_wrong_one(
    kind: str, endpoint: str | None, course: str, activity: str | None
) -> None:
    assert course_link(kind, endpoint, course, activity, MOODLE_HOSTS | CANVAS_HOSTS) is None


def test_only_the_registrations_own_hosts() -> None:
    elsewhere = "https://evil.example.net/webservice/rest/server.php"
    assert course_link("moodle", elsewhere, "3", None, MOODLE_HOSTS) is None
    # The source's own endpoint host is the registration's (an administrator entered it)...
    hosts = allowed_link_hosts(["https://moodle.example.ac.uk"], "moodle", elsewhere)
    assert course_link("moodle", elsewhere, "3", None, hosts) is not None
    # ...and a Canvas cloud registration allows its institutions' instructure.com hosts.
    cloud = allowed_link_hosts(["https://canvas.instructure.com"], "canvas", None)
    link = course_link("canvas", "https://other.instructure.com", "9", None, cloud)
    assert link is not None and link.url == "https://other.instructure.com/courses/9"
    assert course_link("canvas", "https://instructure.com.evil.net", "9", None, cloud) is None
