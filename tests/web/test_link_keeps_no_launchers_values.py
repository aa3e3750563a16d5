"""A resource link is the course's, not one student's: a platform fills some custom parameters
in for each launcher (Canvas keys made before the tool stopped asking for it still send
``canvas_user_id=$Canvas.user.id``), and the link's row must keep none of them. It held the
last launcher's Canvas id, which an erasure of that student left behind, and every launch by
another student rewrote the row, so a class opening the link at once queued on its lock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lti_tool.lti import claims as c
from lti_tool.persistence.models import ResourceLink
from tests.support.lti import Launcher


def _link(launcher: Launcher) -> tuple[dict[str, Any], Any]:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        row = session.scalars(select(ResourceLink)).one()
        return dict(row.custom), row.updated_at


def _open(launcher: Launcher, user: str, canvas_id: str) -> None:
    custom = {"canvas_user_id": canvas_id, "view": "assessment", "module": "B832"}
    launcher.launch(launcher.app.test_client(), user, changes={c.CUSTOM: custom})


def test_the_link_keeps_only_what_the_link_says(launcher: Launcher) -> None:
    _open(launcher, "student1", "1001")
    custom, written = _link(launcher)
    assert custom == {"view": "assessment", "module": "B832"}

    _open(launcher, "student2", "1002")
    assert _link(launcher) == (custom, written)  # not rewritten for another student
