"""The qualification a course tracks: chosen by staff, named by the link, or inherited by a
copied course."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lti_tool.lti import claims as c
from lti_tool.persistence.models import Context, ContextSettings
from lti_tool.sandbox.demo_people import DEMO_CONTEXT
from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, audit_rows, open_tool


def tracked(person: Opened) -> tuple[str, list[str]]:
    """The qualification a person's checklist follows, and its modules."""
    if person.client.get("/api/session", headers=person.bearer).get_json()["is_staff"]:
        body = person.client.get("/api/context/module-starts", headers=person.bearer).get_json()
        return body["qualification"], [m["code"] for m in body["modules"]]
    checklist = person.client.get("/api/me/checklist", headers=person.bearer).get_json()
    return checklist["qualification"]["code"], [m["code"] for m in checklist["modules"]]


def choose(teacher: Opened, code: Any) -> Any:
    return teacher.client.put(
        "/api/context/qualification", json={"code": code}, headers=teacher.bearer
    )


def course(context_id: str, history: str | None = None, **custom: str) -> dict[str, Any]:
    """Claims for a launch in another course (``history``: its custom context_history)."""
    claims: dict[str, Any] = {
        c.CONTEXT: {**DEMO_CONTEXT, "id": context_id},
        c.CUSTOM: {"context_history": history or "", **custom},
    }
    return claims


def test_staff_choose_a_qualification_and_unknown_codes_are_refused(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    response = choose(teacher, "PGCERT-CL")
    assert response.status_code == 200
    assert response.get_json() == {"qualification": "PGCERT-CL"}
    for code in ("NOPE", "", None, "pgcert-cl"):
        refused = choose(teacher, code)
        assert refused.status_code == 400, code
        error = refused.get_json()["error"]
        assert error["code"] == "unknown_qualification"
        assert "known: PGCERT-CL" in error["message"]
    (row,) = audit_rows(launcher.app)
    assert row["action"] == "qualification.choose"
    assert (row["old"], row["new"]) == ({"qualification": None}, {"qualification": "PGCERT-CL"})


def test_the_staff_choice_applies_to_the_course(two_qualifications: Launcher) -> None:
    student = open_tool(two_qualifications, "student1")
    teacher = open_tool(two_qualifications, "teacher1")
    assert tracked(student) == ("PGCERT-CL", ["B832", "B833"])
    assert choose(teacher, "TEST-DIP").get_json() == {"qualification": "TEST-DIP"}
    assert tracked(student) == ("TEST-DIP", ["X100", "X200"])
    assert tracked(teacher) == ("TEST-DIP", ["X100", "X200"])
    # Module codes are now the diploma's.
    starts = "/api/context/module-starts"
    assert (
        teacher.client.put(starts, json={"B832": "2027-05-30"}, headers=teacher.bearer).status_code
        == 422
    )
    assert (
        teacher.client.put(starts, json={"X100": "2027-09-01"}, headers=teacher.bearer).status_code
        == 200
    )
    choose(teacher, "PGCERT-CL")
    assert [
        (r["old"], r["new"])
        for r in audit_rows(two_qualifications.app)
        if r["action"] == "qualification.choose"
    ] == [
        ({"qualification": None}, {"qualification": "TEST-DIP"}),
        ({"qualification": "TEST-DIP"}, {"qualification": "PGCERT-CL"}),
    ]


def test_the_link_custom_parameter_names_the_qualification(two_qualifications: Launcher) -> None:
    teacher = open_tool(two_qualifications, "teacher1")
    diploma_link = open_tool(
        two_qualifications, "student1", {c.CUSTOM: {"qualification": "TEST-DIP"}}
    )
    plain_link = open_tool(two_qualifications, "student2")
    assert tracked(diploma_link)[0] == "TEST-DIP"
    assert tracked(plain_link)[0] == "PGCERT-CL"
    # The link's parameter wins over the staff's choice; an unknown one is ignored.
    choose(teacher, "TEST-DIP")
    certificate_link = open_tool(
        two_qualifications, "student3", {c.CUSTOM: {"qualification": "PGCERT-CL"}}
    )
    assert tracked(certificate_link)[0] == "PGCERT-CL"
    typo = open_tool(two_qualifications, "student2", {c.CUSTOM: {"qualification": "NOPE"}})
    assert tracked(typo)[0] == "TEST-DIP"


def test_a_copied_course_inherits_the_qualification_choice(two_qualifications: Launcher) -> None:
    app = two_qualifications.app
    old_course = open_tool(two_qualifications, "teacher1")
    choose(old_course, "TEST-DIP")
    copy = open_tool(two_qualifications, "teacher1", course("pgcert-cl-2028", "pgcert-cl-2027"))
    assert tracked(copy)[0] == "TEST-DIP"
    unrelated = open_tool(two_qualifications, "teacher1", course("another-course"))
    assert tracked(unrelated)[0] == "PGCERT-CL"
    unsubstituted = open_tool(two_qualifications, "teacher1", course("c3", "$Context.id.history"))
    assert tracked(unsubstituted)[0] == "PGCERT-CL"
    # Several ids, the first unknown; the first known one with settings is copied.
    chain = open_tool(two_qualifications, "teacher1", course("c4", "gone, pgcert-cl-2028"))
    assert tracked(chain)[0] == "TEST-DIP"
    with app.extensions["lti_tool"].db.read_only() as session:
        ids = dict(session.execute(select(Context.context_id, Context.id)).all())
        copied = session.get(ContextSettings, ids["pgcert-cl-2028"])
        assert copied is not None and copied.copied_from_context_pk == ids["pgcert-cl-2027"]

    # Copied once: later changes to either course stay in that course.
    choose(copy, "PGCERT-CL")
    again = open_tool(two_qualifications, "teacher1", course("pgcert-cl-2028", "pgcert-cl-2027"))
    assert tracked(again)[0] == "PGCERT-CL"
    assert tracked(old_course)[0] == "TEST-DIP"
