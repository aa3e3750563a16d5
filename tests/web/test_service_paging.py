"""A platform's ``Link: rel="next"`` is followed within bounds (outside review): a next link
naming the page itself, or a list that never ends, cannot hold the tutor's first staff launch
(it reads the roster) or a line-item or tutor-group read for ever."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.course_groups import CourseGroupsService
from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import select
from werkzeug.test import TestResponse

from lti_tool.container import Services
from lti_tool.lti import claims as c
from lti_tool.lti.platform_services import service_connector
from lti_tool.lti.service_client import ServiceCallFailed, ToolServiceConnector
from lti_tool.lti.service_paging import MAX_PAGES_PER_READ
from lti_tool.persistence.models import Context, Registration
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.lti import Launcher
from tests.web.test_outbound_limits import Recorder

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
NRPS_MEDIA = b"application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
NO_MEMBERS = b'{"id":"x","context":{"id":"c"},"members":[]}'


def _page(body: bytes, link: bytes, media: bytes = b"application/json") -> bytes:
    """An HTTP answer carrying ``body`` and ``Link: <link>; rel="next"``."""
    return (
        b'HTTP/1.1 200 OK\r\nContent-Type: %s\r\nLink: <%s>; rel="next"\r\n'
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (media, link, len(body), body)
    )


def _finished(work: Callable[[], Any], seconds: float) -> list[Any]:
    """Run ``work`` on a thread of its own for up to ``seconds``: ``[its result or the
    exception it raised]``, or ``[]`` while it is still running (the thread is a daemon:
    before the fix the read goes on for ever)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    return outcome


@pytest.fixture
def listing() -> Iterator[Callable[[], Recorder]]:
    """Loopback servers on the sandbox registration's own host (127.0.0.1), so the service
    URL check lets them through; each is given its answer afterwards."""
    made: list[Recorder] = []

    def make() -> Recorder:
        made.append(Recorder(b""))
        return made[-1]

    yield make
    for server in made:
        server.close()


@SQLITE
def test_a_next_link_to_the_same_page_does_not_hold_the_staff_launch_for_ever(
    launcher: Launcher, platform: SandboxPlatform, listing: Callable[[], Recorder]
) -> None:
    looping = listing()
    url = f"http://127.0.0.1:{looping.port}/memberships"
    looping.answer = _page(NO_MEMBERS, url.encode(), NRPS_MEDIA)
    nrps = {"context_memberships_url": url, "service_versions": ["2.0"]}
    client = launcher.app.test_client()
    done = _finished(lambda: launcher.launch(client, "teacher1", changes={c.NRPS: nrps}), 15)
    pages = len(looping.received)
    assert done, f"the staff launch is still running after 15 s ({pages} NRPS pages read)"
    assert isinstance(done[0], TestResponse) and done[0].status_code == 200  # no roster
    assert pages == 1
    services: Services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        assert session.scalars(select(Context.roster_fetched_at)).one() is None


def _connector(tool: Flask, platform: SandboxPlatform) -> ToolServiceConnector:
    services: Services = tool.extensions["lti_tool"]
    with services.db.read_only() as session:
        registration_pk = session.scalar(
            select(Registration.id).where(Registration.issuer == platform.issuer)
        )
    assert registration_pk is not None
    return service_connector(services, registration_pk)


def _members(connector: ToolServiceConnector, url: str) -> Any:
    return NamesRolesProvisioningService(connector, {"context_memberships_url": url}).get_members()


def _groups(connector: ToolServiceConnector, url: str) -> Any:
    data: Any = {"scope": [c.GROUPS_SCOPE], "context_groups_url": url}
    return CourseGroupsService(connector, data).get_groups()  # type: ignore[no-untyped-call]


def _line_items(connector: ToolServiceConnector, url: str) -> Any:
    data: Any = {"lineitems": url, "scope": [c.SCOPE_LINEITEM_READ]}
    return AssignmentsGradesService(connector, data).get_lineitems()


@SQLITE
@pytest.mark.parametrize(
    ("read", "body"),
    [(_members, NO_MEMBERS), (_groups, b'{"groups":[]}'), (_line_items, b"[]")],
    ids=["memberships", "groups", "line items"],
)
def test_a_list_that_never_ends_stops_at_the_page_cap(
    tool: Flask,
    platform: SandboxPlatform,
    listing: Callable[[], Recorder],
    read: Callable[[ToolServiceConnector, str], Any],
    body: bytes,
) -> None:
    # A relative next link resolves against each page's URL: /list/more/, /list/more/more/, …
    endless = listing()
    endless.answer = _page(body, b"more/")
    connector = _connector(tool, platform)
    done = _finished(lambda: read(connector, f"http://127.0.0.1:{endless.port}/list/"), 240)
    assert done, f"still reading after 240 s ({len(endless.received)} pages)"
    refused = done[0]
    assert isinstance(refused, ServiceCallFailed), refused
    assert f"past {MAX_PAGES_PER_READ} pages" in refused.message
    assert not refused.retryable
    assert len(endless.received) == MAX_PAGES_PER_READ


@SQLITE
def test_a_list_of_a_few_pages_is_read_whole(tool: Flask, platform: SandboxPlatform) -> None:
    """The sandbox pages its roster with ``limit``: every member is read, twice over."""
    connector = _connector(tool, platform)
    url = platform.issuer + "/api/nrps/pgcert-cl-2027/memberships?limit=1"
    first, again = _members(connector, url), _members(connector, url)
    assert len(first) == len(platform.roster) > 1
    assert again == first
