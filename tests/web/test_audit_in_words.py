"""The audit log says who a change was about and what changed, in words."""

from __future__ import annotations

from lti_tool.admin.audit_words import describe
from tests.support.lti import Launcher
from tests.support.pathway_web import csrf_token, open_tool, parse_html
from tests.web.test_admin_access import tool_admin


def test_a_saved_result_and_a_manual_completion_read_as_sentences(launcher: Launcher) -> None:
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    token = csrf_token(teacher.client.get("/staff/students/1001").get_data(as_text=True))
    saved = teacher.client.post(
        "/staff/class/results/1001",
        data={
            "csrf_token": token,
            "module": "B832",
            "score": "74",
            "outcome": "pass",
            "released": "1",
            "override_reason": "certificates checked",
        },
    )
    assert saved.status_code == 302
    teacher.client.post(
        "/staff/students/1001/completions",
        data={
            "csrf_token": token,
            "course_code": "GB080",
            "status": "completed",
            "completed_at": "2026-02-01",
            "reason": "certificate seen",
        },
    )
    page = parse_html(tool_admin(launcher.app).get("/admin/audit").get_data(as_text=True))
    said = [row.find_all("td")[3].text for row in page.find("tbody").find_all("tr")]
    assert any(
        s.startswith("Recorded GB080 for Sam Student as completed on 01/02/2026") for s in said
    ), said
    assert any(
        s.startswith("Set B832 result for Sam Student: Pass 74/100, released") for s in said
    ), said
    assert not [s for s in said if "{" in s or "'" in s], said
    # The stored values too are in words: yes/no and none, never Python's True/False/None.
    assert not [s for s in said if "True" in s or "False" in s or "None" in s], said
    assert any("Released: yes" in s for s in said), said
    assert any("Score: 74 Out of: 100" in s for s in said), said  # never 74.0


def test_changes_and_unknown_actions_in_words() -> None:
    old = {"score": 30.0, "max": 100.0, "outcome": "fail", "released": False}
    new = {"score": 74.0, "max": 100.0, "outcome": "pass", "released": True}
    assert describe("result.save", "B832", "Sam Student", old, new) == (
        "Changed B832 result for Sam Student from Fail 30/100, held to Pass 74/100, released"
    )
    assert (
        describe(
            "module_start.cohort",
            "B833",
            None,
            {"start_date": "2027-05-01"},
            {"start_date": "2027-10-31", "source": "staff"},
        )
        == "Set the cohort's B833 start to 31/10/2027 (was 01/05/2027)"
    )
    assert describe("x.change", "GB080", "Sam", {"completed_at": None}, {"completed_at": True}) == (
        "x: change GB080 for Sam (Completed on: none → yes)"
    )


def test_a_key_replaced_now_reads_as_a_sentence_naming_the_withdrawn_keys(
    launcher: Launcher,
) -> None:
    """After a compromise the audit log is where an admin checks which keys were withdrawn:
    the entry says so in words, never as field names and Python lists."""
    app = launcher.app
    client = tool_admin(app)
    first = app.test_client().get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    form = client.get("/admin/keys/rotate").get_data(as_text=True)
    for when in ("staged", "now"):
        client.post("/admin/keys/rotate", data={"csrf_token": csrf_token(form), "when": when})
    [new] = [k["kid"] for k in app.test_client().get("/.well-known/jwks.json").get_json()["keys"]]
    page = parse_html(client.get("/admin/audit?action=keys.rotate").get_data(as_text=True))
    # The sentence, before the stored values kept as they were written.
    cells = [row.find_all("td")[3].text for row in page.find("tbody").find_all("tr")]
    said = [cell.split("Stored values")[0].strip() for cell in cells]
    assert len(said) == 2, said
    routine, emergency = sorted(said, key=lambda s: "withdrew" in s)
    assert not [s for s in said if "[" in s or "'" in s or "signs_from" in s], said
    assert emergency.startswith(f"Replaced the signing key {first} at once with {new}"), said
    assert f"withdrew {first} from the key set" in emergency, said
    assert "pending" in emergency  # the staged key it replaced, by kid
    assert routine.startswith("Added signing key ") and f"to replace {first}" in routine, said
