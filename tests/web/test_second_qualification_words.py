"""A course on the fictitious wound-care certificate (tests/fixtures/qualifications): the
pages say its own rules, never the clinical-leadership certificate's."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from lti_tool.lti import claims as c
from lti_tool.lti.dynreg.configuration import PlatformConfiguration
from lti_tool.lti.dynreg.request import ToolUrls, client_registration
from lti_tool.resources import resource_dir
from tests.support.lti import Launcher
from tests.support.pathway_web import add_completions, csrf_token, open_tool, parse_html

WOUND_CARE = Path(__file__).parents[1] / "fixtures" / "qualifications" / "wound-care.toml"


@pytest.fixture
def wound_care(tmp_path: Path, sqlite_tool_factory: Any) -> Launcher:
    """A tool whose only qualification is the wound-care certificate."""
    folder = tmp_path / "qualifications"
    folder.mkdir()
    shutil.copy(WOUND_CARE, folder)
    launcher: Launcher = sqlite_tool_factory(
        qualifications_dir=str(folder), default_qualification="WOUND-CARE"
    )
    return launcher


def main_text(page: str) -> str:
    return parse_html(page).find("main").text


def test_the_pages_name_the_four_month_deadline(wound_care: Launcher) -> None:
    teacher = open_tool(wound_care, "teacher1")
    starts = teacher.client.put(
        "/api/context/module-starts", json={"WC1": "2026-10-01"}, headers=teacher.bearer
    )
    assert starts.status_code == 200, starts.get_data(as_text=True)
    staff_home = main_text(teacher.client.get("/staff/", headers=teacher.bearer).get_data(True))
    assert "They start the four-month clock" in staff_home
    open_tool(wound_care, "student1")
    # W01 begun before WC1's start: free of the deadline, and the page says which.
    began = ("in_progress", dt.date(2026, 9, 1), None)
    add_completions(wound_care.app, "1001", {"W01": began})
    student = main_text(open_tool(wound_care, "student1").page)
    assert "started before the module: no four-month deadline" in student
    assert "six-month" not in student and "six-month" not in staff_home


def test_a_completed_qualification_is_not_called_a_certificate(
    tmp_path: Path, sqlite_tool_factory: Any
) -> None:
    """A diploma (any qualification) whose every module is passed is "complete", not
    "Certificate complete"."""
    folder = tmp_path / "diploma"
    folder.mkdir()
    diploma = WOUND_CARE.read_text().replace("Certificate in Wound Care", "Diploma in Wound Care")
    (folder / "diploma.toml").write_text(diploma)
    launcher: Launcher = sqlite_tool_factory(
        qualifications_dir=str(folder), default_qualification="WOUND-CARE"
    )
    teacher = open_tool(launcher, "teacher1")
    open_tool(launcher, "student1")
    done = ("completed", dt.date(2026, 10, 2), dt.date(2026, 10, 20))
    courses = ("W01", "W02", "W03", "W04", "W05", "W08", "W10")
    add_completions(launcher.app, "1001", dict.fromkeys(courses, done))
    for module in ("WC1", "WC2", "WC3"):
        saved = teacher.client.put(
            f"/api/context/results/{module}/1001",
            json={"score": 70, "outcome": "pass", "released": True},
            headers=teacher.bearer,
        )
        assert saved.status_code == 200, saved.get_data(as_text=True)
    lede = parse_html(open_tool(launcher, "student1").page).find("p", cls="lede").text
    assert lede.startswith("Diploma in Wound Care · 20 of 20 credits")
    assert lede.endswith("Qualification complete") and "Certificate" not in lede


def test_what_the_lms_is_told_names_no_one_qualification(wound_care: Launcher) -> None:
    """The description an LMS shows for the tool (Canvas's developer-key JSON, a Dynamic
    Registration) holds for whatever qualifications config/ holds: it names none of them."""
    canvas = wound_care.app.test_client().get("/lti/canvas.json").get_json()
    config = PlatformConfiguration(
        configuration_url="https://canvas.example.edu/openid-configuration",
        issuer="https://canvas.instructure.com",
        authorization_endpoint="https://canvas.example.edu/auth",
        token_endpoint="https://canvas.example.edu/token",
        jwks_uri="https://canvas.example.edu/jwks",
        registration_endpoint="https://canvas.example.edu/register",
        product_family_code="canvas",
        version="2025",
        scopes_supported=(),
        messages={c.RESOURCE_LINK_REQUEST: ()},
    )
    settings = wound_care.app.extensions["lti_tool"].settings
    request = client_registration(config, ToolUrls.from_settings(settings))
    dynreg = request["https://purl.imsglobal.org/spec/lti-tool-configuration"]["description"]
    for description in (canvas["description"], dynreg):
        assert "checklist" in description
        assert "Certificate" not in description and "Clinical Leadership" not in description


def test_a_one_module_qualification_asks_for_its_modules_start(
    tmp_path: Path, sqlite_tool_factory: Any
) -> None:
    """The wound-care certificate cut to its first module: the empty start-dates form names
    the one module, not "at least one module (WC1)"."""
    folder = tmp_path / "one-module"
    folder.mkdir()
    text = WOUND_CARE.read_text()
    one = text[: text.index("[[modules]]", text.index('code = "WC1"'))]
    (folder / "one.toml").write_text(one.replace("credits_required = 20", "credits_required = 5"))
    launcher: Launcher = sqlite_tool_factory(
        qualifications_dir=str(folder), default_qualification="WOUND-CARE"
    )
    teacher = open_tool(launcher, "teacher1")
    refused = teacher.client.put("/api/context/module-starts", json={}, headers=teacher.bearer)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["message"] == "Enter a start date for WC1."


@pytest.fixture
def both(tmp_path: Path, sqlite_tool_factory: Any) -> Launcher:
    """A tool that knows the clinical-leadership certificate (its default) and wound care."""
    folder = tmp_path / "both"
    folder.mkdir()
    shutil.copy(
        resource_dir("config") / "qualifications" / "pgcert-clinical-leadership.toml", folder
    )
    shutil.copy(WOUND_CARE, folder)
    launcher: Launcher = sqlite_tool_factory(qualifications_dir=str(folder))
    return launcher


def test_a_qualification_the_link_sets_is_not_said_to_change(both: Launcher) -> None:
    """The LMS link (or the tool's settings in the LMS) gives qualification=WOUND-CARE, which
    beats the staff's choice: the settings page says so, and a choice made anyway is refused
    in words instead of being confirmed and then ignored."""
    teacher = open_tool(both, "teacher1", changes={c.CUSTOM: {"qualification": "WOUND-CARE"}})
    home = teacher.client.get("/staff/", headers=teacher.bearer).get_data(as_text=True)
    assert "This course tracks Certificate in Wound Care" in main_text(home)
    assert "qualification=WOUND-CARE" in main_text(home)
    chosen = teacher.client.put(
        "/api/context/qualification", json={"code": "PGCERT-CL"}, headers=teacher.bearer
    )
    assert chosen.status_code == 409, chosen.get_data(as_text=True)
    assert "qualification=WOUND-CARE" in chosen.get_json()["error"]["message"]
    page = teacher.client.post(
        "/staff/qualification",
        data={"csrf_token": csrf_token(home), "qualification": "PGCERT-CL"},
        headers=teacher.bearer,
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "now tracks" not in page
    assert "This course tracks Certificate in Wound Care" in main_text(page)


def test_a_link_naming_an_unknown_qualification_is_pointed_out(both: Launcher) -> None:
    """A typo in the LMS's custom parameter (WOUND_CARE for WOUND-CARE) leaves the course on
    the default: staff are told which code the link gives and which the tool knows."""
    teacher = open_tool(both, "teacher1", changes={c.CUSTOM: {"qualification": "WOUND_CARE"}})
    home = main_text(teacher.client.get("/staff/", headers=teacher.bearer).get_data(as_text=True))
    assert "This course tracks Postgraduate Certificate in Clinical Leadership" in home
    assert "qualification=WOUND_CARE" in home
    assert "PGCERT-CL, WOUND-CARE" in home
