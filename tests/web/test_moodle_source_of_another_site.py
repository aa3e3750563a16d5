"""A registration's Moodle completion source is the platform's own Moodle site. Moodle numbers
its users 2, 3, 4 … on every site, so a web service of another Moodle (an admin's mistake, or
an LMS admin pointing it elsewhere) would read each student as whoever has the same user id
there and store it as theirs. Moodle's LTI issuer is its wwwroot, and its site info answers
the same wwwroot as ``siteurl``: setting such a source is refused, naming both sites, and a
source stored before the check reads nothing and says why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_tool.completion.refresh import Student, last_attempt, refresh_student
from lti_tool.completion.setup import source_settings
from lti_tool.container import Services
from lti_tool.persistence.models import CompletionRecord, User
from lti_tool.sandbox.demo_data import STUDENT1
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN
from tests.support.class_refresh import configure_sandbox_source, finished_refresh, staff_launch
from tests.support.lti import Launcher
from tests.support.other_moodle import OtherMoodle, other_moodle
from tests.support.pathway_web import csrf_token, open_tool, user_pk
from tests.web.test_admin_access import sandbox_pk, tool_admin
from tests.web.test_cli_audit import cli

SITE_INFO = "core_webservice_get_site_info"
READS = (
    "core_completion_get_course_completion_status",
    "core_completion_get_activities_completion_status",
)


@pytest.fixture
def other() -> Iterator[OtherMoodle]:
    with other_moodle() as site:
        yield site


def _words(other: OtherMoodle, launcher: Launcher) -> str:
    return (
        f"This Moodle web service belongs to {other.site}, but this platform is "
        f"{launcher.platform.issuer}."
    )


def _saved(launcher: Launcher) -> Any:
    services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        return source_settings(session, services.secrets, sandbox_pk(launcher.app))


def _post_source(launcher: Launcher, endpoint: str) -> Any:
    client = tool_admin(launcher.app)
    path = f"/admin/registrations/{sandbox_pk(launcher.app)}/source"
    token = csrf_token(client.get(path).get_data(as_text=True))
    form = {"csrf_token": token, "kind": "moodle", "endpoint_url": endpoint}
    staged = client.post(path, data={**form, "token": SANDBOX_TOKEN, "mode": "course"})
    if staged.status_code == 302:
        client.post(staged.headers["Location"], data={"csrf_token": token})
    return staged


def _stored_records(launcher: Launcher) -> int:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(CompletionRecord)) or 0)


def test_the_admin_page_refuses_the_web_service_of_another_moodle(
    launcher: Launcher, other: OtherMoodle
) -> None:
    refused = _post_source(launcher, other.endpoint)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert _words(other, launcher) in page
    assert "Use the web service of the platform&#39;s own Moodle site." in page
    assert SANDBOX_TOKEN not in page
    assert _saved(launcher) is None


def test_the_command_line_refuses_the_web_service_of_another_moodle(
    launcher: Launcher, other: OtherMoodle
) -> None:
    run = cli(launcher.app)
    result = run(
        "platform", "set-completion", "sandbox", "--moodle-url", other.endpoint,
        "--moodle-token", SANDBOX_TOKEN, check=False,
    )  # fmt: skip
    assert result.exit_code != 0
    assert _words(other, launcher) in result.output and "Traceback" not in result.output
    assert _saved(launcher) is None


def test_the_platforms_own_moodle_is_accepted_at_an_address_of_its_own(
    launcher: Launcher, moodle: Any
) -> None:
    """The web service may be reached at another address than the issuer (an internal name
    for calls between servers): what counts is the site Moodle says it is."""
    internal = launcher.platform.issuer.replace("127.0.0.1", "localhost") + "/moodle"
    staged = _post_source(launcher, internal)
    assert staged.status_code == 302, staged.get_data(as_text=True)
    saved = _saved(launcher)
    assert saved is not None and saved.endpoint_url == internal + "/webservice/rest/server.php"


def _student1(launcher: Launcher) -> tuple[Services, Student]:
    services: Services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        user = session.scalars(select(User).where(User.sub == str(STUDENT1))).one()
    return services, Student(user.registration_id, user.id, user.sub, {}, None)


def _stored_before_the_check(launcher: Launcher, other: OtherMoodle) -> None:
    """The sandbox's mappings, and a source of another Moodle saved as it could be before."""
    services = launcher.app.extensions["lti_tool"]
    from lti_tool.sandbox import register_sandbox

    register_sandbox(
        services.db, launcher.platform, development=True, secret_key=services.settings.secret_key
    )
    configure_sandbox_source(
        launcher, kind="moodle", endpoint_url=other.endpoint, token=SANDBOX_TOKEN
    )


def test_a_stored_source_of_another_moodle_reads_nothing_for_a_student(
    launcher: Launcher, other: OtherMoodle
) -> None:
    _stored_before_the_check(launcher, other)
    open_tool(launcher, "student1")  # the first launch waits for its refresh
    assert all(other.fake.calls_to(read) == 0 for read in READS)
    assert _stored_records(launcher) == 0
    attempt = last_attempt(launcher.app.extensions["lti_tool"], user_pk(launcher.app, "1001"))
    assert attempt is not None and attempt["status"] == "config"
    assert any(_words(other, launcher) in error for error in attempt["errors"])
    # The tutor's view of the student says why (the student's own page says less).
    client, headers = staff_launch(launcher)
    preview = client.get("/api/context/students/1001/checklist", headers=headers).get_json()
    assert preview["refresh"]["status"] == "config"
    assert any(_words(other, launcher) in error for error in preview["refresh"]["errors"])


def test_a_stored_source_of_another_moodle_reads_nothing_for_a_class(
    launcher: Launcher, other: OtherMoodle
) -> None:
    _stored_before_the_check(launcher, other)
    client, headers = staff_launch(launcher)
    progress = finished_refresh(client, headers)
    assert progress["total"] > 0 and progress["failed"] == progress["total"]
    assert all(_words(other, launcher) in row["reason"] for row in progress["unreadable"])
    assert all(other.fake.calls_to(read) == 0 for read in READS)
    assert other.fake.calls_to(SITE_INFO) == 1  # asked once for the whole class
    assert _stored_records(launcher) == 0


def test_the_own_site_is_checked_once_not_on_every_refresh(launcher: Launcher, moodle: Any) -> None:
    """A student's refresh does not gain an outbound call each time: the site a source
    belongs to is remembered for a while in each process."""
    from lti_tool.sandbox import register_sandbox

    services = launcher.app.extensions["lti_tool"]
    register_sandbox(
        services.db, launcher.platform, development=True, secret_key=services.settings.secret_key
    )
    open_tool(launcher, "student1")
    before = moodle.calls_to(SITE_INFO)
    services, student = _student1(launcher)
    for _ in range(3):
        assert refresh_student(services, student).status in {"ok", "untrackable"}
    assert moodle.calls_to(SITE_INFO) == before


def test_discovery_does_not_propose_courses_of_another_moodle(
    launcher: Launcher, other: OtherMoodle
) -> None:
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.mapping import discover_mappings
    from lti_tool.errors import ToolError

    _stored_before_the_check(launcher, other)
    services = launcher.app.extensions["lti_tool"]
    with pytest.raises(ToolError) as refused:
        discover_mappings(
            services, command_line_identity(), sandbox_pk(launcher.app), "courses", None
        )
    assert _words(other, launcher) in refused.value.message
    assert other.fake.calls_to("core_course_get_courses_by_field") == 0
