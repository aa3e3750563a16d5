"""Marking from the pages: no outcome chosen for the tutor, nothing released by default, an
outcome that disagrees with the score confirmed, what was typed kept after a refusal with the
message next to its field, and bulk release confirmed with its numbers."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.persistence.models import AssessmentResultRow, Membership, User
from tests.support.lti import Launcher, without_binding
from tests.support.pathway_web import Node, Opened, csrf_token, open_tool, parse_html


def _teacher(launcher: Launcher) -> Opened:
    return open_tool(launcher, "teacher1")


def _preview(teacher: Opened, sub: str = "1001") -> Node:
    return parse_html(teacher.client.get(f"/staff/students/{sub}").get_data(as_text=True))


def _results(launcher: Launcher) -> list[tuple[str, str, float, str, bool]]:
    db = launcher.app.extensions["lti_tool"].db
    with db.read_only() as session:
        rows = session.scalars(select(AssessmentResultRow).order_by(AssessmentResultRow.id))
        return [(str(r.user_pk), r.module_code, r.score, r.outcome, r.released) for r in rows.all()]


def _form(teacher: Opened, **values: str) -> dict[str, str]:
    base = {"csrf_token": csrf_token(teacher.page), "module": "B832", "override_reason": "APL"}
    return {**base, **values}


def test_the_result_form_chooses_no_outcome_and_releases_nothing(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    page = _preview(teacher)
    outcome = page.find("select", id="result-outcome")
    selected = [o for o in outcome.find_all("option") if "selected" in o.attrs]
    assert [(o.attrs["value"], o.text) for o in selected] == [("", "Choose…")]
    assert "required" in outcome.attrs
    assert "checked" not in page.find("input", id="result-released").attrs
    # Sent without ticking the box, the result is held.
    saved = teacher.client.post(
        "/staff/class/results/1001", data=_form(teacher, score="70", outcome="pass")
    )
    assert saved.status_code == 302
    assert [(m, s, o, r) for _, m, s, o, r in _results(launcher)] == [("B832", 70.0, "pass", False)]


def test_a_refused_result_keeps_what_was_typed_next_to_its_message(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    typed = _form(teacher, score="seventy", max="80", outcome="fail", comment="Good structure")
    refused = teacher.client.post("/staff/class/results/1001", data={**typed, "released": "1"})
    assert refused.status_code == 422
    page = parse_html(refused.get_data(as_text=True))
    score = page.find("input", id="result-score")
    assert score.attrs["value"] == "seventy"
    assert score.attrs["aria-describedby"] == "result-score-error"
    assert score.attrs["aria-invalid"] == "true"
    message = page.find(id="result-score-error")
    assert message.text == "Score must be a number, not “seventy”."
    # The message sits in the score field's own box, next to the field.
    box = next(d for d in page.find_all("div") if score in d.children)
    assert message in box.children
    assert page.find("input", id="result-max").attrs["value"] == "80"
    assert page.find("input", id="result-comment").attrs["value"] == "Good structure"
    assert page.find("input", id="result-override").attrs["value"] == "APL"
    assert "checked" in page.find("input", id="result-released").attrs
    chosen = page.find("select", id="result-outcome").find("option", selected="")
    assert chosen.attrs["value"] == "fail"
    assert _results(launcher) == []


def test_a_pass_under_half_marks_is_confirmed_before_it_is_saved(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    typed = _form(teacher, score="30", outcome="pass")
    asked = teacher.client.post("/staff/class/results/1001", data=typed)
    assert asked.status_code == 422
    page = parse_html(asked.get_data(as_text=True))
    assert page.find(id="result-outcome-error").text == (
        "30 out of 100 is under half marks, and the outcome is Pass. B832 sets no pass mark: "
        "confirm the outcome to record Pass."
    )
    assert page.find("select", id="result-outcome").attrs["aria-describedby"] == (
        "result-outcome-error"
    )
    confirm = page.find("input", id="result-confirm")
    assert confirm.attrs["name"] == "outcome_confirmed" and "checked" not in confirm.attrs
    assert page.find("input", id="result-score").attrs["value"] == "30"
    assert _results(launcher) == []
    saved = teacher.client.post(
        "/staff/class/results/1001", data={**typed, "outcome_confirmed": "1"}
    )
    assert saved.status_code == 302
    assert [(s, o) for _, _, s, o, _ in _results(launcher)] == [(30.0, "pass")]


def test_a_cell_of_the_class_table_returns_to_the_class(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    form = _form(teacher, score="65", outcome="pass", back="class", filter="all", page="1")
    saved = teacher.client.post("/staff/class/results/1002", data=form)
    assert saved.status_code == 302
    assert without_binding(saved.headers["Location"]).startswith("/staff/class/?")
    assert "filter=all" in saved.headers["Location"]


def test_release_asks_with_its_numbers_first(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    for sub in ("1001", "1002"):
        teacher.client.post(
            f"/staff/class/results/{sub}", data=_form(teacher, score="70", outcome="pass")
        )
    teacher.client.post(
        "/staff/class/results/1001",
        data=_form(teacher, module="B833", score="20", outcome="fail"),
    )
    token = {"csrf_token": csrf_token(teacher.page)}
    asked = teacher.client.post("/staff/class/release", data=token)
    assert asked.status_code == 200
    page = parse_html(asked.get_data(as_text=True))
    question = "Release 2 B832 results and 1 B833 result to 2 students?"
    assert page.find(id="release-question").text == question
    button = page.find("button", type="submit")
    assert button.text == question[:-1] and button.classes == {"bulk"}
    cancel = page.find("a", cls="button")
    assert cancel.text == "Cancel" and "secondary" in cancel.classes
    assert not any(r for *_, r in _results(launcher))  # asking released nothing

    done = teacher.client.post(
        "/staff/class/release", data={**token, "confirmed": "1"}, follow_redirects=True
    )
    assert "Released 3 results; send them to the gradebook when ready." in done.get_data(
        as_text=True
    )
    assert all(r for *_, r in _results(launcher))
    again = teacher.client.post("/staff/class/release", data=token, follow_redirects=True)
    assert "There are no held results to release." in again.get_data(as_text=True)


def test_bulk_buttons_of_the_class_view_are_not_primary(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    page = parse_html(teacher.client.get("/staff/class/").get_data(as_text=True))
    release = next(b for b in page.find_all("button") if b.text.startswith("Release all"))
    sync = next(b for b in page.find_all("button") if b.text.startswith("Send released"))
    assert "bulk" in release.classes and "bulk" in sync.classes


def test_the_class_table_offers_a_result_cell_per_module_except_to_leavers(
    launcher: Launcher,
) -> None:
    teacher = _teacher(launcher)
    db = launcher.app.extensions["lti_tool"].db
    with db.unit_of_work() as session:
        leaver = session.scalar(
            select(Membership).join(User, User.id == Membership.user_pk).where(User.sub == "1002")
        )
        assert leaver is not None
        leaver.status = "left"
    page = parse_html(teacher.client.get("/staff/class/").get_data(as_text=True))
    cells = [(f.attrs["data-sub"], f.attrs["data-module"]) for f in page.find_all("form", "mark")]
    assert sorted(cells) == [
        ("1001", "B832"),
        ("1001", "B833"),
        ("1003", "B832"),
        ("1003", "B833"),
        ("1005", "B832"),
        ("1005", "B833"),
    ]
    cell = page.find("form", "mark", **{"data-sub": "1001", "data-module": "B832"})
    outcome = cell.find("select", name="outcome")
    assert outcome.attrs["aria-label"] == "B832 outcome for Sam Student"
    assert [o.attrs["value"] for o in outcome.find_all("option", selected="")] == [""]
    assert not cell.find_all("input", name="released")  # nothing released from the table
    assert cell.find("span", "mark-state").attrs["aria-live"] == "polite"
