"""The staff home page a launch lands on reads the course's settings once and its members in
one statement, however many members the course has (issue 14: the landing GET is part of the
launch)."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.persistence.models import Context, Membership, User
from tests.support.lti import Launcher
from tests.support.statements import sql_statements


def _add_members(launcher: Launcher, count: int) -> None:
    with launcher.app.extensions["lti_tool"].db.unit_of_work() as session:
        context = session.scalars(select(Context)).one()
        registration_id = session.scalars(select(User.registration_id)).first()
        for n in range(count):
            user = User(registration_id=registration_id, sub=f"extra-{n}", name=f"Extra {n}")
            session.add(user)
            session.flush()
            session.add(
                Membership(
                    context_pk=context.id,
                    user_pk=user.id,
                    roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
                )
            )


def _staff_home(launcher: Launcher) -> tuple[str, list[str]]:
    client = launcher.app.test_client()
    launched = launcher.launch(client, "teacher1")
    assert launched.status_code == 200
    with sql_statements(launcher.app) as seen:
        page = client.get("/staff/")
    assert page.status_code == 200
    return page.get_data(as_text=True), seen


def test_the_staff_home_page_takes_the_same_few_statements_for_any_class(
    launcher: Launcher,
) -> None:
    _, small = _staff_home(launcher)
    _add_members(launcher, 30)
    page, large = _staff_home(launcher)
    assert "Extra 29" in page
    assert len(large) == len(small), "\n".join([*small, "----", *large])
    settings_reads = [sql for sql in large if "from context_settings" in sql]
    assert len(settings_reads) == 1, large
    assert len(large) <= 4, large
