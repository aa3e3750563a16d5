"""An erased person is nowhere: after the approval, a dump of every table (and, with Redis,
every key of the tool) holds neither their name nor their email, whatever the store held
about them (live and expired launch sessions, a member of staff's flashed message naming them,
the login state of a login they never finished)."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.container import Services
from lti_tool.lti.launch_context import LaunchUser
from lti_tool.lti.store import DatabaseStore
from lti_tool.persistence.models import User
from lti_tool.privacy.erasure import approve, list_requests
from tests.support.dump import dump_everything
from tests.support.launches import a_launch
from tests.support.lti import Launcher
from tests.support.pathway_web import csrf_token, user_pk
from tests.support.privacy import privacy_launch, seed_student_data

SAM = ("Sam Student", "sam.student@example.org")
PRIYA = ("Priya Patel", "priya.patel@example.org")


def _found(dump: str, needles: tuple[str, ...]) -> list[str]:
    return [n for n in needles if re.search(re.escape(n), dump, flags=re.IGNORECASE)]


def test_an_erased_person_is_in_no_table_and_no_store_key(launcher: Launcher) -> None:
    # Attack: erasure skipped expired launch sessions (which hold name and email) and every
    # other kind of stored value, so a dump still named the erased person.
    services: Services = launcher.app.extensions["lti_tool"]
    seed_student_data(launcher)
    sam = user_pk(launcher.app, "1001")
    # A launch session past its time to live, not yet purged (in the database table: where
    # the store keeps it without Redis, and what was written before Redis was configured).
    DatabaseStore(services.db).put(
        "session",
        "expired-sam",
        a_launch(user=LaunchUser(pk=sam, sub="1001", name=SAM[0], email=SAM[1])).to_json(),
        ttl=-60,
    )
    # …and one written by an earlier version (launch format 1, a loose dict).
    DatabaseStore(services.db).put(
        "session",
        "expired-sam-format-1",
        {"user_pk": sam, "name": SAM[0], "email": SAM[1], "sub": "1001"},
        ttl=-60,
    )
    # A tutor's page session whose flashed message names him.
    services.store.put(
        "flask_session",
        "tutor-page",
        {"csrf_token": "t", "_flashes": [["ok", f"Result saved for {SAM[0]}."]]},
        600,
    )
    # A login he started and never finished: its state holds the platform's login hint.
    launcher.login(launcher.app.test_client(), "student1")
    # He asks for erasure from the privacy page; a tool admin approves.
    client, page = privacy_launch(launcher, "student1")
    asked = client.post(
        "/privacy/erasure",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "reason": "Leaving"},
    )
    assert asked.status_code == 302
    assert _found(dump_everything(services), SAM) == list(SAM)  # he was there
    with services.db.read_only() as session:
        [request] = list_requests(session)

    approve(services, request.id, "tool admin root")

    dump = dump_everything(services)
    assert _found(dump, SAM) == [], [line for line in dump.splitlines() if "Sam" in line]
    assert not re.search(r"(?<![\w-])1001(?![\w-])", dump)  # nor his platform id
    # Everybody else's data is still there: the dump is not simply empty.
    assert _found(dump, PRIYA) == list(PRIYA)
    with services.db.read_only() as session:
        assert session.scalars(select(User.sub).where(User.sub == "1002")).all() == ["1002"]
