"""A Canvas link's own custom parameters are merged over the tool's (Canvas's
``ResourceLinkRequest#unexpanded_custom_parameters``: ``super.merge!(resource_link.custom)``),
and a teacher sets them on an assignment (the edit form's ``custom_params``, filled from a Deep
Linking answer in the teacher's browser). A link whose ``canvas_user_id`` is another student's
Canvas id, a literal, must not make the tool read that student's progress for whoever opens it,
on the student's own page or in the class refresh."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.lti import claims as c
from lti_tool.persistence.models import CompletionRecord, User
from lti_tool.sandbox.demo_data import STUDENT1
from tests.support.class_refresh import finished_refresh, with_canvas_source
from tests.support.lti import Launcher, launch_token

# Sam (student1) has GB080-GB084 done; Priya (student2) only GB080 (sandbox demo data).
SAMS_ID_ON_THE_LINK = {"canvas_user_id": str(STUDENT1), "canvas_course_id": "2"}


def _statuses(client: Any, token: str) -> dict[str, str]:
    response = client.get("/api/me/checklist", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    modules = response.get_json()["modules"]
    return {r["code"]: r["status"] for m in modules for r in m["requirements"]}


def _completed(launcher: Launcher, sub: str) -> list[str]:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        user_pk = session.scalar(select(User.id).where(User.sub == sub))
        return sorted(
            session.scalars(
                select(CompletionRecord.course_code).where(
                    CompletionRecord.user_pk == user_pk, CompletionRecord.status == "completed"
                )
            ).all()
        )


@pytest.mark.parametrize("mode", ["course", "activity"])
def test_a_link_naming_another_students_canvas_id_shows_a_student_only_their_own(
    launcher: Launcher, mode: str
) -> None:
    with_canvas_source(launcher, mode)
    priya = launcher.app.test_client()
    response = launcher.launch(priya, "student2", changes={c.CUSTOM: SAMS_ID_ON_THE_LINK})
    statuses = _statuses(priya, launch_token(response.get_data(as_text=True)))
    assert statuses["GB080"] == "completed"
    assert [statuses[code] for code in ("GB082", "GB083", "GB084")] != ["completed"] * 3
    assert _completed(launcher, "1002") == ["GB080"]


def test_the_class_refresh_reads_each_student_as_canvas_knows_their_sub(
    launcher: Launcher,
) -> None:
    # Priya opened the link before the source was set up: only what her launch said was kept.
    launcher.launch(launcher.app.test_client(), "student2", changes={c.CUSTOM: SAMS_ID_ON_THE_LINK})
    with_canvas_source(launcher)
    staff = launcher.app.test_client()
    token = launch_token(launcher.launch(staff, "teacher1").get_data(as_text=True))
    headers = {"Authorization": f"Bearer {token}"}
    assert staff.post("/api/context/completions/refresh", headers=headers).status_code == 202
    finished_refresh(staff, headers)
    assert _completed(launcher, "1002") == ["GB080"]
    # Students the roster lists but who never launched are read too: Canvas names them.
    assert _completed(launcher, "1001") == ["GB080", "GB081", "GB082", "GB083", "GB084"]
