"""A class roster refresh racing a student's launch: the roster read from the platform (NRPS)
before the student was enrolled, or while their enrolment was suspended (listed Inactive), must
not mark the student, whose launch the tool recorded meanwhile, as having left. Real PostgreSQL
and Redis; the refresh is held between its read of the platform and its write, not hoped to be
slow."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.pathway import roster
from lti_tool.persistence.models import Membership, User
from tests.support.lti import Launcher, staff_launch
from tests.support.outage_servers import CONDITION_SECONDS

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
NEWCOMER = "1001"  # student1: enrolled after the platform answered the roster request


@pytest.fixture
def backend() -> str:  # the production path: PostgreSQL + Redis
    return "postgres+redis"


def test_a_student_who_launches_while_the_roster_is_read_has_not_left(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = launcher.platform
    platform.roster = [m for m in platform.roster if m["user_id"] != NEWCOMER]
    assert _status_after_a_launch_during_a_refresh(launcher, monkeypatch) == "active"


def test_a_student_listed_inactive_who_launches_while_the_roster_is_read_has_not_left(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The platform read the roster while the student's enrolment was suspended; reinstated,
    # they open the tool before the refresh writes what it read.
    launcher.platform.roster = [
        {**m, "status": "Inactive"} if m["user_id"] == NEWCOMER else m
        for m in launcher.platform.roster
    ]
    assert _status_after_a_launch_during_a_refresh(launcher, monkeypatch) == "active"


def test_a_student_who_launched_lately_and_launches_while_the_roster_is_read_has_not_left(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A launch within the hour moves no time stamp (``LAUNCH_STAMP_EVERY``); one after the
    platform was asked is still newer news than the roster it answered."""
    launcher.launch(launcher.app.test_client(), "student1")  # minutes ago: stamped then
    # The platform read the roster while the student was unenrolled; enrolled again, they
    # open the tool before the refresh writes what it read.
    unenrolled = [m for m in launcher.platform.roster if m["user_id"] != NEWCOMER]
    status = _status_after_a_launch_during_a_refresh(launcher, monkeypatch, unenrolled)
    assert status == "active"


def _status_after_a_launch_during_a_refresh(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch, then: list[Any] | None = None
) -> str | None:
    """The student's membership status after they launch between the roster refresh's read
    of the platform and its write; ``then``, the roster the platform answers after the
    tutor's launch read it."""
    staff, headers = staff_launch(launcher)
    if then is not None:
        launcher.platform.roster = then

    read, go = threading.Event(), threading.Event()
    service = roster.NamesRolesProvisioningService

    class HeldAfterReading(service):  # type: ignore[misc, valid-type]
        def get_members(self, *args: Any, **kwargs: Any) -> Any:
            members = super().get_members(*args, **kwargs)
            read.set()
            assert go.wait(CONDITION_SECONDS)
            return members

    monkeypatch.setattr(roster, "NamesRolesProvisioningService", HeldAfterReading)
    answers: list[Any] = []

    def refresh(client: FlaskClient) -> None:
        answers.append(client.post("/api/context/roster/refresh", headers=headers))

    refreshing = threading.Thread(target=refresh, args=(staff,), daemon=True)
    refreshing.start()
    try:
        assert read.wait(CONDITION_SECONDS), "the roster was never read"
        # Enrolled (or reinstated) now, the student opens the tool before the refresh writes.
        page = launcher.launch(launcher.app.test_client(), "student1")
        assert page.status_code == 200, page.get_data(as_text=True)
    finally:
        go.set()
        refreshing.join(CONDITION_SECONDS)
    assert not refreshing.is_alive()
    assert answers[0].status_code == 200, answers[0].get_data(as_text=True)

    services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        return session.scalar(
            select(Membership.status)
            .join(User, User.id == Membership.user_pk)
            .where(User.sub == NEWCOMER)
        )
