"""Grade sync sends each module's scores to that module's own gradebook column: the column
listed with the module's code, else the line item of the module's own placement (Deep
Linking places one graded link per module, custom ``module``), else one the tool may make;
never the column of another link. A module with none is explained to the tutor."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from lti_tool.lti import claims as c
from tests.support.grade_sync import record_result, run_sync
from tests.support.lti import Launcher, launch_token

UNMET = {"override_reason": "Assessed before the CPD record"}
ADMIN_ADVICE = "ask your LMS administrator to let the tool manage gradebook columns"


def _launch_from_link(
    launcher: Launcher,
    client: FlaskClient,
    link: str,
    ags_claim: dict[str, Any],
    custom: dict[str, str],
) -> dict[str, str]:
    """A tutor's launch from resource link ``link`` carrying ``ags_claim``: its API headers."""
    page = launcher.launch(
        client,
        "teacher1",
        changes={
            c.RESOURCE_LINK: {"id": link, "title": link},
            c.AGS: ags_claim,
            c.CUSTOM: custom,
        },
    )
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return {"Authorization": f"Bearer {launch_token(page.get_data(as_text=True))}"}


def _placed_modules(
    launcher: Launcher, ags: Any, client: FlaskClient, scopes: list[str], modules: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each of ``modules`` placed by Deep Linking (a link whose column has the module's code
    as resourceId) and launched once: the columns by module, and the last launch's headers."""
    columns: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for module in modules:
        link = f"link-{module.lower()}"
        columns[module] = ags.add_lineitem(
            module, 100, resource_id=module, tag=module, resource_link_id=link
        )
        claim = {
            "scope": scopes,
            "lineitems": ags.lineitems_url,
            "lineitem": ags.lineitem_url(columns[module].id),
        }
        headers = _launch_from_link(
            launcher, client, link, claim, {"view": "assessment", "module": module}
        )
    return columns, headers


def test_score_only_platform_sends_each_module_to_its_own_links_column(
    launcher: Launcher, ags: Any
) -> None:
    """Moodle's "grade sync only" with column reading: a B832 result lands in the B832
    link's column, not in the column of whichever link was launched first."""
    client = launcher.app.test_client()
    scopes = [c.SCOPE_LINEITEM_READ, c.SCOPE_RESULT, c.SCOPE_SCORE]
    columns, headers = _placed_modules(launcher, ags, client, scopes, ["B833", "B832"])
    record_result(client, headers, "1001", 72, "B832", **UNMET)
    job = run_sync(client, headers)
    assert (job["done"], job["failed"]) == (1, 0), job
    assert [p.body["scoreGiven"] for p in ags.accepted_scores(columns["B832"].id)] == [72]
    assert ags.accepted_scores(columns["B833"].id) == []
    assert ags.lineitem_creates == []


def test_score_alone_sends_each_module_to_its_placements_line_item(
    launcher: Launcher, ags: Any
) -> None:
    """Only ``score`` granted (no column may be read): each module's scores go to the line
    item its own placement's launches carried."""
    client = launcher.app.test_client()
    columns, headers = _placed_modules(launcher, ags, client, [c.SCOPE_SCORE], ["B832", "B833"])
    record_result(client, headers, "1001", 72, "B832", **UNMET)
    record_result(client, headers, "1001", 41, "B833", **UNMET)
    job = run_sync(client, headers)
    assert (job["done"], job["failed"]) == (2, 0), job
    assert [p.body["scoreGiven"] for p in ags.accepted_scores(columns["B832"].id)] == [72]
    assert [p.body["scoreGiven"] for p in ags.accepted_scores(columns["B833"].id)] == [41]
    assert not any(call.split("?")[0].endswith("/lineitems") for call in ags.calls)


def test_score_only_platform_does_not_put_two_modules_in_one_column(
    launcher: Launcher, ags: Any
) -> None:
    """Launched only from a link that is no module's (its own column is the pathway's): the
    two modules' scores are not sent into that one column, where the second would overwrite
    the first while both showed "delivered". The tutor is told what to set up."""
    own = ags.add_lineitem("Pathway", 100, resource_link_id="link-checklist-graded")
    client = launcher.app.test_client()
    claim = {"scope": [c.SCOPE_SCORE], "lineitems": ags.lineitems_url}
    claim["lineitem"] = ags.lineitem_url(own.id)
    headers = _launch_from_link(
        launcher, client, "link-checklist-graded", claim, {"context_history": ""}
    )
    record_result(client, headers, "1001", 72, "B832", **UNMET)
    record_result(client, headers, "1001", 41, "B833", **UNMET)
    job = run_sync(client, headers)
    assert (job["status"], job["done"], job["failed"]) == ("done", 0, 2), job
    assert ags.score_posts == []
    for item in job["items"]:
        assert item["status"] == "failed"
        assert f"Add the {item['module']} assessment link to the course" in item["error"]
        assert ADMIN_ADVICE in item["error"]
    page = client.get("/staff/class/", headers=headers).get_data(as_text=True)
    assert ADMIN_ADVICE in page


def test_a_module_without_a_column_waits_and_the_others_go_on(launcher: Launcher, ags: Any) -> None:
    """Columns readable but not made by the tool: the placed module's score is delivered, the
    unplaced one's is "failed" with words; once the LMS lets the tool manage columns, the next
    sync makes the column and sends it."""
    client = launcher.app.test_client()
    readable = [c.SCOPE_LINEITEM_READ, c.SCOPE_RESULT, c.SCOPE_SCORE]
    columns, headers = _placed_modules(launcher, ags, client, readable, ["B832"])
    record_result(client, headers, "1001", 72, "B832", **UNMET)
    record_result(client, headers, "1001", 41, "B833", **UNMET)
    job = run_sync(client, headers)
    assert (job["status"], job["done"], job["failed"]) == ("done", 1, 1), job
    [waiting] = [i for i in job["items"] if i["module"] == "B833"]
    assert waiting["status"] == "failed" and ADMIN_ADVICE in waiting["error"]
    assert [p.body["scoreGiven"] for p in ags.accepted_scores(columns["B832"].id)] == [72]
    assert [p.lineitem_id for p in ags.score_posts] == [columns["B832"].id]

    managed = [c.SCOPE_LINEITEM, c.SCOPE_RESULT, c.SCOPE_SCORE]
    claim = {"scope": managed, "lineitems": ags.lineitems_url}
    claim["lineitem"] = ags.lineitem_url(columns["B832"].id)
    headers = _launch_from_link(
        launcher, client, "link-b832", claim, {"view": "assessment", "module": "B832"}
    )
    again = run_sync(client, headers)
    assert (again["total"], again["done"], again["failed"]) == (1, 1, 0), again
    [made] = ags.lineitem_creates
    assert made.resource_id == "B833"
    assert [p.body["scoreGiven"] for p in ags.accepted_scores(made.id)] == [41]


def test_a_module_column_is_not_attached_to_another_modules_link(
    launcher: Launcher, ags: Any
) -> None:
    """AGS: a line item's resourceLinkId binds it to that link (Moodle files the column under
    that activity and deletes it with it). The B833 column the tool makes is not bound to the
    B832 module's link, nor to any other link."""
    client = launcher.app.test_client()
    managed = [c.SCOPE_LINEITEM, c.SCOPE_RESULT, c.SCOPE_SCORE]
    _, headers = _placed_modules(launcher, ags, client, managed, ["B832"])
    record_result(client, headers, "1001", 64, "B833", **UNMET)
    job = run_sync(client, headers)
    assert job["done"] == 1, job
    [created] = ags.lineitem_creates
    assert (created.resource_id, created.resource_link_id) == ("B833", None)


def test_a_column_made_for_a_placed_module_is_bound_to_its_own_link(
    launcher: Launcher, ags: Any
) -> None:
    """A module placed without a column of its own (its launches carry no line item): the
    column the tool makes for it is bound to that placement."""
    client = launcher.app.test_client()
    claim = {"scope": [c.SCOPE_LINEITEM, c.SCOPE_SCORE], "lineitems": ags.lineitems_url}
    module = {"view": "assessment", "module": "B833"}
    headers = _launch_from_link(launcher, client, "link-b833", claim, module)
    record_result(client, headers, "1001", 64, "B833", **UNMET)
    assert run_sync(client, headers)["done"] == 1
    [created] = ags.lineitem_creates
    assert (created.resource_id, created.resource_link_id) == ("B833", "link-b833")
